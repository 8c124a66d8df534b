// The Meltano SDK snapshots (real SDK tap, stream-map and target output) through the target contract: every row as sent, the state the SDK target printed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TargetRun } from './harness.js';
import { messagesIn, PEER_TESTS_DIR, peer, type SentMessage } from './peer-files.js';
import type { ContractSteps } from './suite.js';

const FOLDER = 'meltano-sdk-snapshots';
const sdk = (path: string) => peer(`${FOLDER}/${path}`);
const parentChild = (test: string) => sdk(`core/snapshots/test_parent_child/${test}/singer.jsonl`);
const targetCsv = (path: string) => sdk(`packages/snapshots/test_target_csv/${path}`);
const mapped = (name: string) => sdk(`snapshots/mapped_stream/${name}.jsonl`);

/** Every file this part of the suite pipes into a target; the coverage test checks none is forgotten. */
const covered = new Set<string>();
const cover = (file: string) => {
  covered.add(file);
  return file;
};

/**
 * Snapshots byte-identical to another (upstream tests that differ only in map syntax, e.g. `self`
 * vs `_`): each runs once, as the file it equals, to keep the suite fast. The coverage test checks
 * they are still identical.
 */
const sameBytes: [duplicate: string, runAs: string][] = [
  [mapped('flatten_depth_0'), mapped('no_map')],
  [mapped('filter_records_cast_to_bool'), mapped('filter_records')],
  [mapped('builtin_variable_underscore'), mapped('builtin_variable_self')],
  [mapped('drop_property_null_string'), mapped('drop_property')],
  [mapped('sourced_stream_1_null_string'), mapped('sourced_stream_1')],
  [targetCsv('test_countries_to_csv_mapped/no_activate_version/tap.jsonl'), targetCsv('test_countries_to_csv/tap.jsonl')],
];

function pickColumns(row: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, row[name]]));
}

function lastStateIn(messages: readonly SentMessage[]): unknown {
  return messages.filter((message) => message.type === 'STATE').at(-1)?.value;
}

/** Each state the target printed was sent, in order, and the last one printed is the last one sent. */
function expectStatesAsSent(result: TargetRun, file: string): void {
  const messages = messagesIn(file);
  const sent = messages.filter((message) => message.type === 'STATE').map((message) => JSON.stringify(message.value));
  let cursor = -1;
  for (const state of result.states) {
    const index = sent.indexOf(JSON.stringify(state), cursor + 1);
    expect(index, `state ${JSON.stringify(state)} was sent, after the previous one`).toBeGreaterThan(cursor);
    cursor = index;
  }
  if (sent.length > 0) expect(result.states.at(-1)).toEqual(lastStateIn(messages));
  else expect(result.states).toEqual([]);
}

/** The one line an SDK test_target_csv run printed (a state value, not a STATE message). */
function printedBySdkTarget(folder: string): unknown {
  return JSON.parse(readFileSync(targetCsv(`${folder}/target.jsonl`), 'utf8')) as unknown;
}

/**
 * Define the SDK-snapshot part of the contract on the suite's steps (called inside
 * `defineTargetContract`, so both targets run it with the same body).
 */
