// A record that cannot be read never stalls its stream: it is set aside whole in _sdc_rejected_records,
// the bookmark moves past it, and the run is partial (exit 6, SUMMARY says so). Over real HTTP.

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { coerce, defineApi, defineTap, type Logger, type SingerMessage, silentLogger, sync } from '../src/index.js';
import { examRoutes, examRows, type ResultRow, resultRows, T0 } from './support/exam-platform.js';
import { api, exams, examTap, results } from './support/exam-tap.js';
import { fakeApiPerTest } from './support/fake-api.js';
import { type CliRun, jsonFile, lastState, runCli } from './support/run-cli.js';

const fakeApi = fakeApiPerTest(afterEach);
const NOW = () => new Date(Date.UTC(2024, 5, 1));

async function start(data: { exams: ReturnType<typeof examRows>; results: ResultRow[] }) {
  const fake = await fakeApi.start(examRoutes(data));
  return { fake, config: jsonFile({ base_url: fake.baseUrl, api_key: 'sekret-key-123' }) };
}

const recordsOf = (run: CliRun, stream: string) =>
  run.messages.filter((m) => m.type === 'RECORD' && m.stream === stream).map((m) => m.record);
const summaryOf = (run: CliRun) =>
  JSON.parse(
    run.stderr
      .trim()
      .split('\n')
      .at(-1)!
      .replace(/^SUMMARY: /, ''),
  );
const bookmarkOf = (run: CliRun, examId: number) =>
  lastState(run).bookmarks.results.partitions.find((p: { context: { exam_id: number } }) => p.context.exam_id === examId)
    ?.replication_key_value;

/** Exam 1's results, with the second of the three that share T0+20 carrying a `passed` no one can read. */
function withUnreadableResult() {
  const results = resultRows();
  const bad = results.filter((r) => r.exam_id === 1)[2]!;
  (bad as unknown as Record<string, unknown>).passed = 'perhaps';
  return { data: { exams: examRows(), results }, bad };
}

describe('a record that cannot be read, in the middle of an incremental stream', () => {
  it('is set aside whole; the run goes on, the bookmark moves past it, exit 6 and the summary says so', async () => {
    const { data, bad } = withUnreadableResult();
    const { config } = await start(data);
    const run = await runCli(examTap, ['--config', config], {}, NOW);

    expect(run.code, run.stderr).toBe(6);
    // Every readable record, including those after it on the same and later pages.
    expect(recordsOf(run, 'results').map((r) => r.result_id)).toEqual([100, 101, 103, 104, 105, 106]);
    const rejects = recordsOf(run, '_sdc_rejected_records');
    const recordJson = JSON.stringify(bad);
    expect(rejects).toEqual([
      {
        reject_id: createHash('sha256').update(`results\n{"exam_id":1}\n${recordJson}`).digest('hex'),
        stream: 'results',
        partition: { exam_id: 1 },
        record_json: recordJson,
        reason: 'field "passed": expected a boolean (true/false, 1/0, "1"/"0", "true"/"false", "Yes"/"No" or "y"/"n"), got "perhaps"',
        field: 'passed',
        rejected_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      },
    ]);
    // Its SCHEMA comes before it, keyed so a record read again lands on its earlier row.
    const schemaAt = run.messages.findIndex((m) => m.type === 'SCHEMA' && m.stream === '_sdc_rejected_records');
    const rejectAt = run.messages.findIndex((m) => m.type === 'RECORD' && m.stream === '_sdc_rejected_records');
    expect(schemaAt).toBeGreaterThan(-1);
    expect(schemaAt).toBeLessThan(rejectAt);
    expect(run.messages[schemaAt]!.key_properties).toEqual(['reject_id']);
    expect(bookmarkOf(run, 1)).toBe(new Date((T0 + 30) * 1000).toISOString().replace('.000Z', 'Z'));
    expect(run.stderr).toMatch(
      /WARN stream results \(partition \{"exam_id":1\}\): a record could not be read \(field "passed": .*\); it is kept in _sdc_rejected_records \(reject_id [0-9a-f]{12}…\) and the stream goes on\./,
    );
    expect(summaryOf(run)).toMatchObject({ status: 'partial', streams: { results: { records: 6, rejected: 1 } } });

    // The next run starts past it: it is not read again, nothing is set aside, and the run is complete.
    const next = await runCli(examTap, ['--config', config, '--state', jsonFile(lastState(run))], {}, NOW);
    expect(next.code, next.stderr).toBe(0);
    expect(recordsOf(next, '_sdc_rejected_records')).toEqual([]);
    expect(summaryOf(next)).toMatchObject({ status: 'complete', streams: { results: { rejected: 0 } } });
  });

  it('moves the bookmark to its cursor when it is the newest record, and a re-read of the boundary second lands on the same row', async () => {
    const results = resultRows();
    const newest = results.find((r) => r.exam_id === 1 && r.finished_at === T0 + 30)!;
    (newest as unknown as Record<string, unknown>).passed = null;
    const { config } = await start({ exams: examRows(), results });
    const run = await runCli(examTap, ['--config', config], {}, NOW);
    expect(run.code, run.stderr).toBe(6);
    expect(bookmarkOf(run, 1)).toBe(new Date((T0 + 30) * 1000).toISOString().replace('.000Z', 'Z'));

    // The API answers "strictly after", so the kit asks from a second before the bookmark: the record comes again.
    const next = await runCli(examTap, ['--config', config, '--state', jsonFile(lastState(run))], {}, NOW);
    expect(recordsOf(next, '_sdc_rejected_records').map((r) => r.reject_id)).toEqual(
      recordsOf(run, '_sdc_rejected_records').map((r) => r.reject_id),
    );
    expect(bookmarkOf(next, 1)).toBe(bookmarkOf(run, 1));
  });
});

