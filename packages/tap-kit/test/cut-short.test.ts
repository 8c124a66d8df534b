// A listing cut short: the classifier skips a response after pages were read (an exam made
// forbidden or deleted mid-run). What was read is kept; nothing the run did not reach is given up.
import { byStatus, nextUrlPaging } from '@tapline/http';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { coerce, defineApi, defineTap, type StreamDefinition } from '../src/index.js';
import { type FakeApi, fakeApiPerTest } from './support/fake-api.js';
import { type CliRun, jsonFile, lastState, runCli } from './support/run-cli.js';

const Config = z.object({ base_url: z.string() });
const api = defineApi({
  config: Config,
  baseUrl: (config) => config.base_url,
  // As Testpress answers an exam the user may no longer see.
  http: () => ({ classify: byStatus({ 403: { action: 'skip', blame: 'config', message: 'this exam is not available to the user' } }) }),
  records: 'results',
  pagination: nextUrlPaging(),
});
const record = z.object({ id: z.number().int(), date: coerce.isoDateTime() });
const attempts = (sorted: 'asc' | 'desc' | false) =>
  api.stream({ name: 'attempts', path: '/attempts/', key: ['id'], record, incremental: { cursor: 'date', sorted } });
const tapOf = (...streams: StreamDefinition<any, z.output<typeof Config>>[]) =>
  defineTap({ name: 'tap-attempts', description: 'Attempts.', version: '0.0.1', api, streams });

const fakeApi = fakeApiPerTest(afterEach);
let fake: FakeApi | undefined;

const day = (d: number) => new Date(Date.UTC(2024, 0, d)).toISOString().replace('.000Z', 'Z');
type Row = { id: number; date: string };
const rowsOn = (days: number[]): Row[] => days.map((d) => ({ id: d, date: day(d) }));

/** DRF-style pages of 3 linked by `next`; a page number in `forbidden` answers 403 instead. */
function pagesOf(path: string, rows: () => Row[], forbidden: () => number[]) {
  return ({ query }: { query: Record<string, string> }) => {
    const page = Number(query.page ?? 1);
    if (forbidden().includes(page)) return { status: 403, body: { detail: 'You do not have permission to perform this action.' } };
    const all = rows();
    const next = page * 3 < all.length ? `${fake!.baseUrl}${path}?page=${page + 1}` : null;
    return { body: { count: all.length, next, results: all.slice((page - 1) * 3, page * 3) } };
  };
}

const ids = (run: CliRun, stream = 'attempts') =>
  run.messages.filter((m) => m.type === 'RECORD' && m.stream === stream).map((m) => m.record.id);
const NOW = () => new Date(Date.UTC(2024, 1, 1));

describe('an incremental listing cut short by a skipped response after some pages', () => {
  it('newest first: keeps the bookmark where it was, with a warning naming the stream, so the next run reads the pages it missed', async () => {
    let forbidden = [2];
    fake = await fakeApi.start({
      'GET /attempts/': pagesOf(
        '/attempts/',
        () => rowsOn([9, 8, 7, 6, 5, 4, 3, 2, 1]),
        () => forbidden,
      ),
    });
    const config = jsonFile({ base_url: fake.baseUrl });
    const state = { bookmarks: { attempts: { replication_key: 'date', replication_key_value: day(3) } } };
    const tap = tapOf(attempts('desc'));

    const cut = await runCli(tap, ['--config', config, '--state', jsonFile(state)], {}, NOW);
    expect(cut.code, cut.stderr).toBe(6);
    expect(ids(cut)).toEqual([9, 8, 7]);
    expect(lastState(cut).bookmarks.attempts.replication_key_value).toBe(day(3)); // not day 9: 6, 5 and 4 were never read
    expect(cut.stderr).toMatch(
      /WARN stream attempts: the listing stopped at a skipped response after 1 page, so the records on the pages after it were not read; the bookmark stays where it was, so the next run reads them\./,
    );

    forbidden = [];
    const next = await runCli(tap, ['--config', config, '--state', jsonFile(lastState(cut))], {}, NOW);
    expect(ids(next)).toEqual([9, 8, 7, 6, 5, 4, 3]);
    expect(lastState(next).bookmarks.attempts.replication_key_value).toBe(day(9));
  });

  it('unsorted: keeps the bookmark where it was', async () => {
    fake = await fakeApi.start({
      'GET /attempts/': pagesOf(
        '/attempts/',
        () => rowsOn([5, 9, 4, 2, 3, 6]),
        () => [2],
      ),
    });
    const state = { bookmarks: { attempts: { replication_key: 'date', replication_key_value: day(1) } } };
    const run = await runCli(
      tapOf(attempts(false)),
      ['--config', jsonFile({ base_url: fake.baseUrl }), '--state', jsonFile(state)],
      {},
      NOW,
    );
    expect(ids(run)).toEqual([5, 9, 4]);
    expect(lastState(run).bookmarks.attempts.replication_key_value).toBe(day(1));
  });

  it('oldest first: the bookmark moves as far as the records read, since every unread one comes after them', async () => {
    fake = await fakeApi.start({
      'GET /attempts/': pagesOf(
        '/attempts/',
        () => rowsOn([1, 2, 3, 4, 5, 6, 7]),
        () => [2],
      ),
    });
    const run = await runCli(tapOf(attempts('asc')), ['--config', jsonFile({ base_url: fake.baseUrl })], {}, NOW);
    expect(ids(run)).toEqual([1, 2, 3]);
    expect(lastState(run).bookmarks.attempts.replication_key_value).toBe(day(3));
    expect(run.stderr).toContain(`the bookmark moves only as far as the records read (${day(3)})`);
  });

  it('a skip on the very first request skips the resource whole, as before: no warning of a cut-short listing', async () => {
    fake = await fakeApi.start({
      'GET /attempts/': pagesOf(
        '/attempts/',
        () => rowsOn([1, 2]),
        () => [1],
      ),
    });
    const run = await runCli(tapOf(attempts('desc')), ['--config', jsonFile({ base_url: fake.baseUrl })], {}, NOW);
    expect(run.code).toBe(0);
    expect(ids(run)).toEqual([]);
    expect(run.stderr).toContain('GET /attempts/: skipped: this exam is not available to the user');
    expect(run.stderr).not.toContain('the listing stopped');
  });
});