// Long on purpose: a list of test cases, each a few lines, read one case at a time like a specification.
export function describeSdkSnapshots(steps: ContractSteps): void {
  const present = existsSync(sdk(''));
  if (!present && process.env.CI)
    throw new Error(`target contract (${steps.harness.name}): ${sdk('')} is absent; in CI that is a failure, not a skip`);
  if (existsSync(PEER_TESTS_DIR) && !present) {
    console.warn(`target contract (${steps.harness.name}): ${sdk('')} is absent; the Meltano SDK snapshots are skipped`);
  }
  const { load, reject } = steps;

  /**
   * The table holds exactly the stream's records, in input order (`_sdc_sequence`), none marked
   * deleted: every property the SCHEMA declares reads back equal (timestamps as UTC instants,
   * objects and arrays as JSON). `renamed` gives a property's column when the naming rule changes it.
   */
  async function expectRowsAsSent(
    file: string,
    stream: string,
    { table = stream, renamed = {} }: { table?: string; renamed?: Record<string, string> } = {},
  ): Promise<Record<string, unknown>[]> {
    const messages = messagesIn(file);
    const properties = messages.filter((m) => m.type === 'SCHEMA' && m.stream === stream).at(-1)?.schema?.properties ?? {};
    const sent = messages.filter((m) => m.type === 'RECORD' && m.stream === stream).map((m) => m.record!);
    const loaded = await steps.rows(table, ['_sdc_sequence']);
    expect(loaded, `rows of ${table}`).toHaveLength(sent.length);
    loaded.forEach((row, index) => {
      const expected: Record<string, unknown> = { _sdc_deleted_at: null };
      const actual: Record<string, unknown> = { _sdc_deleted_at: row._sdc_deleted_at };
      for (const [property, value] of Object.entries(sent[index]!)) {
        const declared = properties[property];
        if (declared === undefined) continue;
        const column = renamed[property] ?? property;
        expected[column] = declared.format === 'date-time' && typeof value === 'string' ? new Date(value).toISOString() : value;
        actual[column] = row[column];
      }
      expect(actual, `${table} row ${index + 1}`).toEqual(expected);
    });
    return loaded;
  }

  describe.skipIf(!present)('Meltano SDK snapshots: parent/child tap output', () => {
    // Each child context re-sends an identical SCHEMA and a STATE with one more partition.
    const cases: { test: string; rows: Record<string, number>; absent?: string[] }[] = [
      { test: 'test_parent_context_fields_in_child', rows: { parent: 3, child: 9 } },
      { test: 'test_child_deselected_parent', rows: { child: 9 }, absent: ['parent'] },
      { test: 'test_deselected_child', rows: { parent: 3 }, absent: ['child'] },
      { test: 'test_incremental_child_stream', rows: { parent_incr: 2, child_incr: 2 } },
      { test: 'test_ignore_parent_replication_key', rows: { parent_irpk: 2, child_irpk: 2 } },
      { test: 'test_child_state_partitioning_keys_empty', rows: { parent_3631: 3, child_3631: 3 } },
      { test: 'test_preprocess_context_removes_large_payload', rows: { parent_large: 2, child_preprocessed: 2 } },
    ];
    for (const { test, rows, absent = [] } of cases) {
      const file = cover(parentChild(test));
      const description = Object.entries(rows)
        .map(([stream, count]) => `${count} ${stream}`)
        .join(' + ');
      it(`${test}: ${description} rows as sent; repeated SCHEMAs change nothing; the partitioned state comes back last`, async () => {
        const result = await load(file);
        expect(result.stderr).not.toMatch(/added|widened/);
        for (const [stream, count] of Object.entries(rows)) {
          expect(await expectRowsAsSent(file, stream)).toHaveLength(count);
        }
        for (const table of absent) expect(await steps.place().tables()).not.toContain(table);
        expectStatesAsSent(result, file);
      });
    }

    const manyChildren = cover(parentChild('test_one_parent_many_children'));
    it('test_one_parent_many_children: pid "1" breaks the child schema (integer); refused by line, stream and field, as the SDK target (validating by default) would; with validation off, 1 + 3 rows', async () => {
      // The SDK tap copies the parent's string id into the child context without conforming it.
      const file = manyChildren;
      const refused = await reject(file, /^CRITICAL line 3 \(stream "child_many"\): field "pid": must be integer/);
      expect(refused.states).toEqual([]);
      for (const table of await steps.place().tables()) expect(await steps.rows(table, [])).toEqual([]);

      const result = await load(file, { validate_records: false });
      expect((await steps.rows('child_many', ['id'])).map((row) => [row.id, row.pid])).toEqual([
        [1, 1],
        [2, 1],
        [3, 1],
      ]);
      expect((await steps.rows('parent_many', ['id'])).map((row) => [row.id, row.children])).toEqual([[1, [1, 2, 3]]]);
      expectStatesAsSent(result, file);
    });

    const versioned = cover(parentChild('test_emit_activate_version_messages'));
    it('test_emit_activate_version_messages: ACTIVATE_VERSION right before its records deletes none of them, even with hard_delete; a newer version soft-deletes them', async () => {
      const file = versioned;
      const versions = async () =>
        (await steps.rows('versioned', ['_sdc_sequence'])).map((row) => [row.id, row._sdc_table_version, row._sdc_deleted_at !== null]);

      expectStatesAsSent(await load(file, { hard_delete: true }), file);
      expect(await versions()).toEqual([
        [1, 1640995200, false],
        [2, 1640995200, false],
      ]);
      const newer = readFileSync(file, 'utf8').replaceAll('1640995200', '1640995300');
      await load({ text: newer });
      expect(await versions()).toEqual([
        [1, 1640995200, true],
        [2, 1640995200, true],
        [1, 1640995300, false],
        [2, 1640995300, false],
      ]);
    });
  });

  describe.skipIf(!present)('Meltano SDK snapshots: countries and fake people through the CSV target test', () => {
    for (const path of [
      'test_countries_to_csv/tap.jsonl',
      'test_countries_to_csv_mapped/activate_version/tap.jsonl',
      'test_countries_to_csv_mapped/activate_version/mapper.jsonl',
      'test_countries_to_csv_mapped/no_activate_version/mapper.jsonl',
      'test_fake_people_to_csv/tap.jsonl',
    ]) {
      cover(targetCsv(path));
    }
    cover(sdk('packages/resources/messages.jsonl'));
    const countries = async (file: string) => {
      expect(await expectRowsAsSent(file, 'continents')).toHaveLength(7);
      // nested continent, languages array, emoji flags, right-to-left native names
      expect(await expectRowsAsSent(file, 'countries')).toHaveLength(250);
    };

    it('test_countries_to_csv (= no_activate_version/tap.jsonl): 7 continents + 250 countries, nested values intact; final state as the SDK target printed', async () => {
      const file = targetCsv('test_countries_to_csv/tap.jsonl');
      const result = await load(file);
      await countries(file);
      expect(await steps.place().columns('countries')).toMatchObject({ continent: 'json', languages: 'json', emoji: 'string' });
      expectStatesAsSent(result, file);
      expect(result.states.at(-1)).toEqual(printedBySdkTarget('test_countries_to_csv'));
    });

    it('test_countries_to_csv_mapped/activate_version: ACTIVATE_VERSION after each SCHEMA deletes nothing of its own version, even with hard_delete', async () => {
      const folder = 'test_countries_to_csv_mapped/activate_version';
      const file = targetCsv(`${folder}/tap.jsonl`);
      const result = await load(file, { hard_delete: true });
      await countries(file);
      expect(result.states.at(-1)).toEqual(printedBySdkTarget(folder));
    });

    it('test_countries_to_csv_mapped/activate_version/mapper.jsonl: `__else__: null` dropped countries, so only 7 continents', async () => {
      const folder = 'test_countries_to_csv_mapped/activate_version';
      const file = targetCsv(`${folder}/mapper.jsonl`);
      const result = await load(file);
      expect(await expectRowsAsSent(file, 'continents')).toHaveLength(7);
      expect(await steps.place().tables()).not.toContain('countries');
      expectStatesAsSent(result, file);
      expect(result.states.at(-1)).toEqual(printedBySdkTarget(folder));
    });

    it('test_countries_to_csv_mapped/no_activate_version/mapper.jsonl: 7 + 250 (this mapper snapshot passes countries through)', async () => {
      const folder = 'test_countries_to_csv_mapped/no_activate_version';
      const file = targetCsv(`${folder}/mapper.jsonl`);
      const result = await load(file);
      await countries(file);
      expect(result.states.at(-1)).toEqual(printedBySdkTarget(folder));
    });

    it('test_fake_people_to_csv: 100 people, addresses with embedded newlines exact', async () => {
      const file = targetCsv('test_fake_people_to_csv/tap.jsonl');
      const result = await load(file);
      const people = await expectRowsAsSent(file, 'people');
      expect(people.filter((row) => String(row.address).includes('\n'))).toHaveLength(100);
      expect(result.states.at(-1)).toEqual(printedBySdkTarget('test_fake_people_to_csv'));
    });

    it('packages/resources/messages.jsonl: 2 users; no STATE sent, none printed', async () => {
      const file = sdk('packages/resources/messages.jsonl');
      const result = await load(file);
      expect(await expectRowsAsSent(file, 'users')).toHaveLength(2);
      expect(result.states).toEqual([]);
    });
  });

  describe.skipIf(!present)('Meltano SDK snapshots: stream maps and flattening (mystream, 3 records, ACTIVATE_VERSION first)', () => {
    const base = ['email', 'count', 'user', 'joined_at'];
    const flat = ['email', 'count', 'user__id', 'user__sub__num', 'user__sub__custom_obj', 'user__some_numbers', 'joined_at'];
    // file -> the stream it sends, the table it lands in (when the naming rule changes it), the data columns, the rows (3 unless filtered).
    const cases: {
      file: string;
      stream: string;
      table?: string;
      columns: string[];
      rows?: number;
      renamed?: Record<string, string>;
      kinds?: Record<string, string>;
    }[] = [
      {
        file: 'no_map',
        stream: 'mystream',
        columns: base,
        kinds: { email: 'string', count: 'integer', user: 'json', joined_at: 'timestamp' },
      },
      { file: 'keep_all_fields', stream: 'mystream', columns: [...base, 'email_hash'] },
      { file: 'only_mapped_fields', stream: 'mystream', columns: ['email_hash', 'email_hash_sha256', 'fixed_count'] },
      { file: 'only_mapped_fields_null_string', stream: 'mystream', columns: ['email_hash', 'fixed_count'] },
      { file: 'changed_key_properties', stream: 'mystream', columns: ['email_hash'] },
      { file: 'sourced_stream_1', stream: 'sourced_stream_1', columns: base },
      { file: 'sourced_stream_2', stream: 'sourced_stream_2', columns: base },
      { file: 'aliased_stream', stream: 'aliased_stream', columns: base },
      { file: 'aliased_stream_not_expr', stream: 'aliased.stream', table: 'aliased_stream', columns: base },
      { file: 'aliased_stream_quoted', stream: '__stream_name__', columns: base },
      { file: 'builtin_variable_stream_name', stream: 'mystream', columns: [...base, 'source_table'] },
      { file: 'builtin_variable_stream_name_alias', stream: 'aliased_mystream', columns: base },
      { file: 'builtin_variable_stream_name_alias_expr', stream: 'MYSTREAM', table: 'mystream', columns: base },
      { file: 'builtin_variable_original_stream_name_alias', stream: 'aliased', columns: [...base, 'stream_name', 'original_stream_name'] },
      {
        file: 'builtin_variable_original_stream_name_no_alias',
        stream: 'mystream',
        columns: [...base, 'stream_name', 'original_stream_name'],
      },
      { file: 'builtin_variable_self', stream: 'mystream', columns: ['email'] },
      {
        file: 'flatten_depth_1',
        stream: 'mystream',
        columns: ['email', 'count', 'user__id', 'user__sub', 'user__some_numbers', 'joined_at'],
        kinds: { user__id: 'integer', user__sub: 'string', user__some_numbers: 'string' },
      },
      { file: 'flatten_all', stream: 'mystream', columns: flat, kinds: { user__sub__num: 'integer', user__some_numbers: 'string' } },
      {
        file: 'flatten_all_with_dot_separator',
        stream: 'mystream',
        columns: ['email', 'count', 'user_id', 'user_sub_num', 'user_sub_custom_obj', 'user_some_numbers', 'joined_at'],
        renamed: {
          'user.id': 'user_id',
          'user.sub.num': 'user_sub_num',
          'user.sub.custom_obj': 'user_sub_custom_obj',
          'user.some_numbers': 'user_some_numbers',
        },
      },
      { file: 'map_and_flatten', stream: 'mystream', columns: [...flat, 'email_hash'] },
      { file: 'drop_property', stream: 'mystream', columns: ['count', 'user', 'joined_at'] },
      { file: 'non_pk_passthrough', stream: 'mystream', columns: ['count'] },
      { file: 'record_to_column', stream: 'mystream', columns: ['_data'], kinds: { _data: 'json' } },
      { file: 'json_dumps', stream: 'mystream', columns: base, kinds: { user: 'string' } },
      {
        file: 'dates',
        stream: 'mystream',
        columns: [...base, 'joined_date', 'joined_timestamp', 'some_datetime'],
        kinds: { joined_date: 'date', joined_timestamp: 'number', some_datetime: 'timestamp' },
      },
      { file: 'filter_records', stream: 'mystream', columns: base, rows: 2 }, // `count < 20` drops alice (21)
      { file: 'fake_credit_card_number', stream: 'mystream', columns: ['cc'] },
      { file: 'fake_email_seed_class', stream: 'mystream', columns: ['email'] }, // an orphan snapshot, sample input only
      { file: 'fake_email_seed_instance', stream: 'mystream', columns: ['email'] },
    ];
    for (const { file: name, stream, table = stream, columns, rows = 3, renamed, kinds = {} } of cases) {
      const file = cover(mapped(name));
      const twins = sameBytes.filter(([, runAs]) => runAs === file).map(([duplicate]) => ` (= ${basename(duplicate, '.jsonl')})`);
      it(`${name}${twins.join('')}: stream ${JSON.stringify(stream)} -> table ${table} (${columns.join(', ')}), rows as sent`, async () => {
        const result = await load(file);
        expect(await steps.place().tables()).toEqual([table]);
        const loaded = await expectRowsAsSent(file, stream, { table, renamed });
        expect(loaded).toHaveLength(rows);
        const names = Object.keys(loaded[0]!).filter((column) => !column.startsWith('_sdc_'));
        expect(names.sort()).toEqual([...columns].sort());
        if (Object.keys(kinds).length > 0) expect(await steps.place().columns(table)).toMatchObject(kinds);
        expectStatesAsSent(result, file);
      });
    }

    for (const [depth, flattenedBySdk] of [
      [1, 'flatten_depth_1'],
      [10, 'flatten_all'],
    ] as const) {
      it(`the target's own flattening (flattening_max_depth ${depth}) of no_map gives the SDK's ${flattenedBySdk}: the same columns and values, objects and arrays as JSON where the SDK sends their text`, async () => {
        await load(mapped('no_map'), { flattening_enabled: true, flattening_max_depth: depth });
        const ours = await steps.rows('mystream', ['_sdc_sequence']);
        const sdkFile = mapped(flattenedBySdk);
        const properties = messagesIn(sdkFile).find((m) => m.type === 'SCHEMA')?.schema?.properties ?? {};
        const theirs = messagesIn(sdkFile)
          .filter((m) => m.type === 'RECORD')
          .map((m) => m.record!);
        expect(ours).toHaveLength(theirs.length);
        theirs.forEach((record, index) => {
          const expected = Object.fromEntries(
            Object.keys(properties).map((name) => {
              const value = record[name] ?? null;
              // The SDK writes what it did not flatten as JSON text in a string; the target keeps it JSON.
              const json = typeof value === 'string' && /^[[{]/.test(value) ? (JSON.parse(value) as unknown) : value;
              return [name, name === 'joined_at' && typeof json === 'string' ? new Date(json).toISOString() : json];
            }),
          );
          expect(pickColumns(ours[index]!, Object.keys(properties))).toEqual(expected);
        });
        expect(
          Object.keys(ours[0]!)
            .filter((name) => !name.startsWith('_sdc_'))
            .sort(),
        ).toEqual(Object.keys(properties).sort());
      });
    }

    const removed = cover(mapped('remove_stream'));
    it('remove_stream: only a STATE; no table, the state printed', async () => {
      const file = removed;
      const result = await load(file);
      expect(await steps.place().tables()).toEqual([]);
      expectStatesAsSent(result, file);
    });

    const batch = cover(mapped('aliased_stream_batch'));
    it('aliased_stream_batch: the BATCH message is refused by line and stream (our documented policy: BATCH is not supported)', async () => {
      const file = batch;
      const result = await reject(file, /^CRITICAL line 3 \(stream "aliased_stream"\): BATCH messages are not supported/);
      expect(result.states).toEqual([]);
      for (const table of await steps.place().tables()) expect(await steps.rows(table, [])).toEqual([]);
    });
  });

  describe.skipIf(!present)('Meltano SDK snapshots: coverage', () => {
    it('every Singer stream in the folder is run above', () => {
      // `target.jsonl` files are what an SDK target printed (state values, compared above), not input.
      // core/resources/batch.*.jsonl.gz are the raw records a BATCH manifest points to, not Singer
      // messages; they are never piped in (we refuse BATCH), so they are not run.
      const singerFiles = (readdirSync(sdk(''), { recursive: true }) as string[])
        .filter((path) => path.endsWith('.jsonl') && !path.endsWith('target.jsonl'))
        .map((path) => join(sdk(''), path));
      const runAsAnother = new Set(sameBytes.map(([duplicate]) => duplicate));
      expect(singerFiles.filter((file) => !covered.has(file) && !runAsAnother.has(file))).toEqual([]);
      for (const [duplicate, runAs] of sameBytes) {
        expect(readFileSync(duplicate).equals(readFileSync(runAs)), `${duplicate} is still byte-identical to ${runAs}`).toBe(true);
        expect(covered.has(runAs)).toBe(true);
      }
    });
  });
}
