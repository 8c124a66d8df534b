// Plain records: a RECORD line's row written straight from its bytes must be the row the parsing path writes, or not be written at all.
import { type JsonSchema, parseMessage, type RecordMessage } from '@tapline/singer';
import { type SeededRandom, seededRandom } from '@tapline/testing/simulator';
import { describe, expect, it } from 'vitest';
import type { ColumnDef, RowEncoder } from '../src/dialect.js';
import { METADATA_COLUMNS } from '../src/metadata.js';
import { whyNotPlain } from '../src/plain/plain-records.js';
import { LineScanner } from '../src/plain/scanner.js';
import { layoutForSchema, type SinkSettings, StreamSink } from '../src/sink.js';

/** An encoder shaped like target-duckdb's spool: text between U+0001 (doubled inside), numbers and booleans bare, NULL empty. */
function spoolEncoder(columns: readonly ColumnDef[], withBatchedAt: boolean): RowEncoder {
  const count = columns.length - (withBatchedAt ? 1 : 0);
  const text = (cell: string) => `\u0001${cell.replaceAll('\u0001', '\u0001\u0001')}\u0001`;
  const field = (cell: unknown) => (cell === null ? '' : typeof cell === 'string' ? text(cell) : Object.is(cell, -0) ? '-0' : String(cell));
  return {
    encode: (cells) => `${cells.slice(0, count).map(field).join(',')}\n`,
    plain: {
      delimiter: 0x2c,
      nullField: Buffer.alloc(0),
      quote: 0x01,
      trueField: Buffer.from('true'),
      falseField: Buffer.from('false'),
      rowEnd: Buffer.from('\n'),
      textField: text,
    },
  };
}

/** The same shaped like PostgreSQL's COPY text: tabs, `\N`, `t`/`f`, no quotes, backslash escapes. */
function copyEncoder(columns: readonly ColumnDef[], withBatchedAt: boolean): RowEncoder {
  const count = columns.length - (withBatchedAt ? 1 : 0);
  const escapes: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  const text = (cell: string) => cell.replace(/[\\\n\r\t]/g, (c) => escapes[c]!);
  const field = (cell: unknown) =>
    cell === null
      ? '\\N'
      : typeof cell === 'boolean'
        ? cell
          ? 't'
          : 'f'
        : typeof cell === 'string'
          ? text(cell)
          : Object.is(cell, -0)
            ? '-0'
            : String(cell);
  return {
    encode: (cells) => `${cells.slice(0, count).map(field).join('\t')}\n`,
    plain: {
      delimiter: 0x09,
      nullField: Buffer.from('\\N'),
      quote: -1,
      trueField: Buffer.from('t'),
      falseField: Buffer.from('f'),
      rowEnd: Buffer.from('\n'),
      textField: text,
    },
  };
}

function settingsWith(rowEncoder: SinkSettings['rowEncoder']): SinkSettings {
  return {
    maxIdentifierBytes: 63,
    textAcceptsNul: true,
    sanitizeNul: false,
    replaceUnpairedSurrogates: false,
    validate: true,
    metadataColumns: METADATA_COLUMNS,
    appendOnly: false,
    loadUndeclared: true,
    interpretContentEncoding: false,
    flattenMaxLevel: 0,
    checkPlainRows: true,
    warn: () => {},
    rowEncoder,
  };
}

function sinkFor(schema: JsonSchema, keys: string[], rowEncoder = spoolEncoder): StreamSink {
  const settings = settingsWith(rowEncoder);
  const sink = new StreamSink('s', { schema: 'main', table: 's' }, layoutForSchema('s', schema, keys, 1, settings), settings);
  sink.setSchema(schema, '');
  return sink;
}

const RECEIVED = '2025-01-15T08:00:00.000Z';

