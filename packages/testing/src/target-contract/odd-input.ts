// Odd input through the real target CLI, with the exact values read back: what "loses nothing" means, case by case.
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { TargetHarness, TargetPlace, TargetRun } from './harness.js';
import { record, schema, state, text } from './lines.js';

/** What the contract suite hands these cases (its per-test place and its load/reject helpers). */
export interface OddInputContext {
  readonly harness: TargetHarness;
  place(): TargetPlace;
  run(input: { text: string }, extra?: Record<string, unknown>): Promise<TargetRun>;
  load(input: { text: string }, extra?: Record<string, unknown>): Promise<TargetRun>;
  reject(input: { text: string } | { stream: NodeJS.ReadableStream }, pattern: RegExp, extra?: Record<string, unknown>): Promise<TargetRun>;
}

/** A RECORD whose record is written as raw JSON text (numbers JSON.stringify would round). */
const rawRecord = (stream: string, json: string) => `{"type":"RECORD","stream":"${stream}","record":${json}}`;

const integer = { type: 'integer' };
const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: ['null', type], ...extra });

/** Exact decimals compared as numbers are written: no trailing fraction zeros (DuckDB pads to the column's scale). */
const decimalText = (value: unknown) =>
  value === null
    ? null
    : String(value)
        .replace(/(\.\d*?)0+$/, '$1')
        .replace(/\.$/, '');

