// The target contract: every peer-test stream, loaded with the expected rows or rejected with a clear error, on any destination.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defineCommentCases } from './comments.js';
import { defineHardeningCases } from './hardening.js';
import { runTargetCommand, type TargetHarness, type TargetPlace, type TargetRun } from './harness.js';
import { defineOddInputCases } from './odd-input.js';
import { PEER_TESTS_DIR, peer, pick, recordsIn } from './peer-files.js';
import { describeSdkSnapshots } from './sdk-snapshots.js';

export { PEER_TESTS_DIR };

const M = (name: string) => peer(`meltano-target-streams/${name}`);
const T = (name: string) => peer(`target-postgres/${name}`);
const S = (name: string) => peer(`singer-tools/${name}`);

function withoutNul(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\0', '');
  if (Array.isArray(value)) return value.map(withoutNul);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replaceAll('\0', ''), withoutNul(v)]));
  }
  return value;
}

/** A file to pipe into the target, inline text, or a stream (a tap that may keep its end of the pipe open). */
export type ContractInput = string | { text: string } | { stream: NodeJS.ReadableStream } | { inputOption: string };

/** The steps of the suite, handed to its other files (sdk-snapshots.ts) so they share one body per dialect. */
export interface ContractSteps {
  readonly harness: TargetHarness;
  /** The fresh place of the running test. */
  place(): TargetPlace;
  run(input: ContractInput, extra?: Record<string, unknown>): Promise<TargetRun>;
  /** Run and expect success: exit 0, no CRITICAL. */
  load(input: ContractInput, extra?: Record<string, unknown>): Promise<TargetRun>;
  /** Run and expect a clear rejection: non-zero exit, one CRITICAL sentence matching `pattern`, no stack trace. */
  reject(input: ContractInput, pattern: RegExp, extra?: Record<string, unknown>): Promise<TargetRun>;
  rows(table: string, orderBy?: readonly string[]): Promise<Record<string, unknown>[]>;
}

/**
 * Define the contract suite for one destination. Call it from a test file of the destination
 * package: `defineTargetContract(postgresHarness(...))`.
 */
