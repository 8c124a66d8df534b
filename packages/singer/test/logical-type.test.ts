import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type JsonSchema, LOGICAL_KINDS, type LogicalKind, type LogicalType, logicalTypeOf, widenLogical } from '../src/index.js';
import { peerFile, peerTestsDir } from './peer-tests.js';

const t = (kind: LogicalKind, nullable = false): LogicalType => ({ kind, nullable });

describe('logicalTypeOf', () => {
  it.each<[string, JsonSchema, LogicalType]>([
    ['boolean', { type: 'boolean' }, t('boolean')],
    ['integer', { type: 'integer' }, t('integer')],
    ['number (a double)', { type: 'number' }, t('number')],
    ['number with x-singer.decimal', { type: 'number', format: 'x-singer.decimal' }, t('decimal')],
    ['string with x-singer.decimal', { type: 'string', format: 'x-singer.decimal' }, t('decimal')],
    ['string with singer.decimal (SDK)', { type: 'string', format: 'singer.decimal' }, t('decimal')],
    ['string', { type: 'string' }, t('string')],
    ['date-time', { type: 'string', format: 'date-time' }, t('timestamp')],
    ['date', { type: 'string', format: 'date' }, t('date')],
    ['time', { type: 'string', format: 'time' }, t('time')],
    ['an unknown format', { type: 'string', format: 'email' }, t('string')],
    ['object', { type: 'object', properties: { a: { type: 'string' } } }, t('json')],
    ['array', { type: 'array', items: { type: 'string' } }, t('json')],
    ['untyped {}', {}, t('json', true)],
    ['type as an array with null', { type: ['null', 'integer'] }, t('integer', true)],
    ['["string","null"] date-time', { type: ['string', 'null'], format: 'date-time' }, t('timestamp', true)],
    ['["integer","string"]', { type: ['integer', 'string'] }, t('string')],
    ['["integer","number"]', { type: ['integer', 'number'] }, t('decimal')],
    ['["boolean","integer"]', { type: ['boolean', 'integer'] }, t('string')],
    ['only null', { type: 'null' }, t('string', true)],
    ['anyOf date-time or null', { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] }, t('timestamp', true)],
    [
      'anyOf date-time, string or null',
      { anyOf: [{ type: 'string', format: 'date-time' }, { type: ['string', 'null'] }] },
      t('string', true),
    ],
    ['anyOf string or integer or null', { anyOf: [{ type: 'string' }, { type: 'integer' }, { type: 'null' }] }, t('string', true)],
    ['oneOf array or string', { oneOf: [{ type: 'array' }, { type: 'string' }] }, t('json')],
    ['anyOf with an untyped member', { anyOf: [{ type: 'integer' }, {}] }, t('json', true)],
    ['OpenAPI nullable', { type: 'string', nullable: true }, t('string', true)],
    ['allOf with one member (a resolved $ref)', { allOf: [{ type: 'string', format: 'date' }] }, t('date')],
    ['enum of strings and null, no type', { enum: ['passed', 'failed', null] }, t('string', true)],
    ['const integer, no type', { const: 3 }, t('integer')],
    // Schemas ajv cannot compile, loaded with validate_records off: JSON where nothing says otherwise.
    ['null (no schema at all)', null as unknown as JsonSchema, t('json', true)],
    ['a string where a schema belongs', 'string' as unknown as JsonSchema, t('json', true)],
    ['type "any"', { type: 'any' }, t('json', true)],
    ['type ["null", "timestamp"]', { type: ['null', 'timestamp'] }, t('json', true)],
    ['"minimum": "5", no type', { minimum: '5' }, t('json', true)],
    ['"enum": null', { enum: null }, t('json', true)],
    ['"items": "string", no type', { items: 'string' }, t('json', true)],
    ['a string with "format": 5', { type: 'string', format: 5 }, t('string')],
    ['a string with a Python pattern', { type: 'string', pattern: '(?i)^abc$' }, t('string')],
    ['an empty anyOf', { anyOf: [] }, t('json', true)],
  ])('%s', (_name, schema, expected) => {
    expect(logicalTypeOf(schema)).toEqual(expected);
  });

  it('keeps integer bounds, uuid, contentEncoding and x-sql-datatype for the targets', () => {
    expect(logicalTypeOf({ type: 'integer', minimum: -32768, maximum: 32767 })).toEqual({
      kind: 'integer',
      nullable: false,
      minimum: -32768,
      maximum: 32767,
    });
    expect(logicalTypeOf({ type: ['string', 'null'], format: 'uuid' })).toEqual({ kind: 'string', nullable: true, format: 'uuid' });
    expect(logicalTypeOf({ type: 'string', contentEncoding: 'base16' })).toEqual({
      kind: 'string',
      nullable: false,
      contentEncoding: 'base16',
    });
    expect(logicalTypeOf({ type: 'integer', 'x-sql-datatype': 'smallint' }).sqlDatatype).toBe('smallint');
  });
});

