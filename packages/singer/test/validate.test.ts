import { createReadStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compileRecordValidator,
  type JsonSchema,
  parseJson,
  type RecordValidator,
  readMessages,
  UncompilableSchema,
} from '../src/index.js';
import { peerFile, peerTestsDir } from './peer-tests.js';

const schema: JsonSchema = {
  type: 'object',
  properties: {
    c_pk: { type: ['null', 'integer'] },
    name: { type: 'string', maxLength: 5 },
    price: { type: 'number' },
    taken_at: { type: ['null', 'string'], format: 'date-time' },
    day: { type: 'string', format: 'date' },
    at: { type: 'string', format: 'time' },
    id: { type: 'string', format: 'uuid' },
    email: { type: 'string', format: 'email' },
    amount: { type: 'string', format: 'x-singer.decimal' },
    legacy_id: { anyOf: [{ type: 'string' }, { type: 'integer' }, { type: 'null' }] },
    address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['c_pk'],
};

describe('compileRecordValidator', () => {
  const validate = compileRecordValidator(schema);

  it('accepts a valid record', () => {
    expect(validate({ c_pk: 1, name: 'ab', price: 1.5, tags: ['x'], address: { city: 'Oslo' } })).toBeNull();
  });

  it.each<[string, Record<string, unknown>, { field: string; message: string }]>([
    [
      'a wrong type',
      { c_pk: 'Non Numeric PK' },
      { field: 'c_pk', message: 'field "c_pk": must be null or integer (got "Non Numeric PK")' },
    ],
    ['a missing required property', {}, { field: 'c_pk', message: 'field "c_pk": is required but missing' }],
    [
      'a nested property',
      { c_pk: 1, address: { city: 7 } },
      { field: 'address.city', message: 'field "address.city": must be string (got 7)' },
    ],
    [
      'a nested required property',
      { c_pk: 1, address: {} },
      { field: 'address.city', message: 'field "address.city": is required but missing' },
    ],
    ['an array item', { c_pk: 1, tags: ['a', false] }, { field: 'tags[1]', message: 'field "tags[1]": must be string (got false)' }],
    [
      'a bad date-time',
      { c_pk: 1, taken_at: 'yesterday' },
      { field: 'taken_at', message: 'field "taken_at": must be a date-time string (got "yesterday")' },
    ],
    ['a bad date', { c_pk: 1, day: '2024-02-30' }, { field: 'day', message: 'field "day": must be a date string (got "2024-02-30")' }],
    [
      'a bad decimal string',
      { c_pk: 1, amount: '12,5' },
      { field: 'amount', message: 'field "amount": must be a x-singer.decimal string (got "12,5")' },
    ],
    [
      'an anyOf union',
      { c_pk: 1, legacy_id: 1.5 },
      { field: 'legacy_id', message: 'field "legacy_id": must be string or integer or null (got 1.5)' },
    ],
    [
      'a too long string',
      { c_pk: 1, name: 'abcdefgh' },
      { field: 'name', message: 'field "name": must NOT have more than 5 characters (got "abcdefgh")' },
    ],
  ])('names the field of %s', (_name, record, problem) => {
    expect(validate(record)).toEqual(problem);
  });

  it('reads date-time leniently: space separator, no zone, any fraction, offsets', () => {
    for (const value of [
      '2019-02-01 15:12:45',
      '2019-02-01T15:12:45Z',
      '2019-02-01T15:12:45.123456789+05:30',
      '2019-02-01T15:12',
      '2019-02-01T15:12:45-0800',
    ]) {
      expect(validate({ c_pk: 1, taken_at: value }), value).toBeNull();
    }
    for (const value of ['2019-02-01', '2019-13-01T00:00:00Z', '', '2019-02-01T25:00:00']) {
      expect(validate({ c_pk: 1, taken_at: value }), value).not.toBeNull();
    }
  });

  it('checks time and uuid, and accepts any other format as text', () => {
    expect(validate({ c_pk: 1, at: '23:00:03' })).toBeNull();
    expect(validate({ c_pk: 1, at: '04:00:00+02' })).toBeNull();
    // 24:00:00 is the end of the day (both databases hold it; a leap second becomes it), and only that.
    for (const end of ['24:00:00', '24:00', '24:00:00.000', '24:00:00Z', '24:00:00+02:00'])
      expect(validate({ c_pk: 1, at: end }), end).toBeNull();
    for (const past of ['24:00:01', '24:01:00', '24:00:00.5', '25:00:00']) expect(validate({ c_pk: 1, at: past }), past).not.toBeNull();
    expect(validate({ c_pk: 1, id: '3e456a1b-0c2d-4e5f-9a8b-7c6d5e4f3a2b' })).toBeNull();
    expect(validate({ c_pk: 1, id: 'not-a-uuid' })).not.toBeNull();
    expect(validate({ c_pk: 1, email: 'not an email' })).toBeNull();
  });

  it('validates big integers and long decimals (LosslessNumber) as numbers', () => {
    const record = parseJson('{"c_pk": 99999999999999999, "price": 3.14159265358979323846, "legacy_id": 123456789012345678901}');
    expect(validate(record)).toBeNull();
    const wrong = parseJson('{"c_pk": 1.12345678901234567890}');
    expect(validate(wrong)).toEqual({ field: 'c_pk', message: 'field "c_pk": must be null or integer (got 1.1234567890123457)' });
  });

  it('tolerates draft-04 schemas, unknown keywords and big bounds', () => {
    const draft4 = compileRecordValidator({
      $schema: 'http://json-schema.org/draft-04/schema#',
      id: 'http://example.com/thing',
      type: 'object',
      properties: {
        n: { type: 'integer', minimum: 0, exclusiveMinimum: true, 'x-sql-datatype': 'smallint' },
        big: parseJson('{"type": "integer", "maximum": 9223372036854775807}') as JsonSchema,
      },
    });
    expect(draft4({ n: 1, big: 5 })).toBeNull();
    expect(draft4({ n: 0 })?.field).toBe('n');
  });

  it('ignores value constraints when asked, keeping type checks', () => {
    const typesOnly = compileRecordValidator(schema, { constraints: false });
    expect(typesOnly({ c_pk: 1, name: 'much longer than five' })).toBeNull();
    expect(typesOnly({ c_pk: 'x' })?.field).toBe('c_pk');
  });

  it('checks a huge schema of repeated shapes as strictly as a small one', () => {
    // Over 100 KB of schema: repeated subschemas are compiled once and shared (tap_aapl.singer).
    const quarter = {
      type: 'object',
      properties: {
        date: { type: 'string', format: 'date' },
        revenue: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        lines: { type: 'array', items: { type: 'object', properties: { amount: { type: 'integer' } }, required: ['amount'] } },
      },
    };
    const quarters = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`q${i}`, quarter]));
    const huge = compileRecordValidator({
      type: 'object',
      properties: { symbol: { type: 'string' }, financials: { type: 'object', properties: quarters } },
    });
    const good = { date: '2024-03-31', revenue: '1.5', lines: [{ amount: 1 }] };
    expect(huge({ symbol: 'AAPL', financials: { q0: good, q599: good } })).toBeNull();
    expect(huge({ financials: { q7: { ...good, lines: [{ amount: 1 }, { amount: 'x' }] } } })).toEqual({
      field: 'financials.q7.lines[1].amount',
      message: 'field "financials.q7.lines[1].amount": must be integer (got "x")',
    });
    expect(huge({ financials: { q12: { ...good, revenue: 5 } } })).toEqual({
      field: 'financials.q12.revenue',
      message: 'field "financials.q12.revenue": must be string or null (got 5)',
    });
    expect(huge({ financials: { q3: { lines: [{}] } } })?.field).toBe('financials.q3.lines[0].amount');
  });

  it('tells the first problem, with the union around it, when a record has several', () => {
    expect(validate({ c_pk: 'x', legacy_id: 1.5, name: 7 })).toEqual({
      field: 'c_pk',
      message: 'field "c_pk": must be null or integer (got "x")',
    });
    expect(validate({ c_pk: 1, legacy_id: 1.5, name: 7 })?.field).toBe('name');
    expect(validate({ c_pk: 1, legacy_id: 1.5 })?.message).toBe('field "legacy_id": must be string or integer or null (got 1.5)');
  });

  it('compiles a schema of 10,000 properties (checks side by side, not nested 10,000 deep)', () => {
    const properties = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`p${i}`, { type: ['null', 'string'] }]));
    const wide = compileRecordValidator({ type: 'object', properties });
    expect(wide({ p0: 'a', p9999: null })).toBeNull();
    expect(wide({ p0: 'a', p9999: 1 })?.field).toBe('p9999');
  });

  it('reads properties every object inherits (constructor, toString, __proto__) only from the record itself', () => {
    const names = ['constructor', 'toString', '__proto__'];
    const inherited = compileRecordValidator({
      type: 'object',
      properties: Object.fromEntries(names.map((name) => [name, { type: 'string' }])),
      required: ['toString'],
    });
    expect(inherited(parseJson('{"constructor":"c","toString":"t","__proto__":"p"}') as object)).toBeNull();
    expect(inherited({ toString: 't' })).toBeNull();
    expect(inherited({})).toEqual({ field: 'toString', message: 'field "toString": is required but missing' });
    expect(inherited({ toString: 't', constructor: 5 })?.field).toBe('constructor');
  });

  it('checks multipleOf on the decimals as written, not on binary fractions (prices declared multipleOf 0.01)', () => {
    const money = compileRecordValidator({
      type: 'object',
      properties: {
        price: { type: 'number', multipleOf: 0.01 },
        tiny: { type: 'number', multipleOf: 1e-38 },
        five: { type: 'integer', multipleOf: 5 },
      },
    });
    for (const price of [0.07, 19.99, 1.1, 1234567.89, 123456789012.99, -0.29, 1e21]) expect(money({ price }), String(price)).toBeNull();
    expect(money({ tiny: 1.23456 })).toBeNull();
    expect(money({ price: 0.035 })?.field).toBe('price');
    expect(money({ five: 12 })?.field).toBe('five');
  });

  it('lets NaN pass bounds and multipleOf, and the infinities multipleOf: numeric columns that hold them are declared with these', () => {
    // As pipelinewise-tap-postgres declares numeric(12,2): multipleOf, and exclusive bounds.
    const numeric = compileRecordValidator({
      type: 'object',
      properties: {
        n: { type: ['null', 'number'], multipleOf: 0.01, minimum: -1e10, maximum: 1e10, exclusiveMinimum: true, exclusiveMaximum: true },
        f: { type: ['null', 'number'], multipleOf: 1e-38 },
      },
    });
    for (const n of [NaN, 19.99, -1e10 + 0.01]) expect(numeric({ n }), String(n)).toBeNull();
    for (const f of [NaN, Infinity, -Infinity]) expect(numeric({ f }), String(f)).toBeNull();
    // A bound still holds for what it can decide.
    expect(numeric({ n: Infinity })).toEqual({ field: 'n', message: 'field "n": must be < 10000000000 (got Infinity)' });
    expect(numeric({ n: -Infinity })?.field).toBe('n');
    expect(numeric({ n: 1e10 })?.field).toBe('n');
    expect(numeric({ n: 0.001 })?.field).toBe('n');
  });

  it('says an empty anyOf admits no value, instead of an empty list of types', () => {
    const empty = compileRecordValidator({ type: 'object', properties: { a: { anyOf: [] } } });
    expect(empty({ a: 'abc' })).toEqual({
      field: 'a',
      message: 'field "a": can hold no value: its schema\'s anyOf lists no schemas (got "abc")',
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['a Python regex flag', { type: 'string', pattern: '(?i)^abc$' }, /Invalid regular expression/],
    ['a Python end anchor', { type: 'string', pattern: '^abc\\Z' }, /Invalid regular expression/],
    ['a $ref that resolves nowhere', { $ref: '#/definitions/nowhere' }, /can't resolve reference #\/definitions\/nowhere/],
    ['a remote $ref', { $ref: 'https://example.com/schema.json' }, /can't resolve reference https:\/\/example\.com/],
    ['type "any"', { type: 'any' }, /type must be JSONType/],
    ['type ["null", "timestamp"]', { type: ['null', 'timestamp'] }, /type must be JSONType/],
    ['"minimum": "5"', { type: 'number', minimum: '5' }, /minimum value must be \["number"\]/],
    ['"maxLength": null', { type: 'string', maxLength: null }, /maxLength value must be/],
    ['"enum": null', { enum: null }, /enum value must be \["array"\]/],
    ['"items": "string"', { type: 'array', items: 'string' }, /items value must be/],
    ['"format": 5', { type: 'string', format: 5 }, /format value must be \["string"\]/],
    ['null', null, /it is null, not a JSON Schema object/],
  ])('a schema ajv cannot compile (%s) is UncompilableSchema naming the property', (_name, broken, reason) => {
    // Among well-formed properties, on either side: the culprit is found whatever its place.
    const properties = {
      id: { type: 'integer' },
      ...Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`p${i}`, { type: 'string' }])),
      bad: broken,
      z: { type: 'string' },
    };
    let thrown: unknown;
    try {
      compileRecordValidator({ type: 'object', properties });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UncompilableSchema);
    expect((thrown as UncompilableSchema).property).toBe('bad');
    expect((thrown as UncompilableSchema).reason).toMatch(reason);
  });

  it('a fault outside the properties is UncompilableSchema without a property', () => {
    expect(() => compileRecordValidator({ type: 'object', required: 'id', properties: { id: { type: 'integer' } } })).toThrow(
      expect.objectContaining({ name: 'UncompilableSchema', property: undefined, reason: 'required value must be ["array"]' }),
    );
  });

  it('reuses the compiled function for an identical schema', () => {
    const first = compileRecordValidator(JSON.parse(JSON.stringify(schema)) as JsonSchema);
    expect(first({ c_pk: 'x' })?.field).toBe('c_pk');
  });
});

