// Vendor quirks become explicit, exact values, and the JSON Schema describes what is emitted.

import { LosslessNumber } from '@tapline/singer';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
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
    expect(recordJsonSchema(z.object({ p: coerce.numberFromString() })).properties).toEqual({
      p: { type: 'string', format: 'x-singer.decimal' },
    });
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
    expect(parse(coerce.blankAsNull(coerce.text()), '  ').data).toBeNull();
    expect(parse(coerce.blankAsNull(coerce.text()), undefined).data).toBeNull();
    expect(parse(coerce.blankAsNull(coerce.text()), ' a ').data).toBe(' a ');
  });
});

describe('every lossless spelling a vendor uses', () => {
  const TRUE = [true, 1, '1', 'Yes', 'yes', 'YES', 'y', 'true', 'True', ' true ', new LosslessNumber('1')];
  const FALSE = [false, 0, '0', 'No', 'no', 'n', 'false', 'FALSE', new LosslessNumber('0')];
  it('boolean reads true, 1, "1", "Yes", "true" (and their false forms) in any case', () => {
    for (const spelling of TRUE) expect(parse(coerce.boolean(), spelling).data, JSON.stringify(spelling)).toBe(true);
    for (const spelling of FALSE) expect(parse(coerce.boolean(), spelling).data, JSON.stringify(spelling)).toBe(false);
    expect(parse(coerce.booleanFromYesNo(), 1).data).toBe(true);
  });
  it('boolean refuses what is no boolean, naming the spellings it reads', () => {
    for (const bad of ['maybe', 2, '', null, {}, [], 'f']) expect(parse(coerce.boolean(), bad).success, JSON.stringify(bad)).toBe(false);
    expect(parse(coerce.boolean(), 'maybe').error?.issues[0]?.message).toBe(
      'expected a boolean (true/false, 1/0, "1"/"0", "true"/"false", "Yes"/"No" or "y"/"n"), got "maybe"',
    );
    expect(recordJsonSchema(z.object({ b: coerce.boolean() })).properties).toEqual({ b: { type: 'boolean' } });
  });
  it('booleanAsInteger keeps an integer column whatever spelling of pass or fail arrives', () => {
    for (const spelling of TRUE) expect(parse(coerce.booleanAsInteger(), spelling).data, JSON.stringify(spelling)).toBe(1);
    for (const spelling of FALSE) expect(parse(coerce.booleanAsInteger(), spelling).data, JSON.stringify(spelling)).toBe(0);
    expect(parse(coerce.booleanAsInteger(), 2).success).toBe(false);
    expect(parse(coerce.emptyAsNull(coerce.booleanAsInteger()), '').data).toBeNull();
    expect(recordJsonSchema(z.object({ passed: coerce.emptyAsNull(coerce.booleanAsInteger()).optional() })).properties).toMatchObject({
      passed: { type: ['integer', 'null'] },
    });
  });
  it('integer reads numbers sent as strings, also with a zero fraction, and never rounds', () => {
    expect(parse(coerce.integer(), ' 42 ').data).toBe(42);
    expect(parse(coerce.integer(), '42.0').data).toBe(42);
    expect(parse(coerce.integer(), '-7.00').data).toBe(-7);
    expect(parse(coerce.integer(), new LosslessNumber('42')).data).toBe(42);
    expect(parse(coerce.integer(), '42.5').success).toBe(false);
    expect(parse(coerce.integer(), 42.5).success).toBe(false);
    expect(parse(coerce.integer(), true).success).toBe(false);
  });
  it('text reads numbers and booleans as their exact text, and keeps "" unless told', () => {
    expect(parse(coerce.text(), 'Ann').data).toBe('Ann');
    expect(parse(coerce.text(), 12345).data).toBe('12345');
    expect(parse(coerce.text(), new LosslessNumber('12345678901234567890')).data).toBe('12345678901234567890');
    expect(parse(coerce.text(), false).data).toBe('false');
    expect(parse(coerce.text(), '').data).toBe('');
    expect(parse(coerce.text(), null).success).toBe(false);
    expect(parse(coerce.text(), { first: 'Ann' }).error?.issues[0]?.message).toBe('expected text, got object');
    expect(parse(coerce.text().nullable(), null).data).toBeNull();
    expect(parse(coerce.emptyAsNull(coerce.text()), '').data).toBeNull();
    expect(parse(coerce.emptyAsNull(coerce.text()), undefined).data).toBeNull();
    expect(recordJsonSchema(z.object({ name: coerce.text().nullable() })).properties).toEqual({ name: { type: ['string', 'null'] } });
  });
  it('a missing optional field is absent, not an error; a missing required one is refused', () => {
    const schema = z.object({ id: coerce.integer(), status: coerce.emptyAsNull(coerce.text()).optional() });
    expect(parse(schema, { id: '1' }).data).toEqual({ id: 1 });
    expect(parse(schema, { status: 'f' }).success).toBe(false);
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