/** The row the parsing path writes for a line, or the error it stops with. */
function parsed(sink: StreamSink, line: string): { row: string } | { error: string } {
  try {
    const change = sink.addRecord(parseMessage(line, 7) as RecordMessage, 7, RECEIVED, 1000, !line.includes('\\'));
    if (change !== undefined) return { error: `the table needs a change first (${change.kind})` };
    return { row: sink.rows.rowText(sink.rows.count - 1) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** The row written straight from the line's bytes, or null when the line is not plain. */
function plain(sink: StreamSink, line: string): string | null {
  const bytes = Buffer.from(line);
  const scanner = new LineScanner();
  if (!scanner.readRecordHead(bytes, 0, bytes.length)) return null;
  if (!sink.addPlainRecord(scanner, 7, RECEIVED, 1000)) return null;
  return sink.rows.rowText(sink.rows.count - 1);
}

const examSchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: ['string', 'null'] },
    score: { type: 'number' },
    passed: { type: 'boolean' },
    at: { type: 'string', format: 'date-time' },
    day: { anyOf: [{ type: 'string', format: 'date' }, { type: 'null' }] },
    details: { type: 'object', properties: { section: { type: 'string' }, answers: { type: 'array', items: { type: 'integer' } } } },
  },
};

describe('a plain record', () => {
  it.each([
    [
      'the bench shape',
      '{"type":"RECORD","stream":"s","record":{"id":1,"name":"Ana","score":42.5,"passed":true,"at":"2023-06-22T14:18:01.857-08:00","day":"2024-02-29","details":{"section":"algebra","answers":[1,2,0]}},"time_extracted":"2025-01-15T08:00:00Z"}',
    ],
    [
      'singer-python spacing',
      '{"type": "RECORD", "stream": "s", "record": {"id": 2, "name": null, "score": 7, "passed": false, "at": "2023-01-31T00:00:00Z"}, "version": 1700000000000}',
    ],
    ['properties in any order, some missing', '{"type":"RECORD","stream":"s","record":{"score":0.000001,"id":-3,"name":"Åsa Ñúñez 😀"}}'],
    [
      'an empty nested object and array',
      '{"type":"RECORD","stream":"s","record":{"id":4,"score":-0.5,"details":{}},"time_extracted":null,"version":null}',
    ],
    // Values whose bytes are not their stored text: each is parsed on its own.
    ['escapes in a string', '{"type":"RECORD","stream":"s","record":{"id":5,"name":"a\\"b\\\\c\\n\\t\\u00e9 \\ud83d\\ude00"}}'],
    [
      "Python's spacing inside JSON text",
      '{"type": "RECORD", "stream": "s", "record": {"id": 6, "details": {"section": "x", "answers": [1, 2]}}}',
    ],
    ['an escape inside JSON text', '{"type":"RECORD","stream":"s","record":{"id":7,"details":{"section":"caf\\u00e9 \\/ \\"q\\""}}}'],
    ['numbers spelled otherwise', '{"type":"RECORD","stream":"s","record":{"id":1.0,"score":42.50,"details":{"answers":[1e2,2.0]}}}'],
    ["Python's repr of a double", '{"type":"RECORD","stream":"s","record":{"id":8,"score":6.666666666666667e-06}}'],
    ["a double's 17-digit shortest text", '{"type":"RECORD","stream":"s","record":{"id":10,"score":0.30000000000000004}}'],
    ['a number JavaScript writes with an exponent', '{"type":"RECORD","stream":"s","record":{"id":9,"score":0.0000001}}'],
  ])('%s: written from its bytes, exactly as parsed', (_, line) => {
    const row = plain(sinkFor(examSchema, ['id']), line);
    expect(row).not.toBeNull();
    expect(row).toBe((parsed(sinkFor(examSchema, ['id']), line) as { row: string }).row);
  });

  it('writes each dialect format the way its encoder does', () => {
    const line = '{"type":"RECORD","stream":"s","record":{"id":1,"name":null,"score":1.25,"passed":false,"at":"2023-06-22T14:18:01Z"}}';
    const row = plain(sinkFor(examSchema, ['id'], copyEncoder), line);
    expect(row).toBe((parsed(sinkFor(examSchema, ['id'], copyEncoder), line) as { row: string }).row);
    expect(row).toMatch(/^1\t\\N\t1\.25\tf\t2023-06-22T14:18:01Z\t/);
  });
});