// Long on purpose: a list of test cases, each a few lines, read one case at a time like a specification.
export function defineTargetContract(harness: TargetHarness): void {
  const peerTestsPresent = existsSync(PEER_TESTS_DIR);
  if (!peerTestsPresent && process.env.CI) {
    throw new Error(`target contract (${harness.name}): PEER_TESTS_DIR ${PEER_TESTS_DIR} is absent; in CI that is a failure, not a skip`);
  }
  if (!peerTestsPresent) {
    console.warn(`target contract (${harness.name}): PEER_TESTS_DIR ${PEER_TESTS_DIR} is absent; the peer-test streams are skipped`);
  }

  describe(`target contract: ${harness.name}`, () => {
    let skipReason: string | null = null;
    let place: TargetPlace;

    beforeAll(async () => {
      skipReason = await harness.unavailable();
      if (skipReason && process.env.CI)
        throw new Error(`target contract (${harness.name}) cannot run: ${skipReason}; in CI that is a failure, not a skip`);
      if (skipReason) console.warn(`target contract (${harness.name}) skipped: ${skipReason}`);
    });
    beforeEach(async (context) => {
      if (skipReason) return context.skip();
      place = await harness.open();
    });
    afterEach(async () => {
      if (!skipReason) await place?.close();
    });

    const run = (input: ContractInput, extra: Record<string, unknown> = {}): Promise<TargetRun> =>
      runTargetCommand(place, typeof input === 'string' ? { file: input } : input, extra);

    /** Load and expect success. */
    async function load(input: ContractInput, extra: Record<string, unknown> = {}): Promise<TargetRun> {
      const result = await run(input, extra);
      expect(result.stderr, `target failed on ${typeof input === 'string' ? input : 'inline input'}`).not.toMatch(/CRITICAL/);
      expect(result.code).toBe(0);
      return result;
    }

    /** Run and expect a clear rejection: non-zero exit, one CRITICAL sentence matching `pattern`, no stack trace. */
    async function reject(input: ContractInput, pattern: RegExp, extra: Record<string, unknown> = {}): Promise<TargetRun> {
      const result = await run(input, extra);
      expect(result.code).not.toBe(0);
      const critical = result.stderr.split('\n').filter((line) => line.startsWith('CRITICAL '));
      expect(critical).toHaveLength(1);
      expect(critical[0]).toMatch(pattern);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      return result;
    }

    const rows = (table: string, orderBy: readonly string[] = ['id']) => place.rows(table, orderBy);

    describe.skipIf(!peerTestsPresent)('Meltano SDK standard target streams (meltano-target-streams)', () => {
      it('array_data: 4 rows, arrays intact', async () => {
        await load(M('array_data.singer'));
        const loaded = await rows('test_array_data');
        expect(loaded).toHaveLength(4);
        expect(loaded[0]!.fruits).toEqual(recordsIn(M('array_data.singer'), 'test_array_data')[0]!.fruits);
      });

      it('camelcase: 2 rows; names follow the snake_case rule', async () => {
        await load(M('camelcase.singer'));
        expect(await rows('test_camelcase')).toHaveLength(2);
        expect(Object.keys(await place.columns('test_camelcase'))).toEqual(expect.arrayContaining(['id', 'client_name']));
      });

      it('camelcase_complex_schema: the second SCHEMA adds three columns to the empty table', async () => {
        await load(M('camelcase_complex_schema.singer'));
        const columns = await place.columns('forecasting_type_to_category');
        expect(Object.keys(columns)).toEqual(
          expect.arrayContaining(['age', 'new_camel_cased_attribute', '_attribute_startswith_underscore']),
        );
        expect(await rows('forecasting_type_to_category', [])).toEqual([]);
      });

      it('duplicate_records: the last record per key wins', async () => {
        await load(M('duplicate_records.singer'));
        expect(pick(await rows('test_duplicate_records'), ['id', 'metric'])).toEqual([
          { id: 1, metric: 100 },
          { id: 2, metric: 20 },
        ]);
      });

      it('encoded_string_data: exact round trip, or NUL refused by name unless sanitize_null_characters', async () => {
        const file = M('encoded_string_data.singer');
        const streams = { test_strings: 11, test_strings_in_objects: 11, test_strings_in_arrays: 6 };
        if (!harness.textAcceptsNul) {
          await reject(file, /line \d+ \(stream "test_strings"\).*NUL.*sanitize_null_characters/);
          expect(await place.tables()).not.toContain('test_strings_in_arrays');
        }
        const extra = harness.textAcceptsNul ? {} : { sanitize_null_characters: true };
        await load(file, extra);
        for (const [stream, count] of Object.entries(streams)) {
          const loaded = await rows(stream);
          expect(loaded).toHaveLength(count);
          const sent = recordsIn(file, stream).map((record) => (harness.textAcceptsNul ? record : withoutNul(record)));
          expect(pick(loaded, Object.keys(sent[0]!))).toEqual(sent);
        }
      });

      it('invalid_schema: a schema without properties is refused', async () => {
        await reject(M('invalid_schema.singer'), /line 1 \(stream "test_invalid_schema"\).*properties/);
      });

      it('multiple_state_messages: 6 rows per table; every emitted state was received, in order, final {a:5,b:6}', async () => {
        const file = M('multiple_state_messages.singer');
        const received = readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => line.includes('"STATE"'))
          .map((line) => (JSON.parse(line) as { value: unknown }).value);
        for (const batchSize of [50_000, 1]) {
          const result = await load(file, { batch_size_rows: batchSize });
          expect(result.states.length).toBeGreaterThan(0);
          let cursor = -1;
          for (const state of result.states) {
            const index = received.findIndex((value, i) => i > cursor && JSON.stringify(value) === JSON.stringify(state));
            expect(index, `state ${JSON.stringify(state)} was received, after the previous one`).toBeGreaterThan(cursor);
            cursor = index;
          }
          expect(result.states.at(-1)).toEqual({ test_multiple_state_messages_a: 5, test_multiple_state_messages_b: 6 });
        }
        expect(await rows('test_multiple_state_messages_a')).toHaveLength(6);
        expect(pick(await rows('test_multiple_state_messages_a'), ['id', 'metric'])[0]).toEqual({ id: 1, metric: 100 });
        expect(pick(await rows('test_multiple_state_messages_b'), ['id', 'metric'])[0]).toEqual({ id: 1, metric: 110 });
      });

      it('no_primary_keys then no_primary_keys_append, twice: 16 rows, no dedupe without a key', async () => {
        await load(M('no_primary_keys.singer'));
        expect(await rows('test_no_pk', [])).toHaveLength(3);
        await load(M('no_primary_keys_append.singer'));
        await load(M('no_primary_keys.singer'));
        await load(M('no_primary_keys_append.singer'));
        expect(await rows('test_no_pk', [])).toHaveLength(16);
      });

      it('optional_attributes: NULL where the field is missing', async () => {
        await load(M('optional_attributes.singer'));
        const loaded = await rows('test_optional_attributes');
        expect(loaded).toHaveLength(4);
        expect(pick(loaded, ['id', 'optional'])[0]).toEqual({ id: 1, optional: 'This is optional' });
        expect(loaded[1]!.optional).toBeNull();
      });

      it('pk_updates: key_properties inside the schema is not a key (our policy: keyless, both rows appended)', async () => {
        await load(M('pk_updates.singer'));
        expect(pick(await rows('example_stream'), ['id', 'name', 'email'])).toEqual([
          { id: 1, name: 'Alice', email: 'alice@example.com' },
          { id: 2, name: 'Bob', email: 'bob@example.com' },
        ]);
      });

      it('record_before_schema: refused', async () => {
        await reject(M('record_before_schema.singer'), /line 1 \(stream "test_record_before_schema"\).*before any SCHEMA/);
      });

      it('record_missing_fields: NULL for the missing field; an empty state is accepted (and echoed)', async () => {
        const result = await load(M('record_missing_fields.singer'));
        expect(await rows('record_missing_fields')).toHaveLength(2);
        expect(result.states).toEqual([{}]);
      });

      it('record_missing_key_property: refused, naming the key', async () => {
        await reject(M('record_missing_key_property.singer'), /line 2 \(stream "test_record_missing_key_property"\).*key property "id"/);
      });

      it('record_missing_required_property: a validation error; with validation off, a NULL id is appended', async () => {
        await reject(M('record_missing_required_property.singer'), /line 2 .*"id".*required/);
        await load(M('record_missing_required_property.singer'), { validate_records: false });
        expect(pick(await rows('test_record_missing_required_property', []), ['id'])).toEqual([{ id: null }]);
      });

      it('schema_no_properties: objects with and without declared properties stored as JSON', async () => {
        await load(M('schema_no_properties.singer'));
        const withProps = await rows('test_object_schema_with_properties', []);
        const without = await rows('test_object_schema_no_properties', []);
        expect(withProps).toHaveLength(2);
        expect(without).toHaveLength(2);
        expect(withProps.map((row) => row.object_store)).toEqual(
          expect.arrayContaining([
            { id: 1, metric: 187 },
            { id: 2, metric: 203 },
          ]),
        );
      });

      it('schema_updates: columns added one at a time; older rows NULL in newer columns', async () => {
        await load(M('schema_updates.singer'));
        const loaded = await rows('test_schema_updates');
        expect(loaded).toHaveLength(6);
        expect(pick(loaded, ['id', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6'])[0]).toEqual({
          id: 1,
          a1: 101,
          a2: 'string1',
          a3: null,
          a4: null,
          a5: null,
          a6: null,
        });
      });

      it('special_chars_in_attributes: table name normalised, nested keys kept in JSON', async () => {
        await load(M('special_chars_in_attributes.singer'));
        const loaded = await rows('test_special_chars_in_attributes', ['_id']);
        expect(pick(loaded, ['_id', 'd'])).toEqual([
          { _id: 'a2e98886', d: { env: 'prod', 'agent:type': 'desktop', 'agent:os:version': '10.13.1' } },
        ]);
      });

      it('user_location_data then user_location_upsert_data: keyed upsert across runs', async () => {
        await load(M('user_location_data.singer'));
        await load(M('user_location_upsert_data.singer'));
        expect(pick(await rows('test_users'), ['id', 'name'])).toEqual([
          { id: 1, name: 'Johny' },
          { id: 2, name: 'George' },
          { id: 3, name: 'Jacob' },
          { id: 4, name: 'Josh' },
          { id: 5, name: 'Jim' },
          { id: 8, name: 'Thomas' },
          { id: 12, name: 'Paul' },
          { id: 13, name: 'Mary' },
        ]);
        expect(pick(await rows('test_locations'), ['id', 'name'])).toEqual([
          { id: 1, name: 'Philly' },
          { id: 2, name: 'NY' },
          { id: 3, name: 'San Francisco' },
          { id: 6, name: 'Colorado' },
          { id: 8, name: 'Boston' },
        ]);
        const links = pick(await rows('test_user_in_location'), ['id', 'user_id', 'location_id']);
        expect(links.map((row) => row.id)).toEqual([1, 2, 3, 6, 14]);
        expect(links[0]).toMatchObject({ id: 1, location_id: 4 });
        expect(links[1]).toMatchObject({ id: 2, user_id: 2, location_id: 3 });
      });

      it('not-in-main/stream_name_parts: `schema-name` owns table `name`; `database-schema-name` maps there too, so it gets `name_<hash>` (our policy: two streams never share a table)', async () => {
        await load(M('not-in-main/stream_name_parts.singer'));
        expect(pick(await rows('name'), ['id', 'name'])).toEqual([{ id: 1, name: 'Anna' }]);
        const other = `name_${createHash('sha1').update('database-schema-name').digest('hex').slice(0, 8)}`;
        expect(pick(await rows(other), ['id', 'name'])).toEqual([{ id: 2, name: 'Bertha' }]);
      });

      it('not-in-main/string_formats: date, time and date-time get native types, other formats text', async () => {
        await load(M('not-in-main/string_formats.singer'));
        const columns = await place.columns('string_formats');
        expect(columns).toMatchObject({ date_time: 'timestamp', date: 'date', time: 'time', email: 'string', uuid: 'string' });
        expect(pick(await rows('string_formats', []), ['date_time', 'date', 'time'])).toEqual([
          { date_time: '2026-01-01T12:00:00.000Z', date: '2026-01-01', time: '12:00:00' },
        ]);
      });
    });

    describe.skipIf(!peerTestsPresent)('MeltanoLabs target-postgres streams (target-postgres)', () => {
      it('array_data (test_carts): row 1 keeps its array', async () => {
        await load(T('array_data.singer'));
        const loaded = await rows('test_carts');
        expect(loaded).toHaveLength(4);
        expect(loaded[0]!.fruits).toEqual(['apple', 'orange', 'pear']);
      });

      it('base16 content encoding, by default: not interpreted, the 7 strings stored verbatim', async () => {
        for (const kind of ['interpreted', 'not_interpreted']) {
          const file = T(`base16_content_encoding_${kind}.singer`);
          await load(file);
          const stream = `test_base_16_encoding_${kind}`;
          const sent = recordsIn(file, stream);
          expect(pick(await rows(stream), Object.keys(sent[0]!))).toEqual(
            [...sent].sort((a, b) => String(a.id).localeCompare(String(b.id), 'en', { numeric: true })),
          );
        }
      });

      it('base16 content encoding with interpret_content_encoding: bytes (0x optional, odd length has a leading zero, "" and "0x" are empty)', async () => {
        const file = T('base16_content_encoding_interpreted.singer');
        await load(file, { interpret_content_encoding: true });
        const stream = 'test_base_16_encoding_interpreted';
        expect(await place.columns(stream)).toMatchObject({ id: 'string', contract_address: 'bytes', raw_event_data: 'bytes' });
        const loaded = new Map((await rows(stream)).map((row) => [row.id, row]));
        expect(loaded.size).toBe(7);
        const hexOf = (id: string, column: string) => {
          const value = loaded.get(id)?.[column];
          return value === null ? null : Buffer.from(value as Uint8Array).toString('hex');
        };
        expect(hexOf('test_handle_odd_and_even_number_of_chars', 'raw_event_data')).toBe('0a12'); // "A12"
        expect(hexOf('test_handle_odd_and_even_number_of_chars', 'contract_address')).toBe('a1'); // "0xA1"
        expect(hexOf('test_handle_upper_and_lowercase_hex', 'raw_event_data')).toBe('a12b'); // "A12b"
        expect(hexOf('empty_0x_str', 'contract_address')).toBe('');
        expect(hexOf('empty_str', 'raw_event_data')).toBe('');
        expect(hexOf('test_nullable_field', 'raw_event_data')).toBeNull();
        expect(hexOf('test_handle_hex_without_the_0x_prefix', 'contract_address')).toBe('a1b2c3d4e5f607080910');
      });

      it('camelcase, camelcase_complex_schema, schema_no_properties, special_chars: load', async () => {
        for (const name of ['camelcase', 'camelcase_complex_schema', 'schema_no_properties', 'special_chars_in_attributes']) {
          await load(T(`${name}.singer`));
        }
        expect(await rows('test_camelcase')).toHaveLength(2);
      });

      it('commits: anyOf unions map to the expected column kinds', async () => {
        await load(T('commits.singer'));
        expect(await rows('commits')).toHaveLength(30);
        expect(await place.columns('commits')).toMatchObject({
          id: 'string',
          authored_date: 'timestamp',
          committed_date: 'timestamp',
          parent_ids: 'json',
          commit_message: 'string',
          legacy_id: 'string',
        });
      });

      it('duplicate_records, optional_attributes, missing_value', async () => {
        await load(T('duplicate_records.singer'));
        expect(pick(await rows('test_duplicate_records'), ['id', 'metric'])[0]).toEqual({ id: 1, metric: 100 });
        await load(T('optional_attributes.singer'));
        expect(pick(await rows('test_optional_attributes'), ['id', 'optional'])[0]).toEqual({ id: 1, optional: 'This is optional' });
        await load(T('missing_value.singer'));
        const missing = await rows('test_missing_value');
        expect(missing).toHaveLength(5);
        expect(missing[4]!.name).toBeNull();
      });

      it('encoded_strings (no NUL): 11, 11 and 6 rows, exact', async () => {
        const file = T('encoded_strings.singer');
        await load(file);
        for (const stream of ['test_strings', 'test_strings_in_objects', 'test_strings_in_arrays']) {
          const sent = recordsIn(file, stream);
          expect(pick(await rows(stream), Object.keys(sent[0]!))).toEqual(sent);
        }
      });

      it('invalid_schema, record_before_schema, record_missing_key_property, record_missing_required_property: refused', async () => {
        await reject(T('invalid_schema.singer'), /properties/);
        await reject(T('record_before_schema.singer'), /before any SCHEMA/);
        await reject(T('record_missing_key_property.singer'), /missing key property "id"/);
        await reject(T('record_missing_required_property.singer'), /"id".*required/);
      });

      it('jsonb_data: every JSON type at once -> json column; undeclared record keys do not break the load', async () => {
        await load(T('jsonb_data.singer'));
        expect((await place.columns('test_jsonb_data')).event_data).toBe('json');
        expect(pick(await rows('test_jsonb_data'), ['id', 'event_data'])).toEqual([
          { id: 1, event_data: null },
          { id: 2, event_data: { test: { test_name: 'test_value' } } },
        ]);
      });

      it('large_int: 99999999999999999 exact', async () => {
        await load(T('large_int.singer'));
        expect((await rows('test_large_int')).map((row) => String(row.id))).toContain('99999999999999999');
      });

      it('large_numeric_primary_key: a number key column works', async () => {
        await load(T('large_numeric_primary_key.singer'));
        expect(await rows('test_large_numeric_primary_key')).toHaveLength(1);
      });

      it('multiple_schema_messages: repeated identical SCHEMA is free and silent', async () => {
        const result = await load(T('multiple_schema_messages.singer'));
        expect(result.stderr).not.toMatch(/added|widened/);
        expect(await rows('test_multiple_schema_messages')).toHaveLength(6);
      });

      it('multiple_state_messages: 6 rows per table', async () => {
        const result = await load(T('multiple_state_messages.singer'));
        expect(await rows('test_multiple_state_messages_a')).toHaveLength(6);
        expect(await rows('test_multiple_state_messages_b')).toHaveLength(6);
        expect(result.states.at(-1)).toEqual({ test_multiple_state_messages_a: 5, test_multiple_state_messages_b: 6 });
      });

      it('new_array_column: a later SCHEMA adds an untyped array column to an existing table', async () => {
        await load(T('new_array_column.singer'));
        expect(await place.columns('test_new_array_column')).toMatchObject({ id: 'integer', arr: 'json' });
        expect(await rows('test_new_array_column')).toHaveLength(1);
      });

      it('reserved_keywords: 831 keyword-named columns, all quoted', async () => {
        await load(T('reserved_keywords.singer'));
        expect(await rows('reserved_keywords', [])).toHaveLength(1);
        expect(Object.keys(await place.columns('reserved_keywords')).length).toBeGreaterThanOrEqual(831);
      });

      it('schema_updates: row 1 numeric 101', async () => {
        await load(T('schema_updates.singer'));
        expect(pick(await rows('test_schema_updates'), ['id', 'a1', 'a2'])[0]).toEqual({ id: 1, a1: 101, a2: 'string1' });
      });

      it('tap_aapl and tap_countries: large nested records load', async () => {
        await load(T('tap_aapl.singer'));
        expect(await rows('aapl', [])).toHaveLength(1);
        await load(T('tap_countries.singer'));
        expect(await rows('continents', ['code'])).toHaveLength(7);
        expect(await rows('countries', ['code'])).toHaveLength(250);
      });

      it('ACTIVATE_VERSION, hard: older and NULL versions are deleted', async () => {
        await load(T('test_activate_version_deletes_data_properly.singer'), { hard_delete: true });
        const table = 'test_activate_version_deletes_data_properly';
        expect(await rows(table, ['code'])).toHaveLength(7);
        await place.execute(`INSERT INTO ${place.qualify(table)} (code, name) VALUES ('Manual1', 'Meltano'), ('Manual2', 'Meltano')`);
        await load(T('test_activate_version_deletes_data_properly_2.singer'), { hard_delete: true });
        expect(await rows(table, ['code'])).toHaveLength(0);
      });

      it('ACTIVATE_VERSION, hard: a record of an older version is removed; reruns are stable', async () => {
        const table = 'test_activate_version_hard';
        await load(T('test_activate_version_hard.singer'), { hard_delete: true });
        expect((await rows(table, ['code'])).map((row) => row.code)).not.toContain('XX');
        expect(await rows(table, ['code'])).toHaveLength(7);
        await place.execute(`INSERT INTO ${place.qualify(table)} (code, name) VALUES ('Manual1', 'Meltano'), ('Manual2', 'Meltano')`);
        await load(T('test_activate_version_hard.singer'), { hard_delete: true });
        expect(await rows(table, ['code'])).toHaveLength(7);
      });

      it('ACTIVATE_VERSION, soft: rows missing from the new version get _sdc_deleted_at, never re-stamped', async () => {
        const table = 'test_activate_version_soft';
        await load(T('test_activate_version_soft.singer'));
        expect(await rows(table, ['code'])).toHaveLength(7);
        await load(T('test_activate_version_soft_with_delete.singer'));
        let loaded = await rows(table, ['code']);
        expect(loaded).toHaveLength(7);
        const sa = loaded.find((row) => row.code === 'SA')!;
        expect(sa._sdc_deleted_at).not.toBeNull();
        expect(loaded.filter((row) => row._sdc_deleted_at !== null)).toHaveLength(1);
        await place.execute(`INSERT INTO ${place.qualify(table)} (code, name) VALUES ('Manual1', 'Meltano'), ('Manual2', 'Meltano')`);
        await load(T('test_activate_version_soft_with_delete.singer'));
        loaded = await rows(table, ['code']);
        expect(loaded).toHaveLength(9);
        expect(loaded.filter((row) => row._sdc_deleted_at !== null)).toHaveLength(3);
        expect(loaded.find((row) => row.code === 'SA')!._sdc_deleted_at).toBe(sa._sdc_deleted_at);
      });

      it('ACTIVATE_VERSION on a mixed-case stream name', async () => {
        await load(T('test_activate_version_uppercase_stream_name.singer'), { hard_delete: true });
        expect((await rows('account', ['code'])).length).toBeGreaterThan(0);
      });

      it('test_no_pk then test_no_pk_append, twice: 16 rows', async () => {
        for (const name of ['test_no_pk', 'test_no_pk_append', 'test_no_pk', 'test_no_pk_append']) await load(T(`${name}.singer`));
        expect(await rows('test_no_pk', [])).toHaveLength(16);
      });

      it('test_no_type: untyped values (null, booleans, numbers, strings, objects, arrays) kept as JSON', async () => {
        const file = T('test_no_type.singer');
        await load(file);
        expect(await place.columns('test_no_type')).toMatchObject({ old_value: 'json', new_value: 'json' });
        const sent = recordsIn(file, 'test_no_type');
        const loaded = await rows('test_no_type', ['id']);
        expect(loaded.map((row) => row.new_value)).toEqual(expect.arrayContaining(sent.map((record) => record.NewValue ?? null)));
      });

      it('uppercase_stream_name_with_column_alter: string -> integer keeps the text column; 2 rows upserted', async () => {
        await load(T('uppercase_stream_name_with_column_alter.singer'));
        const table = 'uppercase_stream_name_with_column_alter';
        expect((await place.columns(table)).client_number).toBe('string');
        expect(await rows(table)).toHaveLength(2);
      });

      it('user_location_data then user_location_upsert_data', async () => {
        await load(T('user_location_data.singer'));
        await load(T('user_location_upsert_data.singer'));
        expect(await rows('test_users')).toHaveLength(8);
        expect(await rows('test_locations')).toHaveLength(5);
        expect(await rows('test_user_in_location')).toHaveLength(5);
      });
    });

    // pipelinewise-target-postgres and target-duckdb share most files; upstream runs them with
    // validation off (pipelinewise's default), so do we, except where validation is the point.
    for (const folder of ['pipelinewise-target-postgres', 'target-duckdb']) {
      const P = (name: string) => peer(`${folder}/integration/${name}`);
      const lenient = { validate_records: false };
      describe.skipIf(!peerTestsPresent)(`${folder} streams`, () => {
        it('invalid-json and invalid-message-order: refused with the line', async () => {
          await reject(P('invalid-json.json'), /line 3: invalid JSON/);
          await reject(P('invalid-message-order.json'), /line 3 \(stream "tap_mysql_test-test_table_two"\).*before any SCHEMA/);
        });

        it('messages-with-multiple-streams: rows per table; hard_delete removes marked rows; metadata columns by setting', async () => {
          // pipelinewise's own spelling of add_record_metadata (its default is false).
          await load(P('messages-with-multiple-streams.json'), { ...lenient, add_metadata_columns: false });
          expect(await rows('test_table_one', ['c_pk'])).toHaveLength(1);
          const two = await rows('test_table_two', ['c_pk']);
          expect(two.map((row) => row.c_date)).toEqual(['2019-02-01T15:12:45.000Z', '2019-02-10T02:00:00.000Z']);
          expect((await rows('test_table_three', ['c_pk'])).map((row) => row.c_time)).toEqual(['04:00:00', '07:15:00', '23:00:03']);
          expect(await rows('test_table_four', ['c_pk'])).toHaveLength(3);
          expect(Object.keys(await place.columns('test_table_one')).filter((name) => name.startsWith('_sdc_'))).toEqual([]);

          await load(P('messages-with-multiple-streams.json'), { ...lenient, hard_delete: true });
          expect((await rows('test_table_two', ['c_pk'])).map((row) => row.c_pk)).toEqual([2]);
          expect((await rows('test_table_three', ['c_pk'])).map((row) => row.c_pk)).toEqual([1, 2]);
          expect((await rows('test_table_four', ['c_pk'])).map((row) => row.c_pk)).toEqual([1, 2]);
          expect(Object.keys(await place.columns('test_table_one'))).toEqual(
            expect.arrayContaining(['_sdc_extracted_at', '_sdc_batched_at', '_sdc_deleted_at']),
          );
        });

        it('messages-with-multiple-streams-modified-column: our policy widens c_date in place to text, nothing lost', async () => {
          await load(P('messages-with-multiple-streams.json'), lenient);
          await load(P('messages-with-multiple-streams-modified-column.json'), lenient);
          expect((await place.columns('test_table_two')).c_date).toBe('string');
          const two = await rows('test_table_two', ['c_pk']);
          expect(two.map((row) => row.c_pk)).toEqual([1, 2, 3]);
          expect(String(two[0]!.c_date)).toMatch(/^2019-02-01[ T]15:12:45/); // the old value, kept as text
          expect(two[1]!.c_date).toBe('2019-02-12 02:00:00');
          const three = await place.columns('test_table_three');
          expect(Object.keys(three)).toEqual(expect.arrayContaining(['c_time', 'c_time_renamed']));
          const pk4 = (await rows('test_table_three', ['c_pk'])).find((row) => row.c_pk === 4)!;
          expect(pk4.c_time).toBeNull();
        });

        it('messages-with-nested-schema: objects and arrays stored whole as JSON', async () => {
          const file = P('messages-with-nested-schema.json');
          await load(file, lenient);
          const [sent] = recordsIn(file, 'tap_mysql_test-test_table_nested_schema');
          const [row] = await rows('test_table_nested_schema', ['c_pk']);
          for (const key of ['c_array', 'c_object', 'c_object_with_props', 'c_nested_object']) {
            expect(row![key]).toEqual(sent![key]);
          }
        });

        it('messages-with-nested-schema, data_flattening_max_level 10: parent__child columns; the array and the property-less object stay whole (ours: where pipelinewise stores NULL, no value is lost)', async () => {
          await load(P('messages-with-nested-schema.json'), { ...lenient, data_flattening_max_level: 10, add_record_metadata: false });
          const [row] = await rows('test_table_nested_schema', ['c_pk']);
          expect(row).toEqual({
            c_pk: 1,
            c_array: [1, 2, 3],
            c_object: { key_1: 'value_1' },
            c_object_with_props__key_1: 'value_1',
            c_nested_object__nested_prop_1: 'nested_value_1',
            c_nested_object__nested_prop_2: 'nested_value_2',
            c_nested_object__nested_prop_3__multi_nested_prop_1: 'multi_value_1',
            c_nested_object__nested_prop_3__multi_nested_prop_2: 'multi_value_2',
          });
        });

        it('messages-with-non-db-friendly-columns: camelcaseColumn -> camelcase_column, minus-column -> minus_column', async () => {
          await load(P('messages-with-non-db-friendly-columns.json'), lenient);
          expect(await rows('test_table_non_db_friendly_columns', ['c_pk'])).toHaveLength(5);
          expect(Object.keys(await place.columns('test_table_non_db_friendly_columns'))).toEqual(
            expect.arrayContaining(['camelcase_column', 'minus_column']),
          );
        });

        it('reserved name and spaces in the table name; malformed delete markers still delete', async () => {
          const expected = [
            { new: '706b32', data: '6461746132', created_at: '2019-12-17T16:02:55.000Z' },
            { new: '706b34', data: '6461746134', created_at: '2019-12-17T16:32:22.000Z' },
          ];
          await load(P('messages-with-reserved-name-as-table-name.json'), { ...lenient, hard_delete: true });
          expect(pick(await rows('order', ['new']), ['new', 'data', 'created_at'])).toEqual(expected);
          await load(P('messages-with-space-in-table-name.json'), { ...lenient, hard_delete: true });
          expect(pick(await rows('table_with_space_and_upper_case', ['new']), ['new', 'data', 'created_at'])).toEqual(expected);
        });

        it('messages-with-unicode-characters and messages-with-long-texts: exact round trip', async () => {
          for (const [name, stream, table] of [
            ['messages-with-unicode-characters.json', 'tap_mysql_test-test_table_unicode', 'test_table_unicode'],
            ['messages-with-long-texts.json', 'tap_mysql_test-test_table_long_texts', 'test_table_long_texts'],
          ] as const) {
            const file = P(name);
            await load(file, lenient);
            const sent = new Map(recordsIn(file, stream).map((record) => [record.c_pk, record]));
            const loaded = await rows(table, ['c_pk']);
            expect(loaded).toHaveLength(sent.size);
            for (const row of loaded) {
              const record = sent.get(row.c_pk)!;
              for (const key of Object.keys(record).filter((k) => k.startsWith('c_') && k !== 'c_pk')) {
                expect(row[key]).toEqual(record[key]);
              }
            }
          }
          const long = await rows('test_table_long_texts', ['c_pk']);
          expect(long.map((row) => String(row.c_varchar ?? row.c_text ?? '').length).slice(3)).toEqual([4017, 32003]);
        });

        it('messages-with-invalid-records: a validation error, or with validation off a load error naming the column', async () => {
          await reject(P('messages-with-invalid-records.json'), /"c_pk".*Non Numeric PK/);
          await reject(P('messages-with-invalid-records.json'), /c_pk|Non Numeric PK/, lenient);
          expect(await place.tables()).not.toContain('test_table_invalid_record_rows_committed');
        });

        it('messages-pg-logical-streams: final rows with hard delete; states in order, last one last', async () => {
          const file = P('messages-pg-logical-streams.json');
          const result = await load(file, { ...lenient, hard_delete: true, batch_size_rows: 10 });
          expect((await rows('logical1_table1', ['cid'])).map((row) => row.cid)).toEqual([1, 2, 3, 4]);
          const table2 = await rows('logical1_table2', ['cid']);
          expect(table2.map((row) => row.cid)).toEqual([1, 2, 3, 5, 7, 8, 9, 10]);
          expect(new Set(table2.map((row) => row.cvarchar))).toEqual(new Set(['updated row']));
          expect((await rows('logical2_table1', ['cid'])).map((row) => row.cid)).toEqual([1, 2, 3]);
          const received = readFileSync(file, 'utf8')
            .split('\n')
            .filter((line) => line.includes('"type": "STATE"'))
            .map((line) => JSON.stringify((JSON.parse(line) as { value: unknown }).value));
          expect(result.states.length).toBeGreaterThan(1);
          expect(JSON.stringify(result.states.at(-1))).toBe(received.at(-1));
          const positions = result.states.map((state) => received.lastIndexOf(JSON.stringify(state)));
          expect(positions.every((position) => position >= 0)).toBe(true);
          expect([...positions].sort((a, b) => a - b)).toEqual(positions);
        });

        it('messages-pg-logical-streams-no-records and unit/logical-streams: load', async () => {
          await load(P('messages-pg-logical-streams-no-records.json'), lenient);
          await load(peer(`${folder}/unit/logical-streams.json`), lenient);
          expect((await rows('logical1_table2', ['cid'])).length).toBeGreaterThan(0);
        });
      });
    }

    describe.skipIf(!peerTestsPresent)('singer-tools samples', () => {
      it('fixerio-valid-initial: 11 distinct dates, a column per currency (undeclared properties, loaded), every rate exact; the state is echoed', async () => {
        const file = S('fixerio-valid-initial.json');
        const result = await load(file);
        expect(result.states).toEqual([{ start_date: '2017-03-01' }]);
        const lastPerDate = new Map(recordsIn(file, 'exchange_rate').map((record) => [record.date, record]));
        const loaded = await rows('exchange_rate', ['date']);
        expect(loaded).toHaveLength(11);
        expect(lastPerDate.size).toBe(11);
        const currencies = Object.keys([...lastPerDate.values()][0]!).filter((key) => key !== 'date');
        expect(currencies).toHaveLength(32);
        expect(Object.keys(await place.columns('exchange_rate'))).toEqual(
          expect.arrayContaining(currencies.map((code) => code.toLowerCase())),
        );
        // Exact: each rate reads back as the number sent (a decimal column may pad its scale: 1142.0 -> "1142.0").
        const asSent = (value: unknown) => (value === null ? null : String(Number(String(value))));
        const sent = [...lastPerDate.entries()]
          .sort(([a], [b]) => String(a).localeCompare(String(b)))
          .map(([, record]) => currencies.map((code) => (record[code] === undefined ? null : String(record[code]))));
        expect(loaded.map((row) => currencies.map((code) => asSent(row[code.toLowerCase()])))).toEqual(sent);
      });

      it('fixerio-invalid-no-key-properties: our policy reads a missing key_properties as keyless', async () => {
        await load(S('fixerio-invalid-no-key-properties.json'));
      });

      it('fixerio-invalid-bad-type: an unknown message type is skipped with a warning', async () => {
        const result = await load(S('fixerio-invalid-bad-type.json'));
        expect(result.stderr).toMatch(/FOO/);
      });

      it('fixerio-invalid-no-stream, -doesnt-match-schema, -truncated: refused, nothing half-loaded', async () => {
        await reject(S('fixerio-invalid-no-stream.json'), /line 2.*stream/);
        await reject(S('fixerio-invalid-doesnt-match-schema.json'), /line 2 \(stream "exchange_rate"\).*"date"/);
        await reject(S('fixerio-invalid-truncated.json'), /line 2 .*invalid JSON/);
        const tables = await place.tables();
        if (tables.includes('exchange_rate')) expect(await rows('exchange_rate', ['date'])).toEqual([]);
      });
    });

    describeSdkSnapshots({ harness, place: () => place, run, load, reject, rows });

    defineOddInputCases({ harness, place: () => place, run, load, reject });

    defineHardeningCases({ harness, place: () => place, run, load, reject });
    defineCommentCases({ harness, place: () => place, run, load, reject });

    describe('policies beyond the peer tests', () => {
      const schema = (stream: string, properties: Record<string, unknown>, key: string[] = ['id']) =>
        JSON.stringify({ type: 'SCHEMA', stream, schema: { type: 'object', properties }, key_properties: key });
      const record = (stream: string, value: Record<string, unknown>) => JSON.stringify({ type: 'RECORD', stream, record: value });
      const state = (value: unknown) => JSON.stringify({ type: 'STATE', value });
      const text = (...lines: string[]) => ({ text: `${lines.join('\n')}\n` });

      /** Two records, the STATE that covers them, one record it does not cover. */
      const throughState = [
        schema('events', { id: { type: 'integer' } }),
        record('events', { id: 1 }),
        record('events', { id: 2 }),
        state({ bookmark: 2 }),
        record('events', { id: 3 }),
      ];

      it('bad input after a STATE: the rows and state before it are committed, nothing after', async () => {
        const input = text(...throughState, '{"type": "RECORD", "stream": "events", "record": {"id": 4');
        const result = await reject(input, /line 6 \(stream "events"\): invalid JSON/, { state_table: 'tapline_state' });
        expect(result.states).toEqual([{ bookmark: 2 }]);
        expect((await rows('events')).map((row) => row.id)).toEqual([1, 2]);
        expect(pick(await rows('tapline_state'), ['id', 'value'])).toEqual([{ id: 'default', value: { bookmark: 2 } }]);
      });

      // An orchestrator's timeout or cancel (SIGTERM), Ctrl-C (SIGINT), a closed terminal or
      // session (SIGHUP), while the tap still holds the pipe open.
      for (const [signal, exit] of [
        ['SIGTERM', 143],
        ['SIGINT', 130],
        ['SIGHUP', 129],
      ] as const) {
        it(`${signal} mid-run: what the last STATE covers is committed and echoed, nothing after it; exit ${exit}`, async () => {
          const result = await runTargetCommand(
            place,
            text(...throughState),
            { state_table: 'tapline_state' },
            { signal, after: /created table/ },
          );
          expect(result.code).toBe(exit);
          expect(result.stderr).toMatch(new RegExp(`CRITICAL interrupted by ${signal} before the end of input`));
          expect(result.stderr).not.toMatch(/\n\s+at /);
          expect(result.states).toEqual([{ bookmark: 2 }]);
          expect((await rows('events')).map((row) => row.id)).toEqual([1, 2]);
          expect(pick(await rows('tapline_state'), ['id', 'value'])).toEqual([{ id: 'default', value: { bookmark: 2 } }]);
        });
      }

      it('stdout closed by its reader (EPIPE): the load stops by itself with a sentence; what was committed stays, with its state', async () => {
        const input = text(
          schema('events', { id: { type: 'integer' } }),
          record('events', { id: 1 }),
          state({ at: 1 }),
          record('events', { id: 2 }),
        );
        // A commit at every STATE: the first state echo meets the closed pipe.
        const result = await runTargetCommand(place, input, { state_table: 'tapline_state', batch_size_rows: 1 }, { closeStdout: true });
        expect(result.code).toBe(4); // transient: nothing wrong with the data
        expect(result.stderr).toMatch(/CRITICAL stdout was closed by its reader \(EPIPE\), so states can no longer be delivered/);
        expect(result.stderr).not.toMatch(/\n\s+at /);
        expect((await rows('events')).map((row) => row.id)).toEqual([1]);
        expect(pick(await rows('tapline_state'), ['id', 'value'])).toEqual([{ id: 'default', value: { at: 1 } }]);
      });

      it('SIGTERM before any STATE: nothing is committed, not even the new table', async () => {
        const input = text(schema('events', { id: { type: 'integer' } }), record('events', { id: 1 }));
        const result = await runTargetCommand(place, input, {}, { signal: 'SIGTERM', after: /created table/ });
        expect(result.code).toBe(143);
        expect(result.states).toEqual([]);
        expect(await place.tables()).not.toContain('events');
      });

      it('state_table: the state is stored with the rows it covers, under state_id', async () => {
        const input = text(schema('events', { id: { type: 'integer' } }), record('events', { id: 1 }), state({ at: 1 }));
        await load(input, { state_table: 'tapline_state', state_id: 'pipeline-a' });
        expect(pick(await rows('tapline_state'), ['id', 'value'])).toEqual([{ id: 'pipeline-a', value: { at: 1 } }]);
      });

      // A runner reads the stored state, starts the tap from it and tells the target which state that
      // was; another run of the pipeline that committed in between would otherwise get its rows twice.
      it('expected_state: a stored state that is no longer the one the runner read stops the run before anything is loaded', async () => {
        const pipeline = { state_table: 'tapline_state', state_id: 'p' };
        const stored = '{"type":"STATE","value":{"at":1,"big":9007199254740993}}';
        await load(text(schema('events', { id: { type: 'integer' } }, []), record('events', { id: 1 }), stored), pipeline);
        const next = text(schema('events', { id: { type: 'integer' } }, []), record('events', { id: 2 }), state({ at: 2 }));
        // Read before the other run committed: no state yet, or an older one (here off by one beyond 2^53).
        for (const expected of [null, '{"at":1,"big":9007199254740992}']) {
          await reject(
            next,
            /another run of this pipeline \(state_id "p"\) committed since this run read its state; nothing was loaded; run again/,
            {
              ...pipeline,
              expected_state: expected,
            },
          );
        }
        expect((await rows('events', [])).map((row) => row.id)).toEqual([1]);
        // Still the stored one (keys in any order, the big integer exact): it loads.
        await load(next, { ...pipeline, expected_state: '{"big":9007199254740993,"at":1}' });
        expect((await rows('events', [])).map((row) => Number(row.id)).sort()).toEqual([1, 2]);
        expect(pick(await rows('tapline_state'), ['id', 'value'])).toEqual([{ id: 'p', value: { at: 2 } }]);
      });

      it('a sync of many small streams commits at the STATE after the most tables a transaction may hold (200 unless the target says), so none holds thousands', async () => {
        const streams = Array.from({ length: 250 }, (_, i) => `s${i}`);
        const input = text(
          ...streams.flatMap((stream, i) => [schema(stream, { id: { type: 'integer' } }), record(stream, { id: i }), state({ done: i })]),
        );
        const result = await load(input);
        // One commit when the 200th table was written (at the STATE after it), one at the end; a
        // target allowing more tables a transaction (DuckDB: 1,000) commits the 250 once, at the end.
        const perCommit = harness.maxTablesPerCommit ?? 200;
        expect(result.states).toEqual(perCommit < streams.length ? [{ done: perCommit - 1 }, { done: 249 }] : [{ done: 249 }]);
        expect((await rows('s249')).map((row) => row.id)).toEqual([249]);
      });

      it('state_table: a STATE the table cannot hold as JSON (an unpaired surrogate) is refused by line; the state before it stands', async () => {
        const input = text(
          schema('events', { id: { type: 'integer' } }),
          record('events', { id: 1 }),
          state({ at: 1 }),
          record('events', { id: 2 }),
          '{"type":"STATE","value":{"at":"2\\ud800"}}',
        );
        const result = await reject(input, /line 5: the STATE value holds an unpaired UTF-16 surrogate/, { state_table: 'tapline_state' });
        expect(result.states).toEqual([{ at: 1 }]);
        expect(pick(await rows('tapline_state'), ['id', 'value'])).toEqual([{ id: 'default', value: { at: 1 } }]);
        // Without a state table the state is echoed as it came, escape and all.
        expect((await load(input)).stdout).toContain('{"at":"2\\ud800"}');
      });

      it('commit_uncovered_rows false, as the runner sets it: end of input commits exactly up to the last STATE', async () => {
        const input = text(
          schema('events', { id: { type: 'integer' } }, []),
          record('events', { id: 1 }),
          record('events', { id: 2 }),
          state({ bookmark: 2 }),
          record('events', { id: 3 }),
          record('events', { id: 4 }),
        );
        // Rows after the STATE still held in the batch: discarded, and the log says how many.
        const held = await load(input, { commit_uncovered_rows: false, state_table: 'tapline_state' });
        expect(held.states).toEqual([{ bookmark: 2 }]);
        expect(held.stderr).toMatch(/2 rows after the last STATE discarded/);
        expect((await rows('events')).map((row) => row.id)).toEqual([1, 2]);
        expect(pick(await rows('tapline_state'), ['id', 'value'])).toEqual([{ id: 'default', value: { bookmark: 2 } }]);

        // Rows after the STATE already written (one-row batches): rolled back to the last commit.
        await place.execute(`DELETE FROM ${place.qualify('events')}`);
        const written = await load(input, { commit_uncovered_rows: false, state_table: 'tapline_state', batch_size_rows: 1 });
        expect(written.states).toEqual([{ bookmark: 2 }]);
        expect((await rows('events')).map((row) => row.id)).toEqual([1, 2]);
      });

      it('integers beyond int64 widen the column to an exact decimal', async () => {
        const input = text(
          schema('big', { id: { type: 'integer' }, n: { type: 'integer' } }),
          record('big', { id: 1, n: 5 }),
          '{"type":"RECORD","stream":"big","record":{"id":2,"n":123456789012345678901234567890}}',
        );
        await load(input);
        expect((await place.columns('big')).n).toBe('decimal');
        expect((await rows('big')).map((row) => String(row.n))).toEqual(['5', '123456789012345678901234567890']);
      });

      it('two properties that normalise alike never share a column', async () => {
        const input = text(
          schema('clash', { id: { type: 'integer' }, 'a-b': { type: 'string' }, a_b: { type: 'string' }, aB: { type: 'string' } }),
          record('clash', { id: 1, 'a-b': 'dash', a_b: 'underscore', aB: 'camel' }),
        );
        await load(input);
        const [row] = await rows('clash');
        const values = Object.entries(row!)
          .filter(([name]) => name.startsWith('a_b'))
          .map(([, value]) => value);
        expect(values.sort()).toEqual(['camel', 'dash', 'underscore']);
        expect(row!.a_b).toBe('underscore'); // the property already spelled like the column keeps it
      });

      it('timestamps: offsets are converted, Z and no zone mean UTC; empty strings never become garbage', async () => {
        const input = text(
          schema('times', { id: { type: 'integer' }, at: { type: ['null', 'string'], format: 'date-time' } }),
          record('times', { id: 1, at: '2019-12-17T16:02:55+02:00' }),
          record('times', { id: 2, at: '2019-12-17T16:02:55Z' }),
          record('times', { id: 3, at: '2019-12-17 16:02:55' }),
        );
        await load(input);
        expect((await rows('times')).map((row) => row.at)).toEqual([
          '2019-12-17T14:02:55.000Z',
          '2019-12-17T16:02:55.000Z',
          '2019-12-17T16:02:55.000Z',
        ]);
        const empty = text(
          schema('times', { id: { type: 'integer' }, at: { type: ['null', 'string'], format: 'date-time' } }),
          record('times', { id: 4, at: '' }),
        );
        await reject(empty, /line 2 \(stream "times"\).*"at"/);
        await load(empty, { validate_records: false });
        expect((await rows('times')).find((row) => row.id === 4)!.at).toBeNull();
      });

      it('empty strings stay empty strings in text columns', async () => {
        await load(text(schema('texts', { id: { type: 'integer' }, s: { type: 'string' } }), record('texts', { id: 1, s: '' })));
        expect((await rows('texts'))[0]!.s).toBe('');
      });

      it('load_method append-only keeps every record; overwrite replaces the table', async () => {
        const input = text(schema('modes', { id: { type: 'integer' } }), record('modes', { id: 1 }), record('modes', { id: 1 }));
        await load(input, { load_method: 'append-only' });
        expect(await rows('modes')).toHaveLength(2);
        await load(text(schema('modes', { id: { type: 'integer' } }), record('modes', { id: 7 })), { load_method: 'overwrite' });
        expect((await rows('modes')).map((row) => row.id)).toEqual([7]);
      });

      it('--input FILE reads the messages from that file; a missing file or a folder is a usage error naming it, exit 2', async () => {
        const dir = await mkdtemp(join(tmpdir(), 'tapline-input-'));
        try {
          const messages = join(dir, 'messages.jsonl');
          await writeFile(
            messages,
            text(schema('events', { id: { type: 'integer' } }), record('events', { id: 1 }), state({ at: 1 })).text,
          );
          const loaded = await run({ inputOption: messages });
          expect(loaded.stderr).not.toMatch(/CRITICAL/);
          expect(loaded.code).toBe(0);
          expect(loaded.states).toEqual([{ at: 1 }]);
          expect((await rows('events')).map((row) => row.id)).toEqual([1]);
          for (const [path, reason] of [
            [join(dir, 'nope.jsonl'), 'no such file'],
            [dir, 'is a directory'],
          ] as const) {
            const refused = await run({ inputOption: path });
            expect(refused.code).toBe(2);
            expect(refused.stderr).toContain(`CRITICAL --input ${path}: ${reason}`);
            expect(refused.stderr).not.toMatch(/\n\s+at /);
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });

      it('--about --format json: every setting has a type and a description; the capabilities say what the target does', () => {
        const [command, ...args] = place.command;
        const about = JSON.parse(execFileSync(command!, [...args, '--about', '--format', 'json'], { encoding: 'utf8' })) as {
          capabilities: string[];
          settings: { properties: Record<string, { type?: unknown; description?: string }> };
        };
        expect(about.capabilities).toEqual(
          expect.arrayContaining(['about', 'activate-version', 'hard-delete', 'schema-flattening', 'validate-records']),
        );
        const settings = Object.entries(about.settings.properties);
        expect(settings.map(([name]) => name)).toEqual(
          expect.arrayContaining(['load_method', 'interpret_content_encoding', 'data_flattening_max_level', 'flattening_enabled']),
        );
        for (const [name, spec] of settings) expect(spec.description, name).toMatch(/\w{3}/);
      });

      it('a config error names the key and exits 3', async () => {
        const result = await run(text(state({})), { batch_size_rows: 'lots' });
        expect(result.code).toBe(3);
        expect(result.stderr).toMatch(/CRITICAL .*"batch_size_rows"/);
      });
    });
  });
}