describe('a shared bookmark (one bookmark for every exam) when one exam’s listing is cut short', () => {
  const exams = api.stream({ name: 'exams', path: '/exams/', key: ['id'], record: z.object({ id: z.number().int() }) });
  const sharedResults = (sorted: 'asc' | 'desc') =>
    api.stream({
      name: 'results',
      path: '/exams/{exam_id}/results/',
      parent: exams.each((exam) => ({ exam_id: exam.id })),
      key: ['id'],
      record: record.extend({ exam_id: z.number().int() }),
      incremental: { cursor: 'date', sorted },
    });
  /** Exam 1's second page is forbidden; exam 2 is read whole and holds newer results than exam 1 read. */
  async function startExams(exam1: number[], exam2: number[]) {
    fake = await fakeApi.start({
      'GET /exams/': () => ({ body: { next: null, results: [{ id: 1 }, { id: 2 }] } }),
      'GET /exams/1/results/': pagesOf(
        '/exams/1/results/',
        () => rowsOn(exam1),
        () => [2],
      ),
      'GET /exams/2/results/': pagesOf(
        '/exams/2/results/',
        () => rowsOn(exam2).map((r) => ({ ...r, id: 100 + r.id })),
        () => [],
      ),
    });
    return jsonFile({ base_url: fake.baseUrl });
  }
  const bookmarkOf = (run: CliRun) => lastState(run).bookmarks.results?.replication_key_value;

  it('newest first: the shared bookmark does not move, though the other exam read newer results', async () => {
    const config = await startExams([9, 8, 7, 6, 5], [20, 19]);
    const state = { bookmarks: { results: { replication_key: 'date', replication_key_value: day(2) } } };
    const run = await runCli(tapOf(exams, sharedResults('desc')), ['--config', config, '--state', jsonFile(state)], {}, NOW);
    expect(run.code, run.stderr).toBe(6);
    expect(ids(run, 'results')).toEqual([9, 8, 7, 120, 119]);
    expect(bookmarkOf(run)).toBe(day(2)); // day 20 would pass exam 1's unread 6 and 5
    expect(run.stderr).toContain('WARN stream results (partition {"exam_id":1}): the listing stopped at a skipped response after 1 page');
  });

  it('oldest first: the shared bookmark is held at the last result read of the exam cut short', async () => {
    const config = await startExams([1, 2, 3, 4, 5], [19, 20]);
    const run = await runCli(tapOf(exams, sharedResults('asc')), ['--config', config], {}, NOW);
    expect(ids(run, 'results')).toEqual([1, 2, 3, 119, 120]);
    expect(bookmarkOf(run)).toBe(day(3));
  });
});