describe('a line that is not plain takes the parsing path', () => {
  it.each([
    ['a number a double cannot hold', '{"id":1,"score":1234567890.123456789}'],
    ['an integer beyond 2^53', '{"id":9007199254740993}'],
    ['a three-digit exponent', '{"id":1,"score":1e300}'],
    ['-0 inside JSON text', '{"id":1,"details":{"answers":[-0]}}'],
    ['-0.0', '{"id":1,"score":-0.0}'],
    ['a NUL escape', '{"id":1,"name":"a\\u0000b"}'],
    ['a lone surrogate escape', '{"id":1,"name":"a\\ud800b"}'],
    ['a malformed escape', '{"id":1,"name":"a\\xb"}'],
    ['an escape in a timestamp', '{"id":1,"at":"2023-01-01T00:00:00\\u005a"}'],
    ['an escape in a key', '{"id":1,"n\\u0061me":"x"}'],
    ['a key written twice', '{"id":1,"id":2}'],
    ['a nested key written twice', '{"id":1,"details":{"section":"a","section":"b"}}'],
    ['an integer-like key JavaScript would move first', '{"id":1,"details":{"section":"a","7":1}}'],
    ['a property the schema does not declare', '{"id":1,"extra":true}'],
    ['a missing key property', '{"name":"x"}'],
    ['a null key property', '{"id":null}'],
    ['a value of the wrong type', '{"id":"1"}'],
    ['February 30th', '{"id":1,"at":"2023-02-30T00:00:00Z"}'],
    ['a leap second', '{"id":1,"at":"2016-12-31T23:59:60Z"}'],
    ['seven fraction digits', '{"id":1,"at":"2023-01-01T00:00:00.1234567Z"}'],
    ['a lower-case t', '{"id":1,"at":"2023-01-01t00:00:00Z"}'],
    ['a date in a non-leap year', '{"id":1,"day":"2023-02-29"}'],
    ['year 0000 (PostgreSQL writes it 0001 BC)', '{"id":1,"at":"0000-01-01T00:00:00Z"}'],
    ['a date in year 0000', '{"id":1,"day":"0000-06-15"}'],
    ['an item of the wrong type', '{"id":1,"details":{"answers":[1,"2"]}}'],
  ])('%s', (_, record) => {
    const line = `{"type":"RECORD","stream":"s","record":${record}}`;
    expect(plain(sinkFor(examSchema, ['id']), line)).toBeNull();
  });

  it('an object whose declared key JavaScript would move first', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: { id: { type: 'integer' }, m: { type: 'object', properties: { b: {}, '10': {} } } },
    };
    const line = '{"type":"RECORD","stream":"s","record":{"id":1,"m":{"b":1,"10":2}}}';
    expect(plain(sinkFor(schema, ['id']), line)).toBeNull();
    expect((parsed(sinkFor(schema, ['id']), line) as { row: string }).row).toContain('{"10":2,"b":1}');
  });

  it.each([
    ['lower-case "record"', '{"type":"record","stream":"s","record":{"id":1}}'],
    ['another key order', '{"stream":"s","type":"RECORD","record":{"id":1}}'],
    ['an unknown envelope key', '{"type":"RECORD","stream":"s","record":{"id":1},"extra":1}'],
    ['a malformed time_extracted', '{"type":"RECORD","stream":"s","record":{"id":1},"time_extracted":"yesterday"}'],
    ['a truncated line', '{"type":"RECORD","stream":"s","record":{"id":1}'],
    ['text after the message', '{"type":"RECORD","stream":"s","record":{"id":1}} x'],
  ])('%s', (_, line) => {
    expect(plain(sinkFor(examSchema, ['id']), line)).toBeNull();
  });
});

describe('schemas whose records all take the parsing path', () => {
  it.each([
    ['a value constraint', { type: 'object', properties: { name: { type: 'string', maxLength: 10 } } }, 'the keyword "maxLength"'],
    [
      'a union of two types',
      { type: 'object', properties: { v: { anyOf: [{ type: 'string' }, { type: 'integer' }] } } },
      'a union of schemas',
    ],
    [
      'a $ref',
      { type: 'object', properties: { v: { $ref: '#/definitions/x' } }, definitions: { x: { type: 'string' } } },
      'the keyword "$ref"',
    ],
    ['an exact decimal', { type: 'object', properties: { v: { type: 'string', format: 'singer.decimal' } } }, 'column "v" is decimal'],
    [
      'a property spelled like metadata',
      { type: 'object', properties: { _sdc_deleted_at: { type: 'string' } } },
      'the property "_sdc_deleted_at"',
    ],
  ])('%s', (_, schema, reason) => {
    const sink = sinkFor(schema as JsonSchema, []);
    const line = '{"type":"RECORD","stream":"s","record":{}}';
    expect(plain(sink, line)).toBeNull();
    expect(whyNotPlainOf(schema as JsonSchema)).toBe(reason);
  });
});

