// Nothing retired without proof: a partition that answers "not found / no results" keeps the rows
// earlier runs loaded (no ACTIVATE_VERSION, a WARNING, the summary), and an answer that is not the
// API's declared success shape stops the run instead of reading as an empty page.
import { byBody, pageNumberPaging, successShape, vendorMessage } from '@tapline/http';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { coerce, defineApi, defineTap } from '../src/index.js';
import { fakeApiPerTest } from './support/fake-api.js';
import { type CliRun, jsonFile, lastState, runCli } from './support/run-cli.js';

const Config = z.object({ base_url: z.string(), exams: z.array(z.string()) });
const api = defineApi({
  config: Config,
  baseUrl: (config) => config.base_url,
  // As CBTHost: a page is {"status": "success", "data": [...]}, and "no results" is documented.
  success: successShape(
    'an object with "status": "success" and "data"',
    (body) => (body as { status?: unknown } | null)?.status === 'success',
  ),
  http: () => ({
    apiName: 'Exams',
    classify: byBody((body) =>
      vendorMessage(body) === 'No results found for this exam'
        ? { action: 'skip', blame: 'config', message: `no results: ${vendorMessage(body)}` }
        : undefined,
    ),
  }),
  records: 'data',
});
const scores = api.stream({
  name: 'scores',
  path: '/exams/{exam}',
  partitions: (config) => config.exams.map((exam) => ({ exam })),
  key: ['id'],
  activateVersion: true,
  record: z.object({ id: z.string(), score: coerce.decimal() }),
});
const tap = defineTap({ name: 'tap-scores', description: 'Scores.', version: '0.0.1', api, streams: [scores] });

const fakeApi = fakeApiPerTest(afterEach);
type Answer = { status?: number; body: unknown };
const page = (exam: string): Answer => ({ body: { status: 'success', data: [1, 2].map((n) => ({ id: `${exam}-${n}`, score: n })) } });

async function runWith(answers: Record<string, Answer>): Promise<CliRun> {
  const fake = await fakeApi.start({
    ...Object.fromEntries(Object.entries(answers).map(([exam, answer]) => [`GET /exams/${exam}`, () => answer])),
  });
  return runCli(tap, ['--config', jsonFile({ base_url: fake.baseUrl, exams: Object.keys(answers) })]);
}

const activations = (run: CliRun) => run.messages.filter((m) => m.type === 'ACTIVATE_VERSION');
const ids = (run: CliRun) => run.messages.filter((m) => m.type === 'RECORD').map((m) => m.record.id);
const summaryOf = (run: CliRun) =>
  JSON.parse(
    run.stderr
      .trim()
      .split('\n')
      .at(-1)!
      .replace(/^SUMMARY: /, ''),
  );

describe('a partition that answers "not found / no results"', () => {
  it('every partition answering: ACTIVATE_VERSION after the last record, exit 0', async () => {
    const run = await runWith({ a: page('a'), b: page('b') });
    expect(run.code, run.stderr).toBe(0);
    expect(ids(run)).toEqual(['a-1', 'a-2', 'b-1', 'b-2']);
    expect(activations(run)).toHaveLength(1);
    expect(summaryOf(run).status).toBe('complete');
  });

  it.each([
    ['with HTTP 404', 404],
    ['with HTTP 200', 200],
  ])(
    '%s: the others are read, ACTIVATE_VERSION is held back, a WARNING names stream, partition and the vendor’s words, and the summary says so (exit 6)',
    async (_name, status) => {
      const run = await runWith({
        a: page('a'),
        gone: { status, body: { status: 'error', message: 'No results found for this exam' } },
        b: page('b'),
      });
      expect(run.code, run.stderr).toBe(6);
      expect(ids(run)).toEqual(['a-1', 'a-2', 'b-1', 'b-2']);
      expect(activations(run)).toEqual([]);
      expect(run.stderr).toContain(
        'WARN stream scores (partition {"exam":"gone"}) answered "not found / no results" (no results: No results found for this exam); that is no proof its rows are gone, so the rows earlier runs loaded from it are kept: ACTIVATE_VERSION is not sent for scores this run.',
      );
      expect(summaryOf(run)).toMatchObject({
        status: 'partial',
        streams: { scores: { records: 4, not_retired: ['{"exam":"gone"}'], cut_short: [] } },
      });
    },
  );
});

describe('an answer that is not the declared success shape', () => {
  it.each([
    [
      'a vendor error on HTTP 200',
      { status: 'error', msg: 'Exam locked by owner' },
      3,
      'Exams answered HTTP 200 with an error: "Exam locked by owner"',
    ],
    [
      'a {"serverstatus": 404} body on HTTP 200 that is not the documented "no results"',
      { serverstatus: 404, message: 'Route moved' },
      3,
      '(serverstatus 404): "Route moved"',
    ],
    [
      'an object of an unknown shape',
      { items: [] },
      1,
      'Exams answered HTTP 200 with an object with keys "items", not an object with "status": "success" and "data"',
    ],
  ])('%s stops the run, sends no ACTIVATE_VERSION and never reads it as an empty page', async (_name, body, code, words) => {
    const run = await runWith({ a: page('a'), odd: { body } });
    expect(run.code, run.stderr).toBe(code);
    expect(run.stderr).toContain(words);
    expect(activations(run)).toEqual([]);
    expect(ids(run)).toEqual(['a-1', 'a-2']);
  });
});

describe('an incremental listing that meets an unrecognised page', () => {
  // The same API with fast retries, so a retried null does not wait real seconds.
  const quickApi = defineApi({ ...api, http: () => ({ apiName: 'Exams', retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } }) });
  const attempts = quickApi.stream({
    name: 'attempts',
    path: '/attempts',
    key: ['id'],
    record: z.object({ id: z.number().int(), at: coerce.isoDateTime() }),
    incremental: { cursor: 'at', sorted: 'asc' },
    pagination: pageNumberPaging(),
  });
  const attemptsTap = defineTap({ name: 'tap-attempts', description: 'Attempts.', version: '0.0.1', api: quickApi, streams: [attempts] });
  const day = (d: number) => `2024-01-0${d}T00:00:00Z`;

  it.each([
    ['JSON null (retried, then the run stops, transient)', null, 4, 'Exams answered HTTP 200 with JSON null'],
    ['a vendor error on HTTP 200', { error: { message: 'Token revoked' } }, 3, 'Exams answered HTTP 200 with an error: "Token revoked"'],
  ])('%s: the bookmark stays at the last page read whole, so the next run reads the rest', async (_name, body, code, words) => {
    const fake = await fakeApi.start({
      'GET /attempts': ({ query }) =>
        query.page === '1' ? { body: { status: 'success', data: [1, 2].map((d) => ({ id: d, at: day(d) })) } } : { body },
    });
    const run = await runCli(attemptsTap, ['--config', jsonFile({ base_url: fake.baseUrl, exams: [] })]);
    expect(run.code, run.stderr).toBe(code);
    expect(run.stderr).toContain(words);
    expect(lastState(run).bookmarks.attempts.replication_key_value).toBe(day(2));
  });
});
