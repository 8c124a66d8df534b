// Vendor quirks become explicit, exact values, and the JSON Schema describes what is emitted.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LosslessNumber } from '@tapline/singer';
import { coerce, normaliseIsoDateTime, recordJsonSchema } from '../src/index.js';

const parse = (schema: z.ZodType, value: unknown) => schema.safeParse(value);

describe('coerce.decimal', () => {
  it('keeps the exact digits of strings, numbers, bigints and LosslessNumbers', () => {
    expect(parse(coerce.decimal(), '2.00').data).toBe('2.00');
    expect(parse(coerce.decimal(), ' +32.4 ').data).toBe('32.4');
    expect(parse(coerce.decimal(), 90).data).toBe('90');
    expect(parse(coerce.decimal(), 1e-7).data).toBe('0.0000001');
    expect(parse(coerce.decimal(), 12345678901234567890n).data).toBe('12345678901234567890');
    expect(parse(coerce.decimal(), new LosslessNumber('0.1000000000000000055511')).data).toBe('0.1000000000000000055511');
  });
  it('refuses what is not a number', () => {
    for (const bad of ['', 'abc', '1,5', null, {}, Number.NaN]) expect(parse(coerce.decimal(), bad).success, String(bad)).toBe(false);
  });
  it('is a string with format x-singer.decimal in JSON Schema', () => {
    expect(recordJsonSchema(z.object({ p: coerce.numberFromString() })).properties).toEqual({ p: { type: 'string', format: 'x-singer.decimal' } });
  });
});

describe('the other coercions', () => {
  it('integer: numeric strings to integers, refusing fractions and unsafe integers', () => {
    expect(parse(coerce.integer(), '64776').data).toBe(64776);
    expect(parse(coerce.integer(), 7).data).toBe(7);
    expect(parse(coerce.integer(), '1.5').success).toBe(false);
    expect(parse(coerce.integer(), '12345678901234567890').success).toBe(false);
  });
  it('booleanFromYesNo', () => {
    expect(parse(coerce.booleanFromYesNo(), 'Yes').data).toBe(true);
    expect(parse(coerce.booleanFromYesNo(), 'no').data).toBe(false);
    expect(parse(coerce.booleanFromYesNo(), true).data).toBe(true);
    expect(parse(coerce.booleanFromYesNo(), 'maybe').success).toBe(false);
  });
  it('secondsFromDuration: HH:MM:SS and H:MM:SS', () => {
    expect(parse(coerce.secondsFromDuration(), '00:50:08').data).toBe(3008);
    expect(parse(coerce.secondsFromDuration(), '1:00:01').data).toBe(3601);
    expect(parse(coerce.secondsFromDuration(), '100:00:00').data).toBe(360000);
    expect(parse(coerce.secondsFromDuration(), '"00:50:08').success).toBe(false);
    expect(parse(coerce.secondsFromDuration(), '0:61:00').success).toBe(false);
  });

  it('secondsFromDuration: fractions are kept exactly, never rounded; bare seconds are seconds', () => {
    expect(parse(coerce.secondsFromDuration(), '2:47:53.076906').data).toBe(10073.076906);
    expect(JSON.stringify(parse(coerce.secondsFromDuration(), '2:47:53.076906').data)).toBe('10073.076906');
    expect(parse(coerce.secondsFromDuration(), '0:00:00.5').data).toBe(0.5);
    expect(parse(coerce.secondsFromDuration(), '1:00:01.000000').data).toBe(3601);
    expect(parse(coerce.secondsFromDuration(), '0.00').data).toBe(0);
    expect(parse(coerce.secondsFromDuration(), '12.25').data).toBe(12.25);
    expect(parse(coerce.secondsFromDuration(), 90).data).toBe(90);
    expect(parse(coerce.secondsFromDuration(), '2:47:53.').success).toBe(false);
    expect(parse(coerce.secondsFromDuration(), '-0:00:01').success).toBe(false);
    expect(parse(coerce.secondsFromDuration(), '').success).toBe(false);
    expect(recordJsonSchema(z.object({ d: coerce.secondsFromDuration() })).properties).toMatchObject({ d: { type: 'number', minimum: 0 } });
  });
  it('isoFromUnixSeconds: numbers or numeric strings to UTC ISO 8601', () => {
    expect(parse(coerce.isoFromUnixSeconds(), 1339778290).data).toBe('2012-06-15T16:38:10Z');
    expect(parse(coerce.isoFromUnixSeconds(), '1339778290').data).toBe('2012-06-15T16:38:10Z');
    expect(parse(coerce.isoFromUnixSeconds(), 'yesterday').success).toBe(false);
  });
  it('isoDateTime: offsets, milliseconds and microseconds normalised to UTC, digits kept', () => {
    expect(normaliseIsoDateTime('2024-03-01T10:00:00.123456+02:00')).toBe('2024-03-01T08:00:00.123456Z');
    expect(normaliseIsoDateTime('2024-03-01T10:00:00.500Z')).toBe('2024-03-01T10:00:00.5Z');
    expect(normaliseIsoDateTime('2024-03-01 10:00:00-0530')).toBe('2024-03-01T15:30:00Z');
    expect(normaliseIsoDateTime('2024-02-30T10:00:00Z')).toBeUndefined();
    expect(parse(coerce.isoDateTime(), '2024-03-01T10:00:00').data).toBe('2024-03-01T10:00:00Z');
    expect(parse(coerce.isoDateTime({ naive: 'reject' }), '2024-03-01T10:00:00').success).toBe(false);
  });
  it('emptyAsNull turns the vendor\'s "" into null', () => {
    expect(parse(coerce.emptyAsNull(coerce.decimal()), '').data).toBeNull();
    expect(parse(coerce.emptyAsNull(coerce.decimal()), '1.5').data).toBe('1.5');
  });
});

describe('recordJsonSchema', () => {
  it('writes nullable as a null type, optional as not required, and formats without zod regexes', () => {
    const schema = recordJsonSchema(
      z.object({
        id: z.number().int(),
        email: z.string().nullable(),
        note: z.string().optional(),
        at: z.iso.datetime({ offset: true }),
        finished: coerce.isoFromUnixSeconds(),
        grading: coerce.emptyAsNull(coerce.booleanFromYesNo()),
        score: coerce.decimal().nullable(),
        certificate: coerce.emptyAsNull(z.string().url()).optional(),
      }),
    );
    expect(schema.$schema).toBeUndefined();
    expect(schema.additionalProperties).toBeUndefined();
    expect(schema.required).toEqual(['id', 'email', 'at', 'finished', 'grading', 'score']);
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    expect(properties.email).toEqual({ type: ['string', 'null'] });
    expect(properties.note).toEqual({ type: 'string' });
    expect(properties.at).toEqual({ type: 'string', format: 'date-time' });
    expect(properties.finished).toEqual({ type: 'string', format: 'date-time' });
    expect(properties.grading).toEqual({ type: ['boolean', 'null'] });
    expect(properties.score).toEqual({ type: ['string', 'null'], format: 'x-singer.decimal' });
    expect(properties.certificate).toEqual({ type: ['string', 'null'], format: 'uri' });
  });
});