/** whyNotPlain for a schema loaded as the spool encoder's stream. */
function whyNotPlainOf(schema: JsonSchema): string | null {
  const settings = settingsWith(spoolEncoder);
  const layout = layoutForSchema('s', schema, [], 1, settings);
  const cells = layout.columns.filter((column) => column.name !== '_sdc_batched_at');
  return whyNotPlain({
    stream: 's',
    schema,
    properties: layout.properties.map(({ property, index }) => ({ property, cell: cells.indexOf(layout.columns[index]!) })),
    cells,
    keyProperties: [],
    upsert: false,
  });
}

describe("a tap's own _sdc_ column", () => {
  it('(_sdc_extra, an object of undeclared vendor fields) keeps the plain path', () => {
    expect(whyNotPlainOf({ type: 'object', properties: { id: { type: 'integer' }, _sdc_extra: { type: ['object', 'null'] } } })).toBeNull();
  });
});

describe('random records, plain or not', () => {
  it('are written from their bytes only when the parsing path writes the very same row', () => {
    const random = seededRandom(20261203);
    let plainRows = 0;
    const total = 2000;
    let schema = randomSchema(random);
    for (let n = 0; n < total; n++) {
      if (n % 20 === 0) schema = randomSchema(random); // ajv compiles each schema once: ~10 ms
      const line = `{"type":"RECORD","stream":"s","record":${randomRecord(random, schema)}${random.next() < 0.5 ? ',"time_extracted":"2025-01-15T08:00:00Z"' : ''}}`;
      const keys = Object.keys(schema.properties as object).includes('k') ? ['k'] : [];
      const encoder = random.next() < 0.5 ? spoolEncoder : copyEncoder;
      const row = plain(sinkFor(schema, keys, encoder), line);
      if (row === null) continue;
      plainRows += 1;
      const expected = parsed(sinkFor(schema, keys, encoder), line);
      expect({ line, ...expected }).toEqual({ line, row });
    }
    // The generator makes plenty of both.
    expect(plainRows).toBeGreaterThan(total * 0.1);
    expect(plainRows).toBeLessThan(total * 0.8);
  });
});

const LEAF_SCHEMAS: JsonSchema[] = [
  { type: 'integer' },
  { type: ['integer', 'null'] },
  { type: 'number' },
  { type: ['null', 'number'] },
  { type: 'string' },
  { type: ['string', 'null'] },
  { type: 'boolean' },
  { type: 'string', format: 'date-time' },
  { type: ['string', 'null'], format: 'date-time' },
  { type: 'string', format: 'date' },
  { type: 'string', format: 'time' },
  { type: 'string', format: 'uuid' },
  { type: 'string', format: 'email' },
  { anyOf: [{ type: 'integer' }, { type: 'null' }] },
  { type: ['string', 'integer'] },
  {},
];

function randomSchema(random: SeededRandom, depth = 0): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const count = 1 + Math.floor(random.next() * (depth === 0 ? 6 : 3));
  for (let i = 0; i < count; i++) {
    const name =
      i === 0 && depth === 0 && random.next() < 0.5
        ? 'k'
        : random.pick(['a', 'b', 'c', 'id', 'Name', 'é', 'x y', 'constructor', '__proto__', '10']) + i;
    const roll = random.next();
    properties[name] =
      depth < 2 && roll < 0.15
        ? { ...randomSchema(random, depth + 1), ...(random.next() < 0.3 ? { additionalProperties: false } : {}) }
        : depth < 2 && roll < 0.25
          ? { type: 'array', items: random.next() < 0.3 ? randomSchema(random, depth + 1) : random.pick(LEAF_SCHEMAS) }
          : random.pick(LEAF_SCHEMAS);
  }
  const schema: JsonSchema = { type: 'object', properties };
  if (random.next() < 0.2) schema.required = [Object.keys(properties)[0]!];
  if ('k' in properties) properties.k = random.pick([{ type: 'integer' }, { type: 'string' }, { type: 'string', format: 'date-time' }]);
  return schema;
}

