// The API's rate budget holds across runs: the state carries the recent requests, bounded by the limit.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineApi, defineTap, fullRefreshState } from '../src/index.js';
import { type FakeApi, fakeApiPerTest } from './support/fake-api.js';
import { jsonFile, lastState, runCli } from './support/run-cli.js';

const HOUR = 3_600_000;

// Two one-request streams on an API allowing 3 requests an hour, stopping (not waiting) when it is used up.
const api = defineApi({
  config: z.object({ base_url: z.string() }),
  baseUrl: (config) => config.base_url,
  http: () => ({ budget: { limit: 3, intervalMs: HOUR, label: 'Hourly' }, onRateLimit: 'stop' as const }),
  records: 'data',
});
const record = z.object({ id: z.number().int() });
const groups = api.stream({ name: 'groups', path: '/groups', key: ['id'], record, pagination: null });
const links = api.stream({ name: 'links', path: '/links', key: ['id'], record, pagination: null });
const tap = defineTap({
  name: 'tap-hourly',
  description: 'Two streams on an hourly budget.',
  version: '0.0.1',
  api,
  streams: [groups, links],
});

const fakeApi = fakeApiPerTest(afterEach);
let fake: FakeApi | undefined;

async function start() {
  fake = await fakeApi.start({
    'GET /groups': () => ({ body: { data: [{ id: 1 }] } }),
    'GET /links': () => ({ body: { data: [{ id: 2 }] } }),
  });
  return jsonFile({ base_url: fake.baseUrl });
}

describe('the rate budget across runs', () => {
  it('is written into every STATE as the request times of the window', async () => {
    const config = await start();
    const before = Date.now();
    const run = await runCli(tap, ['--config', config]);
    expect(run.code).toBe(0);
    const state = lastState(run);
    expect(state.rate_budget.request_times).toHaveLength(2);
    for (const time of state.rate_budget.request_times) expect(time).toBeGreaterThanOrEqual(before);
    // The first STATE (after the groups page) already counts the groups request.
    expect(run.messages.find((m) => m.type === 'STATE')!.value.rate_budget.request_times).toHaveLength(1);
  });

  it('a run minutes after the last one counts that run’s requests and stops cleanly when the budget is used up', async () => {
    const config = await start();
    const first = await runCli(tap, ['--config', config]);
    const second = await runCli(tap, ['--config', config, '--state', jsonFile(lastState(first))]);
    // 2 + 1 requests fit in the hour; the fourth would not, so the run ends with its state saved, exit 6 (partial).
    expect(fake!.requests.map((r) => r.path)).toEqual(['/groups', '/links', '/groups']);
    expect(second.code).toBe(6);
    expect(second.stderr).toMatch(/run again after \d{4}-\d{2}-\d{2}T/);
    expect(lastState(second).rate_budget.request_times).toHaveLength(3);
    // The next run from that state makes no request at all.
    const third = await runCli(tap, ['--config', config, '--state', jsonFile(lastState(second))]);
    expect(third.code).toBe(6);
    expect(fake!.requests).toHaveLength(3);
  });

  it('keeps at most `limit` times, forgets those older than the window, and refuses a budget it cannot read', async () => {
    const config = await start();
    const now = Date.now();
    const old = [now - 2 * HOUR, now - HOUR - 1];
    const state = { bookmarks: {}, rate_budget: { request_times: [...old, now - 60_000] } };
    const run = await runCli(tap, ['--config', config, '--state', jsonFile(state)]);
    expect(run.code).toBe(0);
    const kept: number[] = lastState(run).rate_budget.request_times;
    expect(kept).toHaveLength(3);
    expect(kept[0]).toBe(now - 60_000);
    expect(kept.every((t) => t > now - HOUR)).toBe(true);
    // More times than the limit (a hand-edited state, a lowered limit): the newest `limit` stay, and no request goes out.
    const crowded = [5, 4, 3, 2, 1].map((minutes) => now - minutes * 60_000);
    const blocked = await runCli(tap, [
      '--config',
      config,
      '--state',
      jsonFile({ bookmarks: {}, rate_budget: { request_times: crowded } }),
    ]);
    expect(blocked.code).toBe(6);
    expect(lastState(blocked).rate_budget.request_times).toEqual(crowded.slice(-3));
    expect(fake!.requests).toHaveLength(2);
    // A budget in another shape, or with an entry that is not a time, is not taken as "no history"
    // (that would spend requests the vendor already counted): the run stops before any request (exit 3).
    for (const unreadable of [{ request_times: 'lots' }, { request_times: [now - 60_000, 'soon'] }]) {
      const refused = await runCli(tap, ['--config', config, '--state', jsonFile({ rate_budget: unreadable })]);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/^CRITICAL The state file .* is not a state this tap can use: "rate_budget" is not an object/);
    }
    expect(fake!.requests).toHaveLength(2);
  });
});