describe('a record of a full-table parent that cannot be read', () => {
  it('is set aside; no ACTIVATE_VERSION retires its earlier row, and its children are named as not read', async () => {
    const exams = examRows();
    (exams[1] as Record<string, unknown>).title = { en: 'Biology' }; // not text
    const { config } = await start({ exams, results: resultRows() });
    const run = await runCli(examTap, ['--config', config], {}, NOW);

    expect(run.code, run.stderr).toBe(6);
    expect(recordsOf(run, 'exams').map((r) => r.id)).toEqual([1, 3]);
    expect(recordsOf(run, '_sdc_rejected_records')).toMatchObject([{ stream: 'exams', partition: null, field: 'title' }]);
    expect(run.messages.filter((m) => m.type === 'ACTIVATE_VERSION')).toEqual([]);
    expect(run.stderr).toContain('; its results were not read, and keep their bookmarks and rows.');
    expect(run.stderr).toMatch(
      /WARN stream exams: a record could not be read and was set aside in _sdc_rejected_records, so the row it would update is not in this listing; ACTIVATE_VERSION is not sent this run/,
    );
    // Exam 2's results were never read, so it has no bookmark to move.
    expect(bookmarkOf(run, 2)).toBeUndefined();
  });
});

describe('the rejects stream in the catalog', () => {
  it('is discovered, keyed by reject_id and selected by default', async () => {
    const catalog = JSON.parse((await runCli(examTap, ['--discover'])).stdout);
    const entry = catalog.streams.find((s: { tap_stream_id: string }) => s.tap_stream_id === '_sdc_rejected_records');
    expect(entry).toMatchObject({ key_properties: ['reject_id'], replication_method: 'FULL_TABLE' });
    expect(Object.keys(entry.schema.properties)).toEqual([
      'reject_id',
      'stream',
      'partition',
      'record_json',
      'reason',
      'field',
      'rejected_at',
    ]);
    expect(entry.metadata[0].metadata).toMatchObject({ selected: true, 'selected-by-default': true });
  });

  it('is kept by a catalog saved before it existed', async () => {
    const { data } = withUnreadableResult();
    const { config } = await start(data);
    const catalog = JSON.parse((await runCli(examTap, ['--discover'])).stdout);
    catalog.streams = catalog.streams.filter((s: { tap_stream_id: string }) => s.tap_stream_id !== '_sdc_rejected_records');
    const run = await runCli(examTap, ['--config', config, '--catalog', jsonFile(catalog)], {}, NOW);
    expect(recordsOf(run, '_sdc_rejected_records')).toHaveLength(1);
  });

  it('deselected, it keeps nothing in a table: the record is printed whole in the warning, and the run is still partial', async () => {
    const { data, bad } = withUnreadableResult();
    const { config } = await start(data);
    const catalog = JSON.parse((await runCli(examTap, ['--discover'])).stdout);
    catalog.streams.find((s: { tap_stream_id: string }) => s.tap_stream_id === '_sdc_rejected_records').metadata[0].metadata.selected =
      false;
    const run = await runCli(examTap, ['--config', config, '--catalog', jsonFile(catalog)], {}, NOW);
    expect(run.code).toBe(6);
    expect(run.messages.filter((m) => m.stream === '_sdc_rejected_records')).toEqual([]);
    expect(run.stderr).toContain(`_sdc_rejected_records is not selected, so it is kept only here: ${JSON.stringify(bad)}.`);
  });
});