/** Raw JSON text for a value of `schema`, often plain, sometimes odd in one of the ways taps are. */
function randomValue(random: SeededRandom, schema: JsonSchema, depth: number): string {
  const types = schema.anyOf
    ? ['integer', 'null']
    : Array.isArray(schema.type)
      ? schema.type
      : schema.type
        ? [schema.type]
        : ['integer', 'string', 'object'];
  if (random.next() < 0.05) return random.pick(['null', '"x"', '1', 'true', '[]', '{}', '1.0', '-0']);
  const type = random.pick(types as string[]);
  switch (type) {
    case 'null':
      return 'null';
    case 'integer':
      return random.pick([
        '0',
        '7',
        '-12',
        '123456789012345',
        '1234567890123456',
        '9007199254740993',
        '1.0',
        '1e2',
        '1E+2',
        '-0',
        '2.50e1',
        String(Math.floor(random.next() * 1e6)),
      ]);
    case 'number':
      return random.pick([
        '0',
        '1.5',
        '-0.25',
        '42.55',
        '42.50',
        '0.000001',
        '0.0000001',
        '1e-7',
        '100',
        '0.30000000000000004',
        '3.14159',
        '-0',
        '-0.0',
        '6.666666666666667e-06',
        '1.0000000000000002e+16',
        '1e21',
        '1234567890.123456789',
        '0.0',
        '1e400',
      ]);
    case 'boolean':
      return random.pick(['true', 'false']);
    case 'object': {
      const nested = schema.properties ? (schema as JsonSchema) : { type: 'object', properties: { p: {} } };
      if (depth > 3) return '{}';
      return randomObject(random, nested, depth + 1, random.next() < 0.1 ? ', ' : ',', random.next() < 0.1 ? ': ' : ':');
    }
    case 'array': {
      const items = (schema.items as JsonSchema | undefined) ?? {};
      const length = Math.floor(random.next() * 4);
      return `[${Array.from({ length }, () => randomValue(random, items, depth + 1)).join(random.next() < 0.1 ? ', ' : ',')}]`;
    }
    default: {
      const format = schema.format;
      if (format === 'date-time') {
        return JSON.stringify(
          random.pick([
            '2023-06-22T14:18:01.857-08:00',
            '2024-02-29T23:59:59Z',
            '2023-02-29T00:00:00Z',
            '2023-01-01T24:00:00Z',
            '2023-01-01T00:00:00',
            '2023-01-01 00:00:00Z',
            '2023-01-01T00:00:00.1234567Z',
            '2016-12-31T23:59:60Z',
            '2023-01-01T00:00:00+0530',
            '2023-12-31T10:00:00.5+05:30',
            '',
          ]),
        );
      }
      if (format === 'date') return JSON.stringify(random.pick(['2024-02-29', '2023-02-29', '2023-13-01', '0001-01-01', '']));
      if (format === 'time')
        return JSON.stringify(random.pick(['10:00', '10:00:00', '23:59:59.123456', '10:00:00Z', '24:00:00', '10:00:00.1234567']));
      if (format === 'uuid')
        return JSON.stringify(random.pick(['123e4567-e89b-12d3-a456-426614174000', '123E4567-E89B-12D3-A456-426614174000', 'not-a-uuid']));
      return random.pick([
        '"plain"',
        '""',
        '"Åsa 😀"',
        '"a\\"b"',
        '"\\u00e9"',
        '"tab\\there"',
        '"a,b;c"',
        '"12"',
        '"0"',
        '"\\ud800"',
        '"\\ud83d\\ude00"',
        '"back\\\\slash"',
        '"\\u0001"',
        '"\\u0000"',
        '"a\\/b"',
      ]);
    }
  }
}

function randomObject(random: SeededRandom, schema: JsonSchema, depth: number, comma = ',', colon = ':'): string {
  const properties = schema.properties as Record<string, JsonSchema>;
  const names = Object.keys(properties).filter(() => random.next() < 0.85);
  if (random.next() < 0.1) names.push(names[0] ?? 'dup');
  if (random.next() < 0.05) names.push('undeclared');
  if (random.next() < 0.3) names.reverse();
  return `{${names.map((name) => `${JSON.stringify(name)}${colon}${randomValue(random, properties[name] ?? {}, depth)}`).join(comma)}}`;
}

function randomRecord(random: SeededRandom, schema: JsonSchema): string {
  return randomObject(random, schema, 0, random.next() < 0.3 ? ', ' : ',', random.next() < 0.3 ? ': ' : ':');
}
