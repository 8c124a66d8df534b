// A stream served newest first (`sorted: 'desc'`) stops paging once it reaches records older than its start.
import { nextUrlPaging } from '@tapline/http';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { coerce, defineApi, defineTap } from '../src/index.js';
import { type FakeApi, fakeApiPerTest } from './support/fake-api.js';
import { jsonFile, lastState, runCli } from './support/run-cli.js';

const api = defineApi({
  config: z.object({ base_url: z.string() }),
  baseUrl: (config) => config.base_url,
  records: 'results',
  pagination: nextUrlPaging(),
});
const attempts = (sorted: 'desc' | false) =>
  api.stream({
    name: 'attempts',
    path: '/attempts/',
    key: ['id'],
    record: z.object({ id: z.number().int(), date: coerce.isoDateTime() }),
    incremental: { cursor: 'date', sorted, lookback: '1h' },
  });
const tapOf = (sorted: 'desc' | false) =>
  defineTap({ name: 'tap-attempts', description: 'Attempts.', version: '0.0.1', api, streams: [attempts(sorted)] });

const fakeApi = fakeApiPerTest(afterEach);
let fake: FakeApi | undefined;

const day = (d: number) => new Date(Date.UTC(2024, 0, d)).toISOString();
type Row = { id: number; date: string };

/** Serves `rows` in the given order, 3 a page, linked by `next` (DRF style). */
async function start(rows: () => Row[]) {
  fake = await fakeApi.start({
    'GET /attempts/': ({ query }) => {
      const page = Number(query.page ?? 1);
      const all = rows();
      const next = page * 3 < all.length ? `${fake!.baseUrl}/attempts/?page=${page + 1}` : null;
      return { body: { next, results: all.slice((page - 1) * 3, page * 3) } };
    },
  });
  return jsonFile({ base_url: fake.baseUrl });
}
const ids = (run: { messages: Array<Record<string, any>> }) => run.messages.filter((m) => m.type === 'RECORD').map((m) => m.record.id);
const NOW = () => new Date(Date.UTC(2024, 1, 1));

describe("sorted: 'desc' (newest first)", () => {
  it('reads every page on the first run, then only the pages down to the start (bookmark less look-back)', async () => {
    // Nine attempts on days 9..1, newest first.
    const rows: Row[] = [9, 8, 7, 6, 5, 4, 3, 2, 1].map((d) => ({ id: d, date: day(d) }));
    const config = await start(() => rows);
    const tap = tapOf('desc');
    const first = await runCli(tap, ['--config', config], {}, NOW);
    expect(first.code).toBe(0);
    expect(ids(first)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(fake!.requests).toHaveLength(3);
    expect(lastState(first).bookmarks.attempts.replication_key_value).toBe(day(9).replace('.000Z', 'Z'));

    // A new attempt on top, and one that shows up late half an hour before the bookmark (inside the look-back hour).
    rows.unshift({ id: 11, date: day(10) });
    rows.splice(2, 0, { id: 10, date: '2024-01-08T23:30:00.000Z' });
    fake!.requests.length = 0;
    const second = await runCli(tap, ['--config', config, '--state', jsonFile(lastState(first))], {}, NOW);
    expect(second.code).toBe(0);
    // Page 1 holds 11, 9 (the bookmark) and 10 (inside the look-back); page 2 starts older than the start, so it is the last.
    expect(ids(second)).toEqual([11, 9, 10]);
    expect(fake!.requests.map((r) => r.query.page ?? '1')).toEqual(['1', '2']);
    expect(lastState(second).bookmarks.attempts.replication_key_value).toBe(day(10).replace('.000Z', 'Z'));
  });

  it('reads every page, with a warning, when the data is not newest first after all', async () => {
    const rows: Row[] = [1, 2, 3, 4, 5, 6, 7].map((d) => ({ id: d, date: day(d) }));
    const config = await start(() => rows);
    const tap = tapOf('desc');
    const state = { bookmarks: { attempts: { replication_key: 'date', replication_key_value: day(5) } } };
    const run = await runCli(tap, ['--config', config, '--state', jsonFile(state)], {}, NOW);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/declared newest first, but date went up/);
    expect(ids(run)).toEqual([5, 6, 7]);
    expect(fake!.requests).toHaveLength(3);
  });

  it('an unsorted stream reads every page whatever the start', async () => {
    const rows: Row[] = [9, 8, 7, 6, 5, 4].map((d) => ({ id: d, date: day(d) }));
    const config = await start(() => rows);
    const state = { bookmarks: { attempts: { replication_key: 'date', replication_key_value: day(9) } } };
    const run = await runCli(tapOf(false), ['--config', config, '--state', jsonFile(state)], {}, NOW);
    expect(ids(run)).toEqual([9]);
    expect(fake!.requests).toHaveLength(2);
  });
});