// Pairs configured by the user, each one request, under the same 3-an-hour budget.
const pairsApi = defineApi({
  config: z.object({ base_url: z.string(), pairs: z.array(z.number()) }),
  baseUrl: (config) => config.base_url,
  http: () => ({ budget: { limit: 3, intervalMs: HOUR, label: 'Hourly' }, onRateLimit: 'stop' as const }),
  records: 'data',
});
const pairs = pairsApi.stream({
  name: 'pair_results',
  path: '/pairs/{pair}',
  partitions: (config) => config.pairs.map((pair) => ({ pair })),
  key: ['id'],
  record: z.object({ id: z.number().int(), at: z.string() }),
  incremental: { cursor: 'at', sorted: true, partitioned: true },
  pagination: null,
});
const pairsTap = defineTap({
  name: 'tap-pairs',
  description: 'Configured pairs on an hourly budget.',
  version: '0.0.1',
  api: pairsApi,
  streams: [pairs],
});

describe('partitions under a rate budget', () => {
  it('a run that stops on the budget is resumed at the partition it stopped in, so every partition is read in turn', async () => {
    const routes = Object.fromEntries(
      [1, 2, 3, 4, 5].map((n) => [`GET /pairs/${n}`, () => ({ body: { data: [{ id: n, at: '2024-01-01T00:00:00Z' }] } })]),
    );
    fake = await fakeApi.start(routes);
    const config = jsonFile({ base_url: fake.baseUrl, pairs: [1, 2, 3, 4, 5] });
    const anHourLater = (run: Parameters<typeof lastState>[0]) => jsonFile({ ...lastState(run), rate_budget: undefined });

    const first = await runCli(pairsTap, ['--config', config]);
    expect(first.code).toBe(6);
    expect(lastState(first)).toMatchObject({ currently_syncing: 'pair_results', currently_syncing_partition: { pair: 4 } });
    const second = await runCli(pairsTap, ['--config', config, '--state', anHourLater(first)]);
    expect(second.stderr).toMatch(/stream pair_results: resuming at partition \{"pair":4\}, where the last run stopped/);
    const third = await runCli(pairsTap, ['--config', config, '--state', anHourLater(second)]);
    expect(third.code).toBe(6);
    // 1 2 3 | 4 5, then round to 1 | 2 3 4: each run starts where the last one stopped.
    expect(fake!.requests.map((r) => Number(r.path.split('/').pop()))).toEqual([1, 2, 3, 4, 5, 1, 2, 3, 4]);
    expect(lastState(third).bookmarks.pair_results.partitions.map((p: { context: unknown }) => p.context)).toEqual(
      [1, 2, 3, 4, 5].map((pair) => ({ pair })),
    );
  });

  it('a run that goes all the way round leaves no resume point behind', async () => {
    fake = await fakeApi.start({ 'GET /pairs/1': () => ({ body: { data: [{ id: 1, at: '2024-01-01T00:00:00Z' }] } }) });
    const run = await runCli(pairsTap, ['--config', jsonFile({ base_url: fake.baseUrl, pairs: [1] })]);
    expect(run.code).toBe(0);
    expect(lastState(run).currently_syncing).toBeNull();
    expect(lastState(run)).not.toHaveProperty('currently_syncing_partition');
  });
});

describe('a full refresh', () => {
  it('forgets the bookmarks, never the requests already spent: it reads from the start within what is left of the hour', async () => {
    const routes = Object.fromEntries(
      [1, 2].map((n) => [`GET /pairs/${n}`, () => ({ body: { data: [{ id: n, at: '2024-01-01T00:00:00Z' }] } })]),
    );
    fake = await fakeApi.start(routes);
    const config = jsonFile({ base_url: fake.baseUrl, pairs: [1, 2] });
    const first = await runCli(pairsTap, ['--config', config]);
    expect(first.code).toBe(0);
    const stored = { ...lastState(first), written_by: 'another tool' };
    expect(stored.bookmarks.pair_results.partitions).toHaveLength(2);

    // What a runner passes for a full refresh: the stored state without where reading got to.
    const refresh = fullRefreshState(stored);
    expect(refresh).toEqual({ bookmarks: {}, rate_budget: stored.rate_budget, written_by: 'another tool' });
    const second = await runCli(pairsTap, ['--config', config, '--state', jsonFile(refresh)]);
    expect(second.code).toBe(6); // partial: the budget stopped it, state written
    // Two requests were spent this hour; the third reads pair 1 again from the start, the fourth waits.
    expect(fake!.requests.map((r) => r.path)).toEqual(['/pairs/1', '/pairs/2', '/pairs/1']);
    expect(second.messages.filter((m) => m.type === 'RECORD').map((m) => m.record.id)).toEqual([1]);
    expect(second.stderr).toMatch(/run again after \d{4}-/);
    expect(lastState(second).rate_budget.request_times).toHaveLength(3);
  });

  it('of a state with nothing else to keep is no state at all', () => {
    expect(fullRefreshState({ bookmarks: { s: {} }, currently_syncing: 's', currently_syncing_partition: { pair: 1 } })).toBeUndefined();
    expect(fullRefreshState(null)).toBeUndefined();
    expect(fullRefreshState(undefined)).toBeUndefined();
  });
});