// Long on purpose: a list of test cases, each a few lines, read one case at a time like a specification.
export function defineOddInputCases(context: OddInputContext): void {
  const { harness, load, reject, run } = context;
  const rows = (table: string, orderBy: readonly string[] = ['id']) => context.place().rows(table, orderBy);
  const column = async (table: string, name: string, orderBy = 'id') => (await rows(table, [orderBy])).map((row) => row[name]);
  /** Each `columns` value as the database's own text (`::text`), through a helper table: exact digits and microseconds. */
  async function asText(table: string, columns: readonly string[]): Promise<Record<string, unknown>[]> {
    const place = context.place();
    const list = columns.map((name) => `CAST("${name}" AS TEXT) AS "${name}"`).join(', ');
    await place.execute(`CREATE TABLE ${place.qualify(`${table}_text`)} AS SELECT "id", ${list} FROM ${place.qualify(table)}`);
    return rows(`${table}_text`);
  }

  describe('odd input: values read back exactly', () => {
    it('properties named like what every object inherits (constructor, toString, __proto__) hold their own values, or NULL when absent', async () => {
      const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];
      const properties = Object.fromEntries([['id', integer], ...names.map((name) => [name, nullable('string')])]);
      // Written as text: an object literal's __proto__ would set its prototype, not a property.
      const full = `{"id":1,${names.map((name) => `"${name}":"${name} value"`).join(',')}}`;
      await load(
        text(
          schema('inherited', properties, ['constructor']),
          rawRecord('inherited', full),
          record('inherited', { id: 2, constructor: 'only' }),
        ),
      );
      // Read back under plain names: a row object would have the same trouble with these.
      const place = context.place();
      await place.execute(
        `CREATE TABLE ${place.qualify('inherited_read')} AS SELECT "id", "constructor" AS c, "to_string" AS t, "__proto__" AS p, "has_own_property" AS h FROM ${place.qualify('inherited')}`,
      );
      expect((await rows('inherited_read')).map((row) => [row.c, row.t, row.p, row.h])).toEqual([
        names.map((name) => `${name} value`),
        ['only', null, null, null],
      ]);
    });

    it('empty strings, whitespace, NULL and missing properties stay distinct, in text, JSON and nested objects', async () => {
      const properties = {
        id: integer,
        s: nullable('string'),
        j: {},
        o: nullable('object', { properties: { x: nullable('string') } }),
        a: nullable('array'),
      };
      await load(
        text(
          schema('blanks', properties),
          record('blanks', { id: 1, s: '', j: '', o: { x: '' }, a: [''] }),
          record('blanks', { id: 2, s: null, j: null, o: { x: null }, a: [null] }),
          record('blanks', { id: 3 }),
          record('blanks', { id: 4, s: ' \t ', j: ' ', o: { x: ' ' }, a: [' ', {}] }),
          record('blanks', { id: 5, s: '\\N', j: { k: '\\N', e: {} }, o: { x: '"' }, a: [] }),
        ),
      );
      const loaded = await rows('blanks');
      expect(loaded.map((row) => row.s)).toEqual(['', null, null, ' \t ', '\\N']);
      // A JSON null and a missing property are both SQL NULL; an empty JSON string is not.
      expect(loaded.map((row) => row.j)).toEqual(['', null, null, ' ', { k: '\\N', e: {} }]);
      expect(loaded.map((row) => row.o)).toEqual([{ x: '' }, { x: null }, null, { x: ' ' }, { x: '"' }]);
      expect(loaded.map((row) => row.a)).toEqual([[''], [null], null, [' ', {}], []]);
    });

    it('timestamps: offsets, no zone, 1-9 fraction digits (microseconds kept, further digits cut), years 0001-9999, leap seconds', async () => {
      const sent = [
        '2024-03-01T12:00:00+05:30',
        '2024-03-01T12:00:00-08:00',
        '2024-03-01T12:00:00+00:00',
        '2024-03-01T12:00:00Z',
        '2024-03-01T12:00:00',
        '2024-03-01 12:00:00.1Z',
        '2024-03-01T12:00:00.12Z',
        '2024-03-01T12:00:00.123456Z',
        '2024-03-01T12:00:00.1234567Z',
        '2024-03-01T12:00:00.999999999Z',
        '1969-07-20T20:17:40Z',
        '1900-01-01T00:00:00Z',
        '2038-01-19T03:14:08Z',
        '2100-12-31T23:59:59Z',
        '0001-01-01T00:00:00Z',
        '9999-12-31T23:59:59.999999Z',
        '2024-02-29t12:00z',
        '2016-12-31T23:59:60Z',
        '2016-12-31T23:59:60.5+01:00',
      ];
      await load(
        text(
          schema('times', { id: integer, at: nullable('string', { format: 'date-time' }) }),
          ...sent.map((at, id) => record('times', { id, at })),
        ),
      );
      expect((await asText('times', ['at'])).map((row) => row.at)).toEqual([
        '2024-03-01 06:30:00+00',
        '2024-03-01 20:00:00+00',
        '2024-03-01 12:00:00+00',
        '2024-03-01 12:00:00+00',
        '2024-03-01 12:00:00+00',
        '2024-03-01 12:00:00.1+00',
        '2024-03-01 12:00:00.12+00',
        '2024-03-01 12:00:00.123456+00',
        '2024-03-01 12:00:00.123456+00',
        '2024-03-01 12:00:00.999999+00',
        '1969-07-20 20:17:40+00',
        '1900-01-01 00:00:00+00',
        '2038-01-19 03:14:08+00',
        '2100-12-31 23:59:59+00',
        '0001-01-01 00:00:00+00',
        '9999-12-31 23:59:59.999999+00',
        '2024-02-29 12:00:00+00',
        '2017-01-01 00:00:00+00',
        '2016-12-31 23:00:00.5+00',
      ]);
    });

    it('year 0000 (1 BC, as ISO 8601 and JavaScript count) in timestamps and dates is stored as that day, not refused', async () => {
      await load(
        text(
          schema('year_zero', {
            id: integer,
            at: nullable('string', { format: 'date-time' }),
            day: nullable('string', { format: 'date' }),
          }),
          record('year_zero', { id: 1, at: '0000-01-01T00:00:00Z', day: '0000-06-15' }),
          record('year_zero', { id: 2, at: '0000-02-29T12:00:00.5Z', day: '0000-02-29' }), // year 0 is a leap year
          record('year_zero', { id: 3, at: '0000-12-31T23:30:00-05:00', day: null }), // an instant in AD 1
        ),
      );
      // PostgreSQL writes `0001-01-01 BC`, DuckDB `0001-01-01 (BC)`: one spelling here.
      const bc = (value: unknown) =>
        typeof value === 'string' && value.includes('BC') ? `${value.replace(' (BC)', '').replace(/ BC$/, '')} BC` : value;
      const loaded = (await asText('year_zero', ['at', 'day'])).map((row) => [bc(row.at), bc(row.day)]);
      expect(loaded).toEqual([
        ['0001-01-01 00:00:00+00 BC', '0001-06-15 BC'],
        ['0001-02-29 12:00:00.5+00 BC', '0001-02-29 BC'],
        ['0001-01-01 04:30:00+00', null],
      ]);
    });

    it('schemas with local $refs: columns get the type referred to, not untyped JSON', async () => {
      const message = {
        type: 'SCHEMA',
        stream: 'refs',
        schema: {
          type: 'object',
          definitions: { ts: { type: ['null', 'string'], format: 'date-time' } },
          $defs: { money: { type: 'number' }, node: { type: ['object', 'null'], properties: { next: { $ref: '#/$defs/node' } } } },
          properties: {
            id: integer,
            at: { $ref: '#/definitions/ts' },
            amount: { anyOf: [{ $ref: '#/$defs/money' }, { type: 'null' }] },
            tree: { $ref: '#/$defs/node' },
          },
        },
        key_properties: ['id'],
      };
      await load(
        text(
          JSON.stringify(message),
          record('refs', { id: 1, at: '2020-01-01T01:00:00+01:00', amount: 2.5, tree: { next: { next: null } } }),
        ),
      );
      expect(await context.place().columns('refs')).toMatchObject({ at: 'timestamp', amount: 'number', tree: 'json' });
      expect((await asText('refs', ['at'])).map((row) => row.at)).toEqual(['2020-01-01 00:00:00+00']);
      expect((await rows('refs')).map((row) => [row.amount, row.tree])).toEqual([[2.5, { next: { next: null } }]]);
    });

    it('a timestamp-without-zone column made by hand: an offset is honoured (the UTC time is stored), never dropped', async () => {
      const place = context.place();
      await place.execute(`CREATE TABLE ${place.qualify('naive')} (id BIGINT, seen TIMESTAMP)`);
      const sent = ['2020-01-01T10:00:00+05:30', '2020-01-01T10:00:00Z', '2020-01-01T10:00:00', '2019-12-31T23:30:00-01:00'];
      const input = text(
        schema('naive', { id: integer, seen: nullable('string', { format: 'date-time' }) }, []),
        ...sent.map((seen, id) => record('naive', { id, seen })),
      );
      await load(input);
      expect((await asText('naive', ['seen'])).map((row) => row.seen)).toEqual([
        '2020-01-01 04:30:00',
        '2020-01-01 10:00:00',
        '2020-01-01 10:00:00',
        '2020-01-01 00:30:00',
      ]);
    });

    it('times of day: an offset is honoured (the UTC time, never dropped), a leap second is the next second, the end of the day is 24:00:00, microseconds cut', async () => {
      const sent = [
        '10:00:00',
        '10:00:00+02:00',
        '01:30:00+02:00',
        '22:00:00-05:00',
        '10:00:00Z',
        '23:59:60',
        '10:00:00.1234567',
        '10:00',
        '24:00:00',
        '24:00+02:00',
      ];
      await load(
        text(
          schema('clock', { id: integer, t: nullable('string', { format: 'time' }) }),
          ...sent.map((t, id) => record('clock', { id, t })),
        ),
      );
      expect((await asText('clock', ['t'])).map((row) => row.t)).toEqual([
        '10:00:00',
        '08:00:00',
        '23:30:00',
        '03:00:00',
        '10:00:00',
        '24:00:00',
        '10:00:00.123456',
        '10:00:00',
        '24:00:00',
        '22:00:00',
      ]);
    });

    it('timestamps: a date that does not exist or a date alone is a clear error; rows before the last STATE are kept', async () => {
      const times = schema('times', { id: integer, at: nullable('string', { format: 'date-time' }) });
      const result = await reject(
        text(
          times,
          record('times', { id: 1, at: '2023-02-28T00:00:00Z' }),
          state({ at: 1 }),
          record('times', { id: 2, at: '2023-02-30T00:00:00Z' }),
        ),
        /line 4 \(stream "times"\): field "at": 2023-02-30 is not a date/,
      );
      expect(result.states).toEqual([{ at: 1 }]);
      expect(await column('times', 'id')).toEqual([1]);
      await reject(text(times, record('times', { id: 3, at: '1900-02-29T00:00:00Z' })), /line 2 .*field "at".*1900-02-29/);
      await reject(text(times, record('times', { id: 4, at: '2024-03-01' })), /line 2 .*field "at".*date-time/);
    });

    it('numbers: NaN and infinities as Python taps write them load into number columns, also under multipleOf and bounds; JSON cannot hold them, so a JSON value or a STATE holding one is a clear error', async () => {
      // pipelinewise-tap-postgres declares numeric columns (which hold NaN) with multipleOf and bounds.
      const floats = schema('floats', {
        id: integer,
        f: nullable('number'),
        t: nullable('string'),
        j: {},
        m: nullable('number', { multipleOf: 1e-38 }),
        b: nullable('number', { minimum: -1000, maximum: 1000, multipleOf: 0.01 }),
      });
      const input = text(
        floats,
        rawRecord('floats', '{"id":1,"f":NaN,"t":"NaN","j":{"s":"Infinity"},"m":NaN,"b":NaN}'),
        rawRecord('floats', '{"id":2,"f":-Infinity,"t":null,"j":null,"m":-Infinity,"b":-999.99}'),
        rawRecord('floats', '{"id":3,"f":Infinity,"m":Infinity}'),
      );
      await load(input);
      expect((await rows('floats')).map((row) => [row.f, row.t, row.j, row.m, row.b])).toEqual([
        [NaN, 'NaN', { s: 'Infinity' }, NaN, NaN],
        [-Infinity, null, null, -Infinity, -999.99],
        [Infinity, null, null, Infinity, null],
      ]);
      await reject(
        text(floats, rawRecord('floats', '{"id":4,"j":{"x":[1,NaN]}}')),
        /line 2 \(stream "floats"\): field "j": .*NaN or Infinity/,
      );
      await reject(text(floats, '{"type":"STATE","value":{"high":Infinity}}'), /line 2: the STATE value holds NaN or Infinity/);
      await reject(text(floats, rawRecord('floats', '{"id":5,"f":nan}')), /line 2 \(stream "floats"\): invalid JSON/);
    });

    it('numbers: int64 edges, 2^53 +- 1, beyond int64, doubles at their limits, negative zero and 30-digit decimals, exact', async () => {
      await load(
        text(
          schema('numbers', {
            id: integer,
            i: nullable('integer'),
            f: nullable('number'),
            d: nullable('string', { format: 'x-singer.decimal' }),
            // Spellings x-singer.decimal admits: no digit before or after the point, a + sign.
            e: nullable('string', { format: 'x-singer.decimal' }),
          }),
          rawRecord('numbers', '{"id":1,"i":9007199254740993,"f":1e300,"d":"0.123456789012345678901234567890","e":".5"}'),
          rawRecord('numbers', '{"id":2,"i":-9007199254740993,"f":5e-324,"d":"-123456789012345678901234567890.5","e":"5."}'),
          rawRecord('numbers', '{"id":3,"i":9223372036854775807,"f":-0.0,"d":"1e30","e":"-.25"}'),
          rawRecord('numbers', '{"id":4,"i":-9223372036854775808,"f":3,"d":"3","e":"+.5"}'),
          rawRecord('numbers', '{"id":5,"i":9007199254740991,"f":1.7976931348623157e308,"d":"0.1","e":"+7"}'),
          rawRecord('numbers', '{"id":6,"i":-9007199254740991,"f":0.30000000000000004,"d":null,"e":null}'),
        ),
      );
      const loaded = await rows('numbers');
      // As the numbers they are (DuckDB stored `.5` as text, in a text column, before).
      expect(loaded.map((row) => decimalText(row.e))).toEqual(['0.5', '5', '-0.25', '0.5', '7', null]);
      expect((await context.place().columns('numbers')).f).toBe('number'); // these doubles need no exact column
      expect(loaded.map((row) => row.i)).toEqual([
        '9007199254740993',
        '-9007199254740993',
        '9223372036854775807',
        '-9223372036854775808',
        9007199254740991,
        -9007199254740991,
      ]);
      expect(loaded.map((row) => row.f)).toEqual([1e300, 5e-324, -0, 3, 1.7976931348623157e308, 0.30000000000000004]);
      expect(Object.is(loaded[2]!.f, -0)).toBe(true);
      expect(loaded.map((row) => decimalText(row.d))).toEqual(
        ['0.12345678901234567890123456789', '-123456789012345678901234567890.5', '1000000000000000000000000000000', 3, 0.1, null].map(
          (value) => (value === null ? null : decimalText(value)),
        ),
      );

      // Beyond int64 the integer column becomes exact; the values already there stay as they were.
      await load(
        text(schema('numbers', { id: integer, i: nullable('integer') }), rawRecord('numbers', '{"id":7,"i":9223372036854775808}')),
      );
      expect((await context.place().columns('numbers')).i).toBe('decimal');
      expect((await column('numbers', 'i')).map(decimalText)).toEqual([
        '9007199254740993',
        '-9007199254740993',
        '9223372036854775807',
        '-9223372036854775808',
        '9007199254740991',
        '-9007199254740991',
        '9223372036854775808',
      ]);
    });

    it('bytes (interpret_content_encoding): text that is not hex is refused by field, a bytes key upserts, and a schema without the encoding turns the column into its hex text', async () => {
      const hex = { type: 'string', contentEncoding: 'base16' };
      const bytes = { interpret_content_encoding: true };
      const blobs = (...lines: string[]) =>
        text(schema('blobs', { id: hex, data: nullable('string', { contentEncoding: 'base16' }) }), ...lines);
      const result = await reject(
        blobs(record('blobs', { id: '0x01', data: 'ff' }), state({ at: 1 }), record('blobs', { id: '02', data: '0xfg' })),
        /line 4 \(stream "blobs"\): field "data": "0xfg" is not base16/,
        bytes,
      );
      expect(result.states).toEqual([{ at: 1 }]);
      // `0x01`, `01` and `1` are one key: the last record wins.
      await load(
        blobs(
          record('blobs', { id: '1', data: '0xABCD' }),
          record('blobs', { id: '02', data: null }),
          record('blobs', { id: '0X02', data: '' }),
        ),
        bytes,
      );
      const hexOf = (value: unknown) => (value === null ? null : Buffer.from(value as Uint8Array).toString('hex'));
      expect((await rows('blobs')).map((row) => [hexOf(row.id), hexOf(row.data)])).toEqual([
        ['01', 'abcd'],
        ['02', ''],
      ]);
      // Without the option the same schema is text: the column becomes each value's hex, nothing lost.
      await load(blobs(record('blobs', { id: '0x03', data: 'Zz' })));
      expect(await context.place().columns('blobs')).toMatchObject({ id: 'string', data: 'string' });
      expect((await rows('blobs')).map((row) => [row.id, row.data])).toEqual([
        ['01', 'abcd'],
        ['02', ''],
        ['0x03', 'Zz'],
      ]);
    });

    it('type changes mid-stream and across runs widen in place; no value is lost or reformatted', async () => {
      const stringOrObject = { anyOf: [{ type: 'string' }, { type: 'object' }, { type: 'null' }] };
      await load(
        text(
          schema('changes', {
            id: integer,
            a: integer,
            b: integer,
            c: { type: 'string' },
            d: { type: 'number' },
            e: { type: 'boolean' },
            f: integer,
            g: { type: 'string' },
            Name: { type: 'string' },
            // Doubles of 16 digits, and one that prints with an exponent, turning exact below; JSON turning text.
            x: { type: 'number' },
            y: { type: 'number' },
            z: { type: 'number' },
            js: stringOrObject,
            jo: stringOrObject,
          }),
          record('changes', {
            id: 1,
            a: 1,
            b: 2,
            c: '3',
            d: 4.5,
            e: true,
            f: 5,
            g: 'kept',
            Name: 'upper',
            x: 1234567.123456789,
            y: 0.00001,
            z: 0.30000000000000004,
            js: 'cus_123',
            jo: { id: 'cus_456' },
          }),
        ),
      );
      // The next run: integer->number, integer->string, string->integer, number->integer,
      // boolean->string, integer->object, `g` removed, `Name` now spelled `name`, `h` new and
      // nullable, then mid-stream `h` integer->number; doubles -> integer (exact decimal), JSON -> string.
      await load(
        text(
          schema('changes', {
            id: integer,
            a: { type: 'number' },
            b: { type: 'string' },
            c: integer,
            d: integer,
            e: { type: 'string' },
            f: { type: 'object' },
            name: nullable('string'),
            h: nullable('integer'),
            x: integer,
            y: integer,
            z: integer,
            js: nullable('string'),
            jo: nullable('string'),
          }),
          record('changes', {
            id: 2,
            a: 1.25,
            b: 'two',
            c: 3,
            d: 4,
            e: 'yes',
            f: { k: 1 },
            name: 'lower',
            h: 7,
            x: 2,
            y: 3,
            z: 4,
            js: 'cus_789',
            jo: 'plain',
          }),
          schema('changes', { id: integer, h: nullable('number') }),
          record('changes', { id: 3, h: 7.5 }),
        ),
      );
      const loaded = await rows('changes');
      expect(loaded.map((row) => [row.a, row.b, row.c, row.d, row.e, row.f, row.g, row.name, row.h])).toEqual([
        [1, '2', '3', 4.5, 'true', 5, 'kept', 'upper', null],
        [1.25, 'two', '3', 4, 'yes', { k: 1 }, null, 'lower', 7],
        [null, null, null, null, null, null, null, null, 7.5],
      ]);
      // Every stored double keeps all its digits (PostgreSQL's ::numeric kept 15), and a JSON
      // string becomes its own text, without quotes; an object keeps its JSON text.
      expect(loaded.map((row) => [decimalText(row.x), decimalText(row.y), decimalText(row.z), row.js])).toEqual([
        ['1234567.123456789', '0.00001', '0.30000000000000004', 'cus_123'],
        ['2', '3', '4', 'cus_789'],
        [null, null, null, null],
      ]);
      expect(JSON.parse(loaded[0]!.jo as string)).toEqual({ id: 'cus_456' });
      expect(loaded[1]!.jo).toBe('plain');
      expect(await context.place().columns('changes')).toMatchObject({
        a: 'decimal',
        b: 'string',
        c: 'string',
        d: 'decimal',
        e: 'string',
        f: 'json',
        g: 'string',
        name: 'string',
        h: 'decimal',
        x: 'decimal',
        y: 'decimal',
        z: 'decimal',
        js: 'string',
        jo: 'string',
      });
    });

    it('a column added and widened after existing rows were upserted in the same transaction', async () => {
      const upserts = (properties: Record<string, unknown>) => schema('upserted', { id: integer, v: integer, ...properties });
      await load(text(upserts({}), record('upserted', { id: 1, v: 1 }), record('upserted', { id: 2, v: 2 })));
      await load(
        text(
          upserts({}),
          record('upserted', { id: 1, v: 10 }),
          upserts({ w: { type: 'string' } }),
          record('upserted', { id: 2, v: 20, w: 'x' }),
          rawRecord('upserted', '{"id":3,"v":123456789012345678901234567890}'),
        ),
      );
      expect((await rows('upserted')).map((row) => [row.id, decimalText(row.v), row.w])).toEqual([
        [1, '10', null],
        [2, '20', 'x'],
        [3, '123456789012345678901234567890', null],
      ]);
    });

    it('key_properties changing between runs: rows are matched by the new key; the first key stays a key', async () => {
      await load(text(schema('keyed', { id: integer, x: nullable('string') }), record('keyed', { id: 1, x: null })));
      const byX = (...records: Record<string, unknown>[]) =>
        text(schema('keyed', { id: integer, x: { type: 'string' } }, ['x']), ...records.map((value) => record('keyed', value)));
      await load(byX({ id: 9, x: 'k1' }, { id: 10, x: 'k1' }));
      await load(byX({ id: 11, x: 'k1' }));
      expect((await rows('keyed')).map((row) => [row.id, row.x])).toEqual([
        [1, null],
        [11, 'k1'],
      ]);
    });

    it('a keyed stream that turns keyless appends; where the first key made a primary key (PostgreSQL), a repeat is refused saying why', async () => {
      await load(text(schema('unkeyed', { id: integer, v: nullable('string') }), record('unkeyed', { id: 1, v: 'a' })));
      const keyless = text(
        schema('unkeyed', { id: integer, v: nullable('string') }, []),
        record('unkeyed', { id: 2, v: 'b' }),
        record('unkeyed', { id: 1, v: 'c' }),
      );
      if (harness.primaryKeys) {
        await reject(
          keyless,
          /line 3 \(stream "unkeyed"\): .*duplicate key.*records are appended here, as the stream sends no key_properties/,
        );
        expect((await rows('unkeyed')).map((row) => [row.id, row.v])).toEqual([[1, 'a']]);
        return;
      }
      await load(keyless);
      expect((await rows('unkeyed', ['id', 'v'])).map((row) => [row.id, row.v])).toEqual([
        [1, 'a'],
        [1, 'c'],
        [2, 'b'],
      ]);
    });

    it('key_properties narrowed between runs: a record whose new key matches several rows is refused, naming the key (and where a primary key stands, PostgreSQL, the old key and the new); the rows stay as they were', async () => {
      const keyed = (key: string[]) => schema('rekeyed', { id: integer, org: integer, v: nullable('string') }, key);
      await load(
        text(
          keyed(['id', 'org']),
          record('rekeyed', { id: 1, org: 1, v: 'a' }),
          record('rekeyed', { id: 1, org: 2, v: 'b' }),
          record('rekeyed', { id: 2, org: 1, v: 'c' }),
        ),
      );
      // By id alone, id 1 matches two rows: updating both would leave two identical rows.
      await reject(
        text(keyed(['id']), record('rekeyed', { id: 2, org: 1, v: 'c2' }), record('rekeyed', { id: 1, org: 3, v: 'd' })),
        harness.primaryKeys
          ? /^CRITICAL input lines 2-3 \(stream "rekeyed"\): PostgreSQL refused the data: duplicate key .*\(Key \(id, org\)=\(1, 3\) already exists\): the table's primary key \(id, org\) comes from the stream's earlier key_properties .* now matched by key_properties \(id\)/
          : /^CRITICAL line 3 \(stream "rekeyed"\): the record's key \(id\) = \(1\) matches 2 rows of table \S+\.rekeyed, loaded while the stream had other key_properties/,
      );
      expect((await rows('rekeyed', ['id', 'org'])).map((row) => [row.id, row.org, row.v])).toEqual([
        [1, 1, 'a'],
        [1, 2, 'b'],
        [2, 1, 'c'],
      ]);
    });

    it('names: case, punctuation, keywords, unicode, long names and a dotted db-schema-table stream never collapse', async () => {
      const long = 'x'.repeat(70);
      const names = [
        'a-b',
        'a_b',
        'A B',
        'aB',
        'select',
        'from',
        'order',
        'Ünïcödé',
        '名前',
        `${long}_one`,
        `${long}_two`,
        'é'.repeat(40),
        '',
        ' ',
      ];
      const value = Object.fromEntries(names.map((name, index) => [name, `v${index}`]));
      const stream = 'my.db-sch.ema-ta.ble';
      await load(
        text(
          schema(stream, { id: integer, ...Object.fromEntries(names.map((name) => [name, nullable('string')])) }),
          record(stream, { id: 1, ...value }),
        ),
      );
      const columns = Object.keys(await context.place().columns('ta_ble'));
      const max = harness.name.startsWith('postgres') ? 63 : 255;
      for (const name of columns) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(max);
      const [row] = await rows('ta_ble');
      const loaded = Object.entries(row!)
        .filter(([name]) => !name.startsWith('_sdc_') && name !== 'id')
        .map(([, v]) => v);
      expect(loaded.sort()).toEqual(Object.values(value).sort());
      expect(row).toMatchObject({ a_b: 'v1', select: 'v4', from: 'v5', order: 'v6', ünïcödé: 'v7', 名前: 'v8' });
    });

    it('records: a null key is refused by name; duplicate keys within a batch, across batches and across runs: the last wins', async () => {
      const keyed = schema('dups', { id: nullable('integer'), v: nullable('string') }); // nullable: the key check, not validation, refuses the null
      await reject(text(keyed, record('dups', { id: null, v: 'x' })), /line 2 \(stream "dups"\).*key property "id"/);
      await load(
        text(
          keyed,
          ...['a', 'b', 'c', 'd', 'e'].map((v, n) => record('dups', { id: n % 2, v })),
          state(1),
          record('dups', { id: 0, v: 'f' }),
        ),
        { batch_size_rows: 2 },
      );
      await load(text(keyed, record('dups', { id: 1, v: 'g' }), record('dups', { id: 2, v: 'h' }), record('dups', { id: 1, v: 'i' })));
      expect((await rows('dups')).map((row) => [row.id, row.v])).toEqual([
        [0, 'f'],
        [1, 'i'],
        [2, 'h'],
      ]);
    });

    it('records: a 10 MB text, JSON 100 levels deep, unicode escapes and 1,000 columns arrive whole', async () => {
      const big = 'abc\u00e9'.repeat(2.5 * 1024 * 1024); // 10 MB of characters
      let deep: Record<string, unknown> = { leaf: 'é\u2028😀\\' };
      for (let depth = 0; depth < 100; depth++) deep = { d: deep, n: depth };
      const wide = Object.fromEntries(Array.from({ length: 1000 }, (_, n) => [`c${n}`, n % 3 === 0 ? null : `v${n}`]));
      await load(
        text(
          schema('heavy', { id: integer, t: nullable('string'), j: {} }),
          '{"type":"RECORD","stream":"heavy","record":{"id":1,"t":"\\u00e9\\ud83d\\ude00\\u2028\\t\\n\\r","j":{"s":"\\u00e9"}}}',
          record('heavy', { id: 2, t: big, j: deep }),
          schema('wide', { id: integer, ...Object.fromEntries(Object.keys(wide).map((name) => [name, nullable('string')])) }),
          record('wide', { id: 1, ...wide }),
        ),
      );
      const heavy = await rows('heavy');
      expect(heavy[0]).toMatchObject({ t: 'é😀\u2028\t\n\r', j: { s: 'é' } });
      expect(heavy[1]!.t === big).toBe(true);
      expect(heavy[1]!.j).toEqual(deep);
      const [row] = await rows('wide');
      expect(Object.fromEntries(Object.keys(wide).map((name) => [name, row![name]]))).toEqual(wide);
    });

    it('records: NUL in JSON is refused by field on PostgreSQL unless sanitize_null_characters; DuckDB keeps it', async () => {
      const input = text(schema('nul', { id: integer, j: {} }), record('nul', { id: 1, j: { s: 'a\u0000b' } }));
      if (harness.textAcceptsNul) {
        await load(input);
        expect((await rows('nul'))[0]!.j).toEqual({ s: 'a\u0000b' });
        return;
      }
      await reject(input, /line 2 \(stream "nul"\): field "j": .*NUL.*sanitize_null_characters/);
      await load(input, { sanitize_null_characters: true });
      expect((await rows('nul'))[0]!.j).toEqual({ s: 'ab' });
    });

    it('records: an unpaired surrogate (JSON "\\ud800") is refused by field, never turned into U+FFFD unasked; replace_unpaired_surrogates stores U+FFFD', async () => {
      const input = text(
        schema('lone', { id: integer, t: nullable('string'), j: {} }),
        // Pairs, escaped or not, are characters; a backslash before "ud800" is text.
        rawRecord('lone', '{"id":1,"t":"\\ud83d\\ude00 😀 \\\\ud800","j":{"s":"\\ud83d\\ude00"}}'),
        rawRecord('lone', '{"id":2,"t":"a\\ud800b","j":null}'),
        rawRecord('lone', '{"id":3,"t":null,"j":{"s":"\\udc00\\udc00","k":["\\ud800"]}}'),
      );
      await reject(input, /line 3 \(stream "lone"\): field "t": .*unpaired UTF-16 surrogate.*replace_unpaired_surrogates/);
      await reject(
        text(schema('lone', { id: integer, j: {} }), rawRecord('lone', '{"id":3,"j":{"k":["\\ud800"]}}')),
        /line 2 \(stream "lone"\): field "j": .*unpaired/,
      );
      await load(input, { replace_unpaired_surrogates: true });
      const loaded = await rows('lone');
      expect(loaded.map((row) => row.t)).toEqual(['😀 😀 \\ud800', 'a\ufffdb', null]);
      expect(loaded.map((row) => row.j)).toEqual([{ s: '😀' }, null, { s: '\ufffd\ufffd', k: ['\ufffd'] }]);
    });
  });

  describe('odd input: schemas ajv cannot compile, text in typed columns, a schema with nothing to store', () => {
    // Schemas real taps send that ajv cannot compile (Python regexes, a $ref to nowhere, type names
    // JSON Schema does not have, keywords of the wrong type, no schema at all).
    const broken = {
      python_flag: { type: 'string', pattern: '(?i)^abc$' },
      python_end: { type: 'string', pattern: '^abc\\Z' },
      nowhere: { $ref: '#/definitions/nowhere' },
      any: { type: 'any' },
      timestamp: { type: ['null', 'timestamp'] },
      minimum: { type: 'number', minimum: '5' },
      items: { type: 'array', items: 'string' },
      nothing: null,
    };

    it("a property schema ajv cannot compile is refused at the SCHEMA's line, naming stream and property and saying how to load it; rows before are kept", async () => {
      const result = await reject(
        text(schema('loose', { id: integer }), record('loose', { id: 1 }), state({ at: 1 }), schema('loose', { id: integer, ...broken })),
        /^CRITICAL line 4 \(stream "loose"\): the schema of property "python_flag" cannot be compiled to validate records \(Invalid regular expression: .*\); validate_records: false loads the stream without validation/,
      );
      expect(result.states).toEqual([{ at: 1 }]);
      expect(await column('loose', 'id')).toEqual([1]);
    });

    it('validate_records off: such schemas load, typed as far as they can be read (else JSON); text in an integer or boolean column is read as PostgreSQL reads it, and text no integer is refused by line and field', async () => {
      const result = await reject(
        text(
          schema('loose', { id: integer, ...broken }),
          record('loose', {
            id: 1,
            python_flag: 'ABC',
            python_end: 'x',
            nowhere: { a: 1 },
            any: [1],
            timestamp: '2021-01-01',
            minimum: 2,
            items: [1],
            nothing: 'n',
          }),
          schema('lax', { id: integer, i: nullable('integer'), b: nullable('boolean') }),
          record('lax', { id: 1, i: ' 7 ', b: 'yes' }),
          record('lax', { id: 2, i: '-0', b: ' off ' }),
          state({ at: 1 }),
          record('lax', { id: 3, i: '1.5', b: 'on' }),
        ),
        /^CRITICAL line 7 \(stream "lax"\): field "i": "1\.5" is not an integer/,
        { validate_records: false },
      );
      expect(result.states).toEqual([{ at: 1 }]);
      expect(await context.place().columns('loose')).toMatchObject({
        python_flag: 'string',
        python_end: 'string',
        nowhere: 'json',
        any: 'json',
        timestamp: 'json',
        minimum: 'number',
        items: 'json',
        nothing: 'json',
      });
      expect(await rows('loose')).toMatchObject([
        { python_flag: 'ABC', python_end: 'x', nowhere: { a: 1 }, any: [1], timestamp: '2021-01-01', minimum: 2, items: [1], nothing: 'n' },
      ]);
      // DuckDB's reader rounded "1.5" to 2 and refused "off" with spaces; both read them as PostgreSQL does now.
      expect((await rows('lax')).map((row) => [row.id, row.i, row.b])).toEqual([
        [1, 7, true],
        [2, 0, false],
      ]);
    });

    it('a schema without properties, with add_record_metadata off, has nothing to store: refused at its line', async () => {
      await reject(
        text(schema('bare', {}, [])),
        /^CRITICAL line 1 \(stream "bare"\): the schema declares no properties and add_record_metadata is off, so the stream has no column to store anything in/,
        { add_record_metadata: false },
      );
    });
  });

  describe('odd input: records that carry _sdc_ metadata of their own (a table a Singer target loaded, read again by a tap)', () => {
    it('_sdc_deleted_at and _sdc_extracted_at fill the metadata columns; _sdc_sequence, _sdc_batched_at and the rest keep their values in columns of their own', async () => {
      const hashed = (name: string) => `${name}__${createHash('sha1').update(name).digest('hex').slice(0, 8)}`;
      const declared = { id: integer, _sdc_sequence: nullable('string'), _sdc_extracted_at: nullable('string', { format: 'date-time' }) };
      await load(
        text(
          schema('relay', declared),
          record('relay', {
            id: 1,
            _sdc_sequence: 'abc',
            _sdc_extracted_at: '2020-01-01T00:00:00Z',
            _sdc_batched_at: '2019-05-05T00:00:00Z',
            _sdc_table_version: 7,
          }),
        ),
      );
      const [row] = await asText('relay', [
        '_sdc_extracted_at',
        hashed('_sdc_sequence'),
        hashed('_sdc_batched_at'),
        hashed('_sdc_table_version'),
      ]);
      expect(row).toEqual({
        id: 1,
        _sdc_extracted_at: '2020-01-01 00:00:00+00',
        [hashed('_sdc_sequence')]: 'abc',
        [hashed('_sdc_batched_at')]: '2019-05-05T00:00:00Z',
        [hashed('_sdc_table_version')]: '7',
      });
      // The target's own metadata is still there, as always.
      const [loaded] = await rows('relay');
      expect(typeof loaded!._sdc_sequence === 'number' || typeof loaded!._sdc_sequence === 'string').toBe(true);
      expect(loaded!._sdc_batched_at).not.toBeNull();
    });
  });

  describe('odd input: properties the schema does not declare (load_undeclared_properties)', () => {
    it('a keyed stream whose records gain undeclared properties mid-run: columns added once, earlier rows NULL, upserts fill them', async () => {
      const keyed = schema('gains', { id: integer, v: nullable('string'), a_b: nullable('string') });
      const result = await load(
        text(
          keyed,
          record('gains', { id: 1, v: 'one' }),
          record('gains', { id: 2, v: 'two', extra: 'x' }),
          state({ at: 2 }),
          record('gains', { id: 3, v: 'three', extra: 'y', n: 5, 'a-b': 'dash', a_b: 'underscore', nothing: null }),
          record('gains', { id: 1, v: 'one again', extra: 'z', obj: { k: [1, 'two'] } }),
        ),
        { batch_size_rows: 2 },
      );
      expect(result.stderr.match(/added column "extra" \(string\) for a property the schema does not declare/g)).toHaveLength(1);
      const dash = `a_b__${createHash('sha1').update('a-b').digest('hex').slice(0, 8)}`;
      expect(await context.place().columns('gains')).toMatchObject({ extra: 'string', n: 'integer', obj: 'json', [dash]: 'string' });
      expect(Object.keys(await context.place().columns('gains'))).not.toContain('nothing'); // only ever null: no column
      expect((await rows('gains')).map((row) => [row.id, row.v, row.extra, row.n, row.a_b, row[dash], row.obj])).toEqual([
        [1, 'one again', 'z', null, null, null, { k: [1, 'two'] }],
        [2, 'two', 'x', null, null, null, null],
        [3, 'three', 'y', 5, 'underscore', 'dash', null],
      ]);
      // The next run finds the columns: no new column, no warning; a value of another type widens it.
      const again = await load(text(keyed, record('gains', { id: 4, extra: 'w', n: 6.5 })));
      expect(again.stderr).not.toMatch(/added column/);
      expect((await rows('gains')).map((row) => [row.id, row.extra, decimalText(row.n)])).toEqual([
        [1, 'z', null],
        [2, 'x', null],
        [3, 'y', '5'],
        [4, 'w', '6.5'],
      ]);
    });

    it('an undeclared property whose type changes across records widens its column like a declared one; values exact', async () => {
      const values: Record<string, unknown>[] = [
        { id: 1, n: 1, s: 5, j: { a: 1 }, b: true, big: 1 },
        { id: 2, n: 1.5, s: 'five', j: 7, b: 3 },
        { id: 3, n: 2, j: 'x', b: null },
      ];
      await load(
        text(
          schema('shifting', { id: integer }),
          ...values.map((value) => record('shifting', value)),
          rawRecord('shifting', '{"id":4,"big":123456789012345678901234567890,"n":0.1}'),
        ),
      );
      expect(await context.place().columns('shifting')).toMatchObject({
        n: 'decimal',
        s: 'string',
        j: 'json',
        b: 'string',
        big: 'decimal',
      });
      const loaded = await rows('shifting');
      expect(loaded.map((row) => decimalText(row.n))).toEqual(['1', '1.5', '2', '0.1']);
      expect(loaded.map((row) => row.s)).toEqual(['5', 'five', null, null]);
      expect(loaded.map((row) => row.j)).toEqual([{ a: 1 }, 7, 'x', null]);
      expect(loaded.map((row) => row.b)).toEqual(['true', '3', null, null]);
      expect(loaded.map((row) => decimalText(row.big))).toEqual(['1', null, null, '123456789012345678901234567890']);
    });

    it('additionalProperties: false is unaffected: validation refuses the record; without validation the property is dropped with one warning', async () => {
      const closed = JSON.stringify({
        type: 'SCHEMA',
        stream: 'closed',
        key_properties: ['id'],
        schema: { type: 'object', properties: { id: integer }, additionalProperties: false },
      });
      await reject(text(closed, record('closed', { id: 1, extra: 'x' })), /line 2 \(stream "closed"\).*(additional|extra)/i);
      const result = await load(text(closed, record('closed', { id: 1, extra: 'x' }), record('closed', { id: 2, extra: 'y' })), {
        validate_records: false,
      });
      expect(result.stderr.match(/property "extra" is not in the schema and is not loaded/g)).toHaveLength(1);
      expect(Object.keys(await context.place().columns('closed'))).not.toContain('extra');
      expect(await column('closed', 'id')).toEqual([1, 2]);
    });

    it('load_undeclared_properties: false restores the old policy: not loaded, one warning per property', async () => {
      const result = await load(
        text(
          schema('undeclared', { id: integer }),
          record('undeclared', { id: 1, extra: 'x' }),
          record('undeclared', { id: 2, extra: 'y' }),
        ),
        { load_undeclared_properties: false },
      );
      expect(result.stderr.match(/property "extra" is not in the schema and is not loaded/g)).toHaveLength(1);
      expect(Object.keys(await context.place().columns('undeclared'))).not.toContain('extra');
    });
  });

  describe("odd input: flattening (data_flattening_max_level, or the SDK's flattening_enabled and flattening_max_depth)", () => {
    const object = (properties: Record<string, unknown>) => ({ type: ['null', 'object'], properties });
    const users = schema('users', {
      id: integer,
      user: object({
        id: integer,
        name: { type: 'string' },
        sub: object({ x: integer }),
        tags: { type: 'array', items: { type: 'string' } },
      }),
      meta: { type: ['null', 'object'] },
    });
    const sdkDepth1 = { flattening_enabled: true, flattening_max_depth: 1, add_record_metadata: false };

    it('objects with declared properties become parent__child columns to the depth; deeper objects, arrays and property-less objects stay JSON; an undeclared child gets its own column', async () => {
      await load(
        text(
          users,
          record('users', { id: 1, user: { id: 7, name: 'a', sub: { x: 1 }, tags: ['t'], extra: 'e' }, meta: { k: 1 } }),
          record('users', { id: 2, user: null, meta: null }),
          record('users', { id: 3, user: {} }),
        ),
        sdkDepth1,
      );
      expect(await context.place().columns('users')).toEqual({
        id: 'integer',
        user__id: 'integer',
        user__name: 'string',
        user__sub: 'json',
        user__tags: 'json',
        meta: 'json',
        user__extra: 'string',
      });
      expect(await rows('users')).toEqual([
        { id: 1, user__id: 7, user__name: 'a', user__sub: { x: 1 }, user__tags: ['t'], meta: { k: 1 }, user__extra: 'e' },
        { id: 2, user__id: null, user__name: null, user__sub: null, user__tags: null, meta: null, user__extra: null },
        { id: 3, user__id: null, user__name: null, user__sub: null, user__tags: null, meta: null, user__extra: null },
      ]);
    });

    it('records are validated as sent (nested fields too); names two properties would share, and the SDK setting without a depth, are refused', async () => {
      await reject(text(users, record('users', { id: 1, user: { id: 'seven' } })), /line 2 \(stream "users"\).*user.*id/, sdkDepth1);
      const clash = schema('clash', { id: integer, a: object({ b: integer }), a__b: integer });
      await reject(text(clash), /line 1 \(stream "clash"\).*properties "a"\."b" and "a__b" both flatten to the column name "a__b"/, {
        data_flattening_max_level: 1,
      });
      const refused = await run(text(users), { flattening_enabled: true });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/CRITICAL .*"flattening_max_depth" is missing/);
    });
  });

  describe('odd input: one key, spelled two ways', () => {
    it('an instant with two offsets, or a decimal with and without trailing zeros, is one key: one row, the last record wins, in a batch and across batches', async () => {
      const at = { type: 'string', format: 'date-time' };
      const exact = { type: 'string', format: 'x-singer.decimal' };
      const input = text(
        schema('spelled', { at, k: exact, v: integer }, ['at', 'k']),
        record('spelled', { at: '2020-01-01T00:00:00Z', k: '1.10', v: 1 }),
        record('spelled', { at: '2020-01-01T01:00:00+01:00', k: '1.1', v: 2 }),
        record('spelled', { at: '2019-12-31 19:00:00.000000-05:00', k: '11e-1', v: 3 }),
        record('spelled', { at: '2020-01-01T00:00:00.000001Z', k: '1.1', v: 4 }),
        state({ done: true }),
      );
      for (const batch_size_rows of [50_000, 1]) {
        await load(input, { batch_size_rows });
        const loaded = await rows('spelled', ['v']);
        expect(
          loaded.map((row) => row.v),
          `batch_size_rows ${batch_size_rows}`,
        ).toEqual([3, 4]);
      }
    });

    it('an object key with its keys in another order (nested too) is one key: one row, the last record wins, in a batch and across runs', async () => {
      const keyed = schema('object_keyed', { k: { type: 'object' }, v: integer }, ['k']);
      await load(
        text(
          keyed,
          record('object_keyed', { k: { a: 1, b: { c: 2, d: 3 } }, v: 1 }),
          record('object_keyed', { k: { b: { d: 3, c: 2 }, a: 1 }, v: 2 }),
          record('object_keyed', { k: { a: 2 }, v: 3 }),
        ),
      );
      await load(text(keyed, record('object_keyed', { k: { b: { c: 2, d: 3 }, a: 1 }, v: 4 })));
      const loaded = await rows('object_keyed', ['v']);
      expect(loaded.map((row) => [row.k, row.v])).toEqual([
        [{ a: 2 }, 3],
        [{ a: 1, b: { c: 2, d: 3 } }, 4],
      ]);
    });
  });

  describe('odd input: streams whose names normalise to the same table', () => {
    const hash = (stream: string) => createHash('sha1').update(stream).digest('hex').slice(0, 8);
    const activate = (stream: string, version: number) => JSON.stringify({ type: 'ACTIVATE_VERSION', stream, version });
    const versioned = (stream: string, version: number, value: Record<string, unknown>) =>
      JSON.stringify({ type: 'RECORD', stream, record: value, version });
    /** Two streams, interleaved record by record, each activating its own version (which deletes older versions in its table). */
    const twoStreams = (first: string, second: string, ids: number[], versions: [number, number]) => {
      const lines = [schema(first, { id: integer, v: nullable('string') }), schema(second, { id: integer, v: nullable('string') })];
      const both = [
        [first, versions[0]],
        [second, versions[1]],
      ] as const;
      for (const [stream, version] of both) lines.push(activate(stream, version));
      for (const id of ids) for (const [stream, version] of both) lines.push(versioned(stream, version, { id, v: `${stream} ${id}` }));
      for (const [stream, version] of both) lines.push(activate(stream, version));
      lines.push(state({ done: ids.length }));
      return text(...lines);
    };
    const settings = { hard_delete: true, batch_size_rows: 1 };
    const loaded = async (table: string) => (await rows(table)).map((row) => [row.id, row.v, Number(row._sdc_table_version)]);

    for (const [a, b, table] of [
      ['aliased_stream', 'aliased.stream', 'aliased_stream'],
      ['mystream', 'MYSTREAM', 'mystream'],
    ] as const) {
      it(`${a} and ${b}: the first keeps table ${table}, the other gets ${table}_<hash>; ACTIVATE_VERSION and hard_delete never touch the other's rows; a second run (streams in the other order) finds the same tables`, async () => {
        const other = `${table}_${hash(b)}`;
        const first = await load(twoStreams(a, b, [1, 2], [100, 200]), settings);
        expect(first.stderr).toContain(
          `WARN stream ${JSON.stringify(b)}: table ${context.place().config.default_target_schema}.${table} belongs to stream ${JSON.stringify(a)} (the names normalise alike); loading into table ${context.place().config.default_target_schema}.${other} instead`,
        );
        expect((await context.place().tables()).sort()).toEqual([table, other].sort());
        expect(await loaded(table)).toEqual([
          [1, `${a} 1`, 100],
          [2, `${a} 2`, 100],
        ]);
        expect(await loaded(other)).toEqual([
          [1, `${b} 1`, 200],
          [2, `${b} 2`, 200],
        ]);

        // Newer versions, the other stream first: id 1 is not re-sent, so each stream's own activation deletes it.
        await load(twoStreams(b, a, [2, 3], [400, 300]), settings);
        expect((await context.place().tables()).sort()).toEqual([table, other].sort());
        expect(await loaded(table)).toEqual([
          [2, `${a} 2`, 300],
          [3, `${a} 3`, 300],
        ]);
        expect(await loaded(other)).toEqual([
          [2, `${b} 2`, 400],
          [3, `${b} 3`, 400],
        ]);
      });
    }

    it('the owner survives a table rebuilt in a transaction (DuckDB rebuilds before adding a column after an upsert)', async () => {
      const keyed = (stream: string, properties: Record<string, unknown> = {}) =>
        schema(stream, { id: integer, v: nullable('string'), ...properties });
      await load(text(keyed('rebuilt'), record('rebuilt', { id: 1, v: 'a' })));
      await load(
        text(
          keyed('rebuilt'),
          record('rebuilt', { id: 1, v: 'b' }),
          keyed('rebuilt', { w: nullable('string') }),
          record('rebuilt', { id: 2, v: 'c', w: 'x' }),
        ),
      );
      await load(text(keyed('Rebuilt'), record('Rebuilt', { id: 1, v: 'other' })));
      expect((await rows('rebuilt')).map((row) => [row.id, row.v, row.w])).toEqual([
        [1, 'b', null],
        [2, 'c', 'x'],
      ]);
      expect((await rows(`rebuilt_${hash('Rebuilt')}`)).map((row) => [row.id, row.v])).toEqual([[1, 'other']]);
    });

    it('a table without an owner (made by hand) is adopted by the first stream that maps to it; its rows stay', async () => {
      const place = context.place();
      await place.execute(`CREATE TABLE ${place.qualify('handmade')} ("id" BIGINT, "v" TEXT)`);
      await place.execute(`INSERT INTO ${place.qualify('handmade')} VALUES (0, 'by hand')`);
      await load(text(schema('Handmade', { id: integer, v: nullable('string') }, []), record('Handmade', { id: 1, v: 'first' })));
      await load(text(schema('handmade', { id: integer, v: nullable('string') }, []), record('handmade', { id: 2, v: 'second' })));
      expect((await rows('handmade')).map((row) => [row.id, row.v])).toEqual([
        [0, 'by hand'],
        [1, 'first'],
      ]);
      expect((await rows(`handmade_${hash('handmade')}`)).map((row) => [row.id, row.v])).toEqual([[2, 'second']]);
    });
  });

  describe('odd input: the protocol', () => {
    it('STATE before any SCHEMA and without records, repeated STATE, lowercase types, CRLF, no final newline, interleaved streams', async () => {
      const lines = [
        state({ s: 0 }),
        schema('one', { id: integer }),
        state({ s: 1 }),
        state({ s: 1 }),
        '{"type":"schema","stream":"two","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
        record('one', { id: 1 }),
        '{"type":"record","stream":"two","record":{"id":2}}',
        record('one', { id: 3 }),
        '{"type":"state","value":{"s":2}}',
      ];
      const result = await load({ text: lines.join('\r\n') }, { state_table: 'tapline_state' });
      expect(result.states.at(-1)).toEqual({ s: 2 });
      expect(await column('one', 'id')).toEqual([1, 3]);
      expect(await column('two', 'id')).toEqual([2]);
      expect((await rows('tapline_state'))[0]!.value).toEqual({ s: 2 });
    });

    it('ACTIVATE_VERSION before and after the records, twice, with a version beyond int64', async () => {
      const version = '123456789012345678901';
      const activate = (v: string) => `{"type":"ACTIVATE_VERSION","stream":"versions","version":${v}}`;
      const rec = (id: number, v: string) => `{"type":"RECORD","stream":"versions","record":{"id":${id}},"version":${v}}`;
      const versions = schema('versions', { id: integer });
      await load(text(versions, rec(1, '1'), rec(2, '1'), activate('1')), { hard_delete: true });
      await load(text(versions, activate(version), rec(2, version), rec(3, version), activate(version), activate(version)), {
        hard_delete: true,
      });
      const loaded = await rows('versions');
      expect(loaded.map((row) => row.id)).toEqual([2, 3]);
      expect(loaded.map((row) => decimalText(row._sdc_table_version))).toEqual([version, version]);
    });

    it("time_extracted: each row gets its own record's (offsets, repeats, absent, an HTTP date); one that names no instant is NULL with one warning, never an error", async () => {
      const extracted = (stream: string, id: number, time?: string) =>
        JSON.stringify({ type: 'RECORD', stream, record: { id }, ...(time === undefined ? {} : { time_extracted: time }) });
      const india = '2024-03-01T12:00:00+05:30';
      const result = await load(
        text(
          schema('extracted', { id: integer }),
          extracted('extracted', 1, india),
          extracted('extracted', 2, india),
          extracted('extracted', 3, '2024-03-02T00:00:00.5Z'),
          extracted('extracted', 4),
          extracted('extracted', 5, india),
          extracted('extracted', 6, 'Mon, 01 Feb 2021 00:00:00 GMT'),
          state({ at: 1 }),
          // Metadata, not record data: the database refused these when the batch was written, or (a
          // date not in the calendar) the load stopped; the rows are kept, without the time.
          extracted('extracted', 7, '1612345678'),
          extracted('extracted', 8, ''),
          extracted('extracted', 9, '2021-01-01T00:00:00+00:00Z'),
          extracted('extracted', 10, '2024-02-30T00:00:00Z'),
        ),
      );
      expect((await asText('extracted', ['_sdc_extracted_at'])).map((row) => row._sdc_extracted_at)).toEqual([
        '2024-03-01 06:30:00+00',
        '2024-03-01 06:30:00+00',
        '2024-03-02 00:00:00.5+00',
        null,
        '2024-03-01 06:30:00+00',
        '2021-02-01 00:00:00+00',
        null,
        null,
        null,
        null,
      ]);
      const warnings = result.stderr.split('\n').filter((line) => line.startsWith('WARN '));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^WARN line \d+ \(stream "extracted"\): time_extracted is not a timestamp .*_sdc_extracted_at is NULL/);
    });

    it('a value or a schema nested too deeply to follow is a clear error naming line, stream and field; rows before the last STATE are kept', async () => {
      const depth = 100_000; // built as text: JSON.stringify itself could not write it
      const deepArray = '['.repeat(depth) + ']'.repeat(depth);
      const first = await reject(
        text(
          schema('deep_value', { id: integer, d: {} }),
          record('deep_value', { id: 1, d: [[1]] }),
          state({ at: 1 }),
          rawRecord('deep_value', `{"id":2,"d":${deepArray}}`),
        ),
        /^CRITICAL line 4 \(stream "deep_value"\): field "d": the value is nested 100000 levels deep/,
      );
      expect(first.states).toEqual([{ at: 1 }]);
      expect(await column('deep_value', 'd')).toEqual([[[1]]]);

      const deepSchema = `${'{"type":"object","properties":{"a":'.repeat(5_000)}{}${'}}'.repeat(5_000)}`;
      const badSchema = `{"type":"SCHEMA","stream":"deep_value","schema":{"type":"object","properties":{"id":{"type":"integer"},"d":${deepSchema}}},"key_properties":["id"]}`;
      await reject(
        text(state({ at: 2 }), badSchema),
        /^CRITICAL line 2 \(stream "deep_value"\): the schema is nested \d+ JSON levels deep, too deep to compile$/,
      );
      expect(await column('deep_value', 'id')).toEqual([1]);
    });

    it('a schema of 2,500 properties loads, or is refused in one clear sentence where the database holds fewer columns', async () => {
      const count = 2_500;
      const properties = Object.fromEntries([['id', integer], ...Array.from({ length: count }, (_, i) => [`p${i}`, nullable('string')])]);
      const input = text(schema('wide', properties), record('wide', { id: 1, p0: 'first', [`p${count - 1}`]: 'last' }));
      if (harness.maxColumns !== undefined && harness.maxColumns < count + 7) {
        await reject(input, /^CRITICAL line 1 \(stream "wide"\): \S+ refused to create table \S+: /);
        return;
      }
      await load(input);
      const [row] = await rows('wide');
      expect([row!.p0, row!.p1, row![`p${count - 1}`]]).toEqual(['first', null, 'last']);
    });

    it('bad input while the tap keeps its end of the pipe open: the target stops at once, with what came before the last STATE committed', async () => {
      const tap = new PassThrough();
      tap.write(
        text(schema('open_pipe', { id: integer }), record('open_pipe', { id: 1 }), state({ done: 1 }), record('open_pipe', { id: 'two' }))
          .text,
      );
      try {
        const result = await reject({ stream: tap }, /line 4 \(stream "open_pipe"\): field "id"/);
        expect(result.states).toEqual([{ done: 1 }]);
        expect(await column('open_pipe', 'id')).toEqual([1]);
      } finally {
        tap.end();
      }
    });

    it('a truncated last line is an error; everything up to the last STATE is committed and echoed', async () => {
      const result = await reject(
        {
          text: [
            schema('cut', { id: integer }),
            record('cut', { id: 1 }),
            state({ at: 1 }),
            record('cut', { id: 2 }),
            '{"type":"RECORD","stream":"cut","rec',
          ].join('\n'),
        },
        /line 5 \(stream "cut"\)|line 5: /,
      );
      expect(result.states).toEqual([{ at: 1 }]);
      expect(await column('cut', 'id')).toEqual([1]);
    });
  });
}