describe('widenLogical', () => {
  // Rows: [a, b, widened]. The lattice is symmetric; each row is checked both ways.
  const table: Array<[LogicalKind, LogicalKind, LogicalKind]> = [
    ['integer', 'decimal', 'decimal'],
    ['integer', 'number', 'decimal'],
    ['decimal', 'number', 'decimal'],
    ['date', 'timestamp', 'string'],
    ['date', 'time', 'string'],
    ['time', 'timestamp', 'string'],
    ['timestamp', 'string', 'string'],
    ['boolean', 'integer', 'string'],
    ['boolean', 'number', 'string'],
    ['boolean', 'string', 'string'],
    ['integer', 'string', 'string'],
    ['number', 'timestamp', 'string'],
    ['json', 'integer', 'json'],
    ['json', 'string', 'json'],
    ['json', 'timestamp', 'json'],
  ];
  it.each(table)('%s + %s -> %s', (a, b, widened) => {
    expect(widenLogical(t(a), t(b)).kind).toBe(widened);
    expect(widenLogical(t(b), t(a)).kind).toBe(widened);
  });

  it('keeps a kind widened with itself, and nullable if either side is', () => {
    for (const kind of LOGICAL_KINDS) {
      expect(widenLogical(t(kind), t(kind))).toEqual(t(kind));
      expect(widenLogical(t(kind, true), t(kind))).toEqual(t(kind, true));
    }
  });

  it('keeps integer bounds only when both sides have them, taking the wider range', () => {
    const small: LogicalType = { kind: 'integer', nullable: false, minimum: 0, maximum: 10 };
    const big: LogicalType = { kind: 'integer', nullable: false, minimum: -5, maximum: 100 };
    expect(widenLogical(small, big)).toEqual({ kind: 'integer', nullable: false, minimum: -5, maximum: 100 });
    expect(widenLogical(small, t('integer'))).toEqual(t('integer'));
  });
});

/** The property schemas of every SCHEMA message in a peer-test file, by stream then property. */
function schemasIn(relative: string): Array<Record<string, JsonSchema>> {
  return readFileSync(peerFile(relative), 'utf8')
    .split('\n')
    .filter((line) => line.includes('"SCHEMA"'))
    .map((line) => (JSON.parse(line) as { schema: { properties: Record<string, JsonSchema> } }).schema.properties);
}

const kindsOf = (properties: Record<string, JsonSchema>) =>
  Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name, logicalTypeOf(schema)]));

describe.skipIf(!peerTestsDir)('logicalTypeOf on peer-test schemas', () => {
  it('commits.singer: anyOf unions', () => {
    expect(kindsOf(schemasIn('target-postgres/commits.singer')[0]!)).toEqual({
      id: t('string'),
      authored_date: t('timestamp', true),
      committed_date: t('timestamp', true),
      parent_ids: t('json', true),
      commit_message: t('string', true),
      legacy_id: t('string', true),
    });
  });

  it('jsonb_data.singer: every JSON type at once is json', () => {
    expect(kindsOf(schemasIn('target-postgres/jsonb_data.singer')[0]!)).toEqual({
      id: t('integer'),
      event_data: t('json', true),
    });
  });

  it('test_no_type.singer: untyped properties are json', () => {
    const kinds = kindsOf(schemasIn('target-postgres/test_no_type.singer')[0]!);
    expect(kinds.OldValue).toEqual(t('json', true));
    expect(kinds.NewValue).toEqual(t('json', true));
    expect(kinds.CreatedDate).toEqual(t('string', true));
    expect(kinds.IsDeleted).toEqual(t('boolean', true));
  });

  it('camelcase_complex_schema.singer: both schemas, the second adding columns', () => {
    const [first, second] = schemasIn('meltano-target-streams/camelcase_complex_schema.singer').map(kindsOf);
    expect(first).toMatchObject({
      Id: t('string'),
      CreatedDate: t('string', true),
      DisplayPosition: t('integer', true),
      IsAdjustable: t('boolean', true),
    });
    expect(second).toMatchObject({ ...first, age: t('integer'), NewCamelCasedAttribute: t('string') });
  });
});
