// The 30 requests/hour limit: stop cleanly (default) or wait, and a budget that keeps healthy runs under it.
import { afterEach, describe, expect, it } from 'vitest';
import { type ClassMarkerSimulator, type ClassMarkerSimulatorOptions, startClassMarkerSimulator } from '../simulator/index.js';
import { runTap } from './helpers.js';

let sim: ClassMarkerSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});
async function start(options: ClassMarkerSimulatorOptions): Promise<ClassMarkerSimulator> {
  sim = await startClassMarkerSimulator({ seed: 'rate-test', ...options });
  return sim;
}

describe('on_rate_limit: stop (default)', () => {
  it('ends cleanly with state saved, exit 6 (partial), and says when to run next; the next run continues', async () => {
    const s = await start({ linkResults: 1000, groupResults: 50, rateLimitPerHour: 4 });
    const first = await runTap(s);
    expect(first.code, first.stderr).toBe(6);
    expect(first.stderr).toMatch(/rate limit.*run again after \d{4}-\d{2}-\d{2}T/s);
    expect(first.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const got = first.records('link_results').length;
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(1000);
    expect((first.state as any).bookmarks.link_results).toBeDefined();

    // The state remembers ClassMarker's next_request_after: a run straight away makes no request.
    const sent = s.requests.count();
    const tooSoon = await runTap(s, { state: first.state });
    expect(tooSoon.code).toBe(6);
    expect(s.requests.count()).toBe(sent);
    expect(tooSoon.stderr).toMatch(/run again after/);

    // An hour later: the simulator's window and the budget the state remembers have both passed.
    const anHourLater = (state: unknown) => ({ ...(state as object), rate_budget: undefined });
    s.resetRateLimit();
    const second = await runTap(s, { state: anHourLater(tooSoon.state), config: { requests_per_hour: 30 } });
    s.resetRateLimit();
    const third = await runTap(s, { state: anHourLater(second.state) });
    const ids = new Set(
      [...first.records('link_results'), ...second.records('link_results'), ...third.records('link_results')].map((r) => r.link_result_id),
    );
    expect(ids.size).toBe(1000);
    expect(s.errorsSent).toContain('rateLimitExceeded');
  });
});

describe('on_rate_limit: wait', () => {
  it('waits until next_request_after and finishes the sync', async () => {
    // A 2-second "hour" so the test does not wait an hour.
    const s = await start({ linkResults: 300, groupResults: 50, rateLimitPerHour: 3, rateLimitWindowSeconds: 2 });
    const run = await runTap(s, { config: { on_rate_limit: 'wait', page_size: 100 } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/waiting \d+s/);
    expect(new Set(run.records('link_results').map((r) => r.link_result_id)).size).toBe(300);
    expect(s.errorsSent).toContain('rateLimitExceeded');
  }, 30_000);
});

describe('the tap budget', () => {
  it('stops before ClassMarker has to refuse a request', async () => {
    const s = await start({ linkResults: 2000, groupResults: 500, rateLimitPerHour: 30 });
    const run = await runTap(s, { config: { requests_per_hour: 5 } });
    expect(run.code, run.stderr).toBe(6);
    expect(run.stderr).toMatch(/Stopped on the API's rate limit with the state saved; run again after/);
    expect(s.requests.count()).toBe(5);
    expect(s.errorsSent).toEqual([]); // ClassMarker never had to refuse a request
    expect((run.state as any).bookmarks.link_results).toBeDefined();
    expect((run.state as any).rate_budget.request_times).toHaveLength(5);

    // The next run minutes later (an orchestrator running more often than hourly) shares the hour's budget.
    const next = await runTap(s, { state: run.state, config: { requests_per_hour: 5 } });
    expect(next.code, next.stderr).toBe(6);
    expect(next.stderr).toMatch(/run again after/);
    expect(s.requests.count()).toBe(5);
  });
});

describe('more configured pairs than one hour’s budget', () => {
  it('each run starts where the last one stopped, so every pair is read within a few hours and none starves', async () => {
    const s = await start({ linkResults: 40, groupResults: 60 });
    const group_tests = s.data.groups.flatMap((g) => g.test_ids.map((test_id) => ({ group_id: g.group_id, test_id }))).slice(0, 6);
    const config = { group_tests, requests_per_hour: 4 };
    const pairsRead = () => new Set(s.requests.to('group_test_recent_results').map((r) => r.path));
    const anHourLater = (state: unknown) => ({ ...(state as object), rate_budget: undefined });

    // 4 requests an hour: v1.json and three pairs, then the budget stops the run.
    const first = await runTap(s, { config });
    expect(first.code, first.stderr).toBe(6);
    expect(pairsRead().size).toBe(3);
    // An hour later the run resumes at the fourth pair, not at the first.
    const second = await runTap(s, { config, state: anHourLater(first.state) });
    expect(second.code, second.stderr).toBe(6);
    expect(second.stderr).toMatch(/stream group_results: resuming at partition/);
    expect(pairsRead().size).toBe(6);
    expect(s.requests.count('links_recent_results')).toBe(1);
    expect(s.errorsSent).toEqual([]);
    // Every pair's results landed, each with its own bookmark.
    const state = second.state as any;
    expect(state.bookmarks.group_results.partitions.map((p: { context: unknown }) => p.context)).toEqual(
      expect.arrayContaining(group_tests),
    );
  });
});