describe('ACTIVATE_VERSION after a listing cut short', () => {
  const rooms = api.stream({
    name: 'rooms',
    path: '/rooms/',
    key: ['id'],
    record: z.object({ id: z.number().int() }),
    activateVersion: true,
  });

  it('is not sent, and a warning says why, so the rows on the pages not read are not deleted downstream', async () => {
    fake = await fakeApi.start({
      'GET /rooms/': pagesOf(
        '/rooms/',
        () => rowsOn([1, 2, 3, 4, 5]),
        () => [2],
      ),
    });
    const run = await runCli(tapOf(rooms), ['--config', jsonFile({ base_url: fake.baseUrl })], {}, NOW);
    expect(run.code, run.stderr).toBe(6);
    expect(ids(run, 'rooms')).toEqual([1, 2, 3]);
    expect(run.messages.filter((m) => m.type === 'ACTIVATE_VERSION')).toEqual([]);
    expect(run.stderr).toMatch(
      /WARN stream rooms: its listing stopped at a skipped response after 1 page \(this exam is not available to the user\); ACTIVATE_VERSION is not sent this run/,
    );
  });

  it('a custom fetch that pages with ctx.http.paginate is watched the same way', async () => {
    const fetched = api.stream({
      name: 'rooms',
      key: ['id'],
      record: z.object({ id: z.number().int() }),
      activateVersion: true,
      async *fetch(ctx) {
        for await (const page of ctx.http.paginate(
          { path: '/rooms/' },
          nextUrlPaging(),
          (body) => (body as { results: unknown[] }).results,
        ))
          yield page.records;
      },
    });
    fake = await fakeApi.start({
      'GET /rooms/': pagesOf(
        '/rooms/',
        () => rowsOn([1, 2, 3, 4, 5]),
        () => [2],
      ),
    });
    const run = await runCli(tapOf(fetched), ['--config', jsonFile({ base_url: fake.baseUrl })], {}, NOW);
    expect(ids(run, 'rooms')).toEqual([1, 2, 3]);
    expect(run.messages.filter((m) => m.type === 'ACTIVATE_VERSION')).toEqual([]);
  });

  it('watching leaves ctx.http one client for the whole run, which connectors may key a per-run cache on', async () => {
    const clients = new Set<unknown>();
    const seeing = (name: string) =>
      api.stream({
        name,
        partitions: () => [{ floor: 1 }, { floor: 2 }],
        key: ['id'],
        record: z.object({ id: z.number().int() }),
        async *fetch(ctx) {
          clients.add(ctx.http);
          yield [{ id: 1 }];
        },
      });
    const run = await runCli(tapOf(seeing('rooms'), seeing('desks')), ['--config', jsonFile({ base_url: 'http://127.0.0.1:9' })], {}, NOW);
    expect(run.code, run.stderr).toBe(0);
    expect(clients.size).toBe(1);
  });
});

describe('a listing that lost records between two pages (its total went down)', () => {
  const counted = (sorted: 'asc' | 'desc') =>
    api.stream({
      name: 'attempts',
      path: '/attempts/',
      key: ['id'],
      record,
      incremental: { cursor: 'date', sorted },
      pagination: nextUrlPaging({ total: 'count' }),
    });
  /** The listing as served: the first request sees `before`, every later one `after` (a record deleted after the first page). */
  function shrinking(before: number[], after: number[]) {
    let requests = 0;
    return pagesOf(
      '/attempts/',
      () => rowsOn(requests++ === 0 ? before : after),
      () => [],
    );
  }

  it('newest first, stopping past its start: the record that slid onto the first page is read next run, as the bookmark stays', async () => {
    fake = await fakeApi.start({ 'GET /attempts/': shrinking([9, 8, 7, 6, 5, 4, 3, 2, 1], [9, 7, 6, 5, 4, 3, 2, 1]) });
    const config = jsonFile({ base_url: fake.baseUrl });
    const state = { bookmarks: { attempts: { replication_key: 'date', replication_key_value: day(5) } } };
    const tap = tapOf(counted('desc'));

    const first = await runCli(tap, ['--config', config, '--state', jsonFile(state)], {}, NOW);
    expect(first.code, first.stderr).toBe(6);
    expect(ids(first)).toEqual([9, 8, 7, 5]); // 6 slid onto page 1 after it was read; page 2 reaches past the start
    expect(lastState(first).bookmarks.attempts.replication_key_value).toBe(day(5));
    expect(first.stderr).toContain(
      "WARN stream attempts: the listing's total went down from 9 to 8 between two pages, so records after the ones removed moved onto pages already read; one of those may not have been read; the bookmark stays where it was, so the next run reads them.",
    );

    const next = await runCli(tap, ['--config', config, '--state', jsonFile(lastState(first))], {}, NOW);
    expect(ids(next)).toContain(6);
    expect(lastState(next).bookmarks.attempts.replication_key_value).toBe(day(9));
  });

  it('oldest first: the pages were committed as they were read, and the warning says the bookmark may have passed the record', async () => {
    fake = await fakeApi.start({ 'GET /attempts/': shrinking([1, 2, 3, 4, 5, 6], [1, 3, 4, 5, 6]) });
    const run = await runCli(tapOf(counted('asc')), ['--config', jsonFile({ base_url: fake.baseUrl })], {}, NOW);
    expect(ids(run)).toEqual([1, 2, 3, 5, 6]);
    expect(run.stderr).toContain(
      'the bookmark already moved with each page read (the listing is declared oldest first), so it may have passed that record',
    );
  });

  it('records added between pages are only read twice: no warning, and the bookmark moves', async () => {
    fake = await fakeApi.start({ 'GET /attempts/': shrinking([9, 8, 7, 6], [10, 9, 8, 7, 6]) });
    const run = await runCli(tapOf(counted('desc')), ['--config', jsonFile({ base_url: fake.baseUrl })], {}, NOW);
    expect(run.stderr).not.toContain('may not have been read');
    expect(lastState(run).bookmarks.attempts.replication_key_value).toBe(day(9));
  });
});
