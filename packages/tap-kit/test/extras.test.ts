// Vendor fields a stream does not declare are kept in _sdc_extra, never dropped, and named once per run.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineApi, defineTap, type Logger, type SingerMessage, silentLogger, sync } from '../src/index.js';
import { examRoutes, examRows, type ResultRow, resultRows } from './support/exam-platform.js';
import { examTap } from './support/exam-tap.js';
import { type FakeHandler, fakeApiPerTest } from './support/fake-api.js';
import { type CliRun, jsonFile, runCli } from './support/run-cli.js';

const fakeApi = fakeApiPerTest(afterEach);
const NOW = () => new Date(Date.UTC(2024, 5, 1));
const recordsOf = (run: CliRun, stream: string) =>
  run.messages.filter((m) => m.type === 'RECORD' && m.stream === stream).map((m) => m.record);

/** Results where exam 1's carry a `room` and a `proctor` object the stream does not declare, one an integer beyond 2^53. */
function withUndeclaredFields(): ResultRow[] {
  return resultRows().map((row) =>
    row.exam_id === 1
      ? ({ ...row, room: 'B12', proctor: { id: 7, name: 'Mo' }, attempt_token: 12345678901234567890n } as unknown as ResultRow)
      : row,
  );
}

/** The routes with bodies written by hand, so a bigint goes out as its bare digits (JSON.stringify cannot). */
function withBigints(routes: Record<string, FakeHandler>): Record<string, FakeHandler> {
  return Object.fromEntries(
    Object.entries(routes).map(([route, handler]) => [
      route,
      (request) => {
        const answer = handler(request);
        const text = JSON.stringify(answer.body, (_, value) => (typeof value === 'bigint' ? `#big#${value}` : value));
        return { ...answer, body: text.replace(/"#big#(\d+)"/g, '$1') };
      },
    ]),
  );
}

describe('undeclared vendor fields', () => {
  it('are kept in _sdc_extra as sent (digits exact), declared in the SCHEMA, and absent where there are none', async () => {
    const fake = await fakeApi.start(withBigints(examRoutes({ exams: examRows(), results: withUndeclaredFields() })));
    const config = jsonFile({ base_url: fake.baseUrl, api_key: 'k' });
    const run = await runCli(examTap, ['--config', config], {}, NOW);
    expect(run.code, run.stderr).toBe(0);

    const schema = run.messages.find((m) => m.type === 'SCHEMA' && m.stream === 'results')!;
    expect(schema.schema.properties._sdc_extra).toMatchObject({ type: ['object', 'null'] });
    const results = recordsOf(run, 'results');
    expect(results.filter((r) => r.exam_id === 1).map((r) => r._sdc_extra)).toEqual(
      Array(5).fill({ room: 'B12', proctor: { id: 7, name: 'Mo' }, attempt_token: expect.any(Number) }),
    );
    // The token is written with every digit the vendor sent, not as the nearest double.
    expect(run.stdout.split('"attempt_token":12345678901234567890}').length - 1).toBe(5);
    expect(results.filter((r) => r.exam_id === 2).every((r) => !('_sdc_extra' in r))).toBe(true);
  });

  it('are named once per run, a WARN for the first of a stream and INFO for the others, and listed in the SUMMARY', async () => {
    const fake = await fakeApi.start(withBigints(examRoutes({ exams: examRows(), results: withUndeclaredFields() })));
    const run = await runCli(examTap, ['--config', jsonFile({ base_url: fake.baseUrl, api_key: 'k' })], {}, NOW);
    expect(run.code, run.stderr).toBe(0);
    const named = run.stderr.split('\n').filter((line) => line.includes('does not declare') || line.includes('undeclared field'));
    expect(named).toEqual([
      'WARN stream results: the vendor sends the field "room", which the stream does not declare; it is kept in _sdc_extra, and the run\'s SUMMARY lists it (with any others of this stream) under undeclared_fields.',
      'INFO stream results: the vendor also sends the undeclared field "proctor"; it is kept in _sdc_extra.',
      'INFO stream results: the vendor also sends the undeclared field "attempt_token"; it is kept in _sdc_extra.',
    ]);
    const summary = JSON.parse(
      run.stderr
        .trimEnd()
        .split('\n')
        .at(-1)!
        .replace(/^SUMMARY: /, ''),
    );
    // Kept, so nothing was left for later: the run is complete, and the fields are named per stream.
    expect(summary.status).toBe('complete');
    expect(summary.streams.results.undeclared_fields).toEqual(['room', 'proctor', 'attempt_token']);
    expect(summary.streams.exams.undeclared_fields).toEqual([]);
  });

  it('are left out when the catalog deselects _sdc_extra', async () => {
    const fake = await fakeApi.start(withBigints(examRoutes({ exams: examRows(), results: withUndeclaredFields() })));
    const catalog = JSON.parse((await runCli(examTap, ['--discover'])).stdout);
    const results = catalog.streams.find((s: { tap_stream_id: string }) => s.tap_stream_id === 'results');
    results.metadata.find((m: { breadcrumb: string[] }) => m.breadcrumb[1] === '_sdc_extra').metadata.selected = false;
    const run = await runCli(
      examTap,
      ['--config', jsonFile({ base_url: fake.baseUrl, api_key: 'k' }), '--catalog', jsonFile(catalog)],
      {},
      NOW,
    );
    expect(recordsOf(run, 'results').every((r) => !('_sdc_extra' in r))).toBe(true);
  });
});

describe('undeclared fields through a transform', () => {
  const api = defineApi({ config: z.object({}), baseUrl: () => 'http://127.0.0.1:9' });
  const raw = { id: 1, correct_answers_count: 4, user: { id: 9, username: 'ann', photo: 'a.png' }, seat: 'C3', internal_rev: 12 };
  const attempts = api.stream({
    name: 'attempts',
    key: ['id'],
    record: z.object({ id: z.number().int(), correct_count: z.number().int(), username: z.string() }),
    // Renames one field, reads one out of an object, and drops everything else.
    transform: (r: typeof raw) => ({ id: r.id, correct_count: r.correct_answers_count, username: r.user.username, made_here: true }),
    consumes: ['correct_answers_count'],
    async *fetch() {
      yield [raw];
    },
  });

  it('keep every raw field the transform drops, and what it adds undeclared, but not a field it renamed (consumes)', async () => {
    const messages: SingerMessage[] = [];
    const log: Logger = silentLogger;
    await sync({
      tap: defineTap({ name: 'tap-t', description: 't', version: '0', api, streams: [attempts] }),
      config: {},
      write: (m) => void messages.push(m),
      log,
      http: {} as never,
    });
    const record = (messages.find((m) => m.type === 'RECORD') as { record: Record<string, unknown> }).record;
    expect(record).toEqual({
      id: 1,
      correct_count: 4,
      username: 'ann',
      // `user` is kept whole: only part of it was read into declared fields.
      _sdc_extra: { user: { id: 9, username: 'ann', photo: 'a.png' }, seat: 'C3', internal_rev: 12, made_here: true },
    });
  });
});