/** Validate every RECORD of a peer-test file against its stream's latest SCHEMA; return the problems. */
async function problemsIn(relative: string, constraints = true): Promise<string[]> {
  const validators = new Map<string, RecordValidator>();
  const problems: string[] = [];
  for await (const batch of readMessages(createReadStream(peerFile(relative)))) {
    for (const { message, line } of batch) {
      if (message.type === 'SCHEMA') validators.set(message.stream, compileRecordValidator(message.schema, { constraints }));
      if (message.type !== 'RECORD') continue;
      const problem = validators.get(message.stream)?.(message.record);
      if (problem) problems.push(`line ${line}: ${problem.message}`);
    }
  }
  return problems;
}

describe.skipIf(!peerTestsDir)('compileRecordValidator on peer-test streams', () => {
  it.each([
    'target-postgres/commits.singer',
    'target-postgres/jsonb_data.singer',
    'target-postgres/test_no_type.singer',
    'target-postgres/large_int.singer',
    'target-postgres/tap_countries.singer',
    'target-postgres/tap_aapl.singer',
    'target-postgres/schema_updates.singer',
    'meltano-target-streams/encoded_string_data.singer',
    'pipelinewise-target-postgres/integration/messages-with-multiple-streams.json',
    'singer-tools/fixerio-valid-initial.json',
  ])('%s matches its schemas', async (file) => {
    expect(await problemsIn(file)).toEqual([]);
  });

  it('rejects the record of record_missing_required_property.singer', async () => {
    expect(await problemsIn('meltano-target-streams/record_missing_required_property.singer')).toEqual([
      'line 2: field "id": is required but missing',
    ]);
  });

  it('rejects the Non Numeric PK of messages-with-invalid-records.json', async () => {
    expect(await problemsIn('target-duckdb/integration/messages-with-invalid-records.json')).toEqual([
      'line 11: field "c_pk": must be null or integer (got "Non Numeric PK")',
    ]);
  });

  it('rejects the number date of fixerio-invalid-doesnt-match-schema.json', async () => {
    expect(await problemsIn('singer-tools/fixerio-invalid-doesnt-match-schema.json')).toEqual([
      'line 2: field "date": must be string (got 123)',
    ]);
  });

  it('accepts unicode text beyond its maxLength only with constraints off', async () => {
    const file = 'pipelinewise-target-postgres/integration/messages-with-unicode-characters.json';
    expect(await problemsIn(file)).toHaveLength(6);
    expect(await problemsIn(file, false)).toEqual([]);
  });
});