describe('a record set aside while it is still pending', () => {
  it('holds the bookmark at its cursor, so its final form is read when it comes', async () => {
    const local = defineApi({ config: z.object({}), baseUrl: () => 'http://127.0.0.1:9' });
    const attempts = local.stream({
      name: 'attempts',
      key: ['id'],
      record: z.object({
        id: z.number().int(),
        at: coerce.isoDateTime(),
        state: z.enum(['Running', 'Completed']),
        score: coerce.decimal(),
      }),
      incremental: { cursor: 'at', sorted: false, pending: (attempt) => attempt.state === 'Running' },
      async *fetch() {
        yield [
          { id: 1, at: '2024-05-01T00:00:00Z', state: 'Completed', score: '1' },
          { id: 2, at: '2024-05-02T00:00:00Z', state: 'Running', score: 'not yet' },
          { id: 3, at: '2024-05-03T00:00:00Z', state: 'Completed', score: '2' },
        ];
      },
    });
    const messages: SingerMessage[] = [];
    const log: Logger = silentLogger;
    const state = await sync({
      tap: defineTap({ name: 'tap-a', description: 'a', version: '0', api: local, streams: [attempts] }),
      config: {},
      write: (m) => void messages.push(m),
      log,
      http: {} as never,
      now: NOW,
    });
    expect(messages.filter((m) => m.type === 'RECORD' && m.stream === '_sdc_rejected_records')).toHaveLength(1);
    expect(state.bookmarks).toEqual({ attempts: { replication_key: 'at', replication_key_value: '2024-05-02T00:00:00Z' } });
  });
});

describe('replay-rejects', () => {
  it('reads exported rows again with a fixed declaration and writes their records, without touching the state', async () => {
    const { data, bad } = withUnreadableResult();
    const { config } = await start(data);
    const run = await runCli(examTap, ['--config', config], {}, NOW);
    // The rows as exported from the table, one JSON object a line.
    const rows = jsonFile(null).replace(/\.json$/, '.jsonl');
    writeFileSync(
      rows,
      `${recordsOf(run, '_sdc_rejected_records')
        .map((row) => JSON.stringify(row))
        .join('\n')}\n`,
    );

    // The same tap still cannot read it: the command names it and fails.
    const still = await runCli(examTap, ['replay-rejects', '--config', config, '--file', rows], {}, NOW);
    expect(still.code).toBe(1);
    expect(still.stderr).toContain('1 of 1 records still cannot be read: line 1 (results): field "passed"');

    // A version whose declaration reads it writes it, under its stream, with no STATE.
    const fixedResults = api.stream({
      ...results,
      record: results.record.extend({ passed: coerce.text() }),
      incremental: results.incremental as never,
    });
    const fixed = defineTap({ ...examTap, streams: [exams, fixedResults] });
    const replay = await runCli(fixed, ['replay-rejects', '--config', config, '--file', rows], {}, NOW);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.messages.map((m) => `${m.type}:${m.stream}`)).toEqual(['SCHEMA:results', 'RECORD:results']);
    expect(replay.messages[1]!.record).toMatchObject({ result_id: bad.result_id, exam_id: 1, passed: 'perhaps' });
  });
});
