// The JSON Schema a tap emits, in the forms every peer Singer target reads (pipelinewise-target-postgres
// reads only a property's `type`; MeltanoLabs target-postgres and ours read unions too).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { coerce } from '../src/coerce.js';
import { recordJsonSchema } from '../src/json-schema.js';

const SAFE = { minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };

function propertyOf(field: z.ZodType): Record<string, unknown> {
  return (recordJsonSchema(z.object({ field })).properties as Record<string, Record<string, unknown>>).field!;
}

describe('recordJsonSchema: nullable values are a type list', () => {
  it.each<[string, z.ZodType, Record<string, unknown>]>([
    [
      'a nullable integer with a description',
      coerce.emptyAsNull(coerce.integer()).describe('null when ranks are off'),
      { type: ['integer', 'null'], ...SAFE, description: 'null when ranks are off' },
    ],
    [
      'a nullable number (seconds)',
      coerce.emptyAsNull(coerce.secondsFromDuration()).describe('in seconds'),
      { type: ['number', 'null'], minimum: 0, description: 'in seconds' },
    ],
    [
      'a nullable exact decimal',
      coerce.emptyAsNull(coerce.decimal()).describe('Exact'),
      { type: ['string', 'null'], format: 'x-singer.decimal', description: 'Exact' },
    ],
    [
      'a nullable timestamp, described after .nullable()',
      coerce.isoFromUnixSeconds().nullable().describe('null while in progress'),
      { type: ['string', 'null'], format: 'date-time', description: 'null while in progress' },
    ],
    ['a nullable boolean', z.boolean().nullable(), { type: ['boolean', 'null'] }],
    [
      'a nullable enum (null joins the allowed values)',
      z.enum(['stop', 'wait']).nullable(),
      { type: ['string', 'null'], enum: ['stop', 'wait', null] },
    ],
    ['a nullable literal', z.literal('x').nullable(), { type: ['string', 'null'], enum: ['x', null] }],
  ])('%s', (_name, field, expected) => {
    expect(propertyOf(field)).toEqual(expected);
  });

  it('writes `type` first and keeps `format` and `description`, so a reader of the first key finds the type', () => {
    const property = propertyOf(coerce.emptyAsNull(coerce.decimal()).describe('Exact'));
    expect(Object.keys(property)).toEqual(['type', 'format', 'description']);
  });

  it('writes nested objects and arrays the same way, at every depth', () => {
    const field = z
      .object({ id: coerce.integer(), score: coerce.emptyAsNull(coerce.decimal()), tags: z.array(z.string().nullable()).nullable() })
      .nullable();
    expect(propertyOf(field)).toEqual({
      type: ['object', 'null'],
      properties: {
        id: { type: 'integer', ...SAFE },
        score: { type: ['string', 'null'], format: 'x-singer.decimal' },
        tags: { type: ['array', 'null'], items: { type: ['string', 'null'] } },
      },
      required: ['id', 'score', 'tags'],
    });
  });
});

describe('recordJsonSchema: anyOf only where nothing else expresses the type', () => {
  it('a union of plain types is one type list (keywords of one type kept: they bind no other type)', () => {
    expect(propertyOf(z.union([z.string(), z.number().int(), z.null()]))).toEqual({ type: ['string', 'integer', 'null'], ...SAFE });
  });

  it('a union whose members differ in format keeps anyOf, beside a type listing every member type', () => {
    const field = z
      .union([z.string().meta({ format: 'date-time' }), z.number().int()])
      .nullable()
      .describe('when, or a count');
    expect(propertyOf(field)).toEqual({
      type: ['string', 'integer', 'null'],
      anyOf: [{ type: 'string', format: 'date-time' }, { type: 'integer', ...SAFE }, { type: 'null' }],
      description: 'when, or a count',
    });
  });

  it('numeric members with different bounds keep anyOf (one `minimum` beside the list would bind both)', () => {
    const field = z.union([z.number().int().min(0), z.number().max(1)]);
    expect(propertyOf(field)).toMatchObject({ type: ['integer', 'number'], anyOf: [expect.any(Object), expect.any(Object)] });
  });

  it('an untyped value (z.unknown()) lists every JSON type, so targets store it as JSON rather than drop it', () => {
    expect(propertyOf(z.unknown().describe('as sent'))).toEqual({
      type: ['object', 'array', 'string', 'number', 'boolean', 'null'],
      description: 'as sent',
    });
  });
});

describe('recordJsonSchema: what it leaves out', () => {
  it('drops zod validation patterns of formats and additionalProperties: false', () => {
    const schema = recordJsonSchema(z.object({ at: z.iso.datetime(), id: z.uuid() }));
    expect(schema).toEqual({
      type: 'object',
      properties: { at: { type: 'string', format: 'date-time' }, id: { type: 'string', format: 'uuid' } },
      required: ['at', 'id'],
    });
  });

  it('refuses a record schema that is not an object', () => {
    expect(() => recordJsonSchema(z.string())).toThrow('A stream record schema must be a z.object(...)');
  });
});
