// Syncing ClassMarker results over real HTTP: full, incremental, resumed, and across same-second ties.
import { afterEach, describe, expect, it } from 'vitest';
import { type ClassMarkerSimulator, type ClassMarkerSimulatorOptions, startClassMarkerSimulator } from '../simulator/index.js';
import { groupKey, iso, runTap } from './helpers.js';

let sim: ClassMarkerSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});
async function start(options: ClassMarkerSimulatorOptions = {}): Promise<ClassMarkerSimulator> {
  sim = await startClassMarkerSimulator({ seed: 'sync-test', ...options });
  return sim;
}

const RESULT_ROUTES = ['catalog', 'groups_recent_results', 'links_recent_results'];
/** Every run re-reads two days before the bookmark, where an administrator's edit of points is caught. */
const LOOKBACK_SECONDS = 2 * 86_400;

describe('a full sync', () => {
  it('lands every group and link result the simulator holds, once, within the hourly budget', async () => {
    const s = await start();
    const run = await runTap(s);
    expect(run.code, run.stderr).toBe(0);

    const links = run.records('link_results');
    expect(links.map((r) => r.link_result_id).sort()).toEqual(s.data.linkResults.map((e) => e.result.link_result_id).sort());
    expect(new Set(links.map((r) => r.link_result_id)).size).toBe(links.length);
    const groups = run.records('group_results');
    expect(groups.map(groupKey).sort()).toEqual(s.data.groupResults.map((e) => groupKey(e.result)).sort());
    expect(new Set(groups.map(groupKey)).size).toBe(groups.length);

    // Values arrive coerced: ISO times, exact decimals, booleans for Yes/No, seconds next to HH:MM:SS.
    const source = s.data.linkResults[0]!.result;
    expect(links.find((r) => r.link_result_id === source.link_result_id)).toMatchObject({
      time_finished: iso(source.time_finished),
      time_started: iso(source.time_started),
      percentage: String(source.percentage),
      requires_grading: source.requires_grading === 'Yes',
      duration: source.duration,
      passed: source.passed,
    });

    expect(run.records('groups')).toHaveLength(s.data.groups.length);
    expect(run.records('links')).toHaveLength(s.data.links.length);
    expect(run.records('tests').length).toBeGreaterThan(0);

    s.requests.assertOnly(RESULT_ROUTES);
    expect(s.requests.count('catalog')).toBe(1); // groups, links and tests share one v1.json
    expect(s.requests.count()).toBeLessThanOrEqual(30);
    for (const request of s.requests.to('links_recent_results')) expect(request.query.limit).toBe('200');
  });

  it('reads the string-typed form of the 2012 sample to the same records', async () => {
    const anchor = Math.floor(Date.now() / 1000);
    const numeric = await startClassMarkerSimulator({ seed: 'strings', linkResults: 40, groupResults: 20, anchor });
    const strings = await startClassMarkerSimulator({ seed: 'strings', linkResults: 40, groupResults: 20, anchor, numbersAsStrings: true });
    try {
      const config = { start_date: iso(Math.floor(Date.now() / 1000) - 80 * 86_400) };
      const a = await runTap(numeric, { config });
      const b = await runTap(strings, { config });
      expect(b.code, b.stderr).toBe(0);
      expect(b.records('link_results')).toEqual(a.records('link_results'));
      expect(b.records('group_results')).toEqual(a.records('group_results'));
    } finally {
      await Promise.all([numeric.close(), strings.close()]);
    }
  });
});

describe('optional fields', () => {
  it('reads links without link_url_id and results without view_results_url (both off by default), and with them', async () => {
    for (const on of [false, true]) {
      const s = await startClassMarkerSimulator({ seed: 'optional', linkResults: 20, groupResults: 20, linkUrlId: on, viewResultsUrl: on });
      try {
        const run = await runTap(s);
        expect(run.code, run.stderr).toBe(0);
        expect(run.records('links')).toHaveLength(s.data.links.length);
        for (const link of run.records('links'))
          expect(link.link_url_id).toBe(on ? s.data.links.find((l) => l.link_id === link.link_id)!.link_url_id : null);
        const results = [...run.records('link_results'), ...run.records('group_results')];
        expect(results).toHaveLength(40);
        for (const result of results) expect(result.view_results_url).toEqual(on ? expect.stringMatching(/^https:\/\//) : undefined);
      } finally {
        await s.close();
      }
    }
  });
});

describe('incremental syncs', () => {
  it('a second sync reads what is new plus the two-day look-back before the bookmark (re-read on purpose, for edited points)', async () => {
    const s = await start({ linkResults: 300, groupResults: 120 });
    const first = await runTap(s);
    expect(first.code, first.stderr).toBe(0);
    const bookmark = (first.state as any).bookmarks.link_results.partitions[0].replication_key_value as string;

    const before = new Set(s.data.linkResults.map((e) => e.result.link_result_id));
    s.addResults('link', 7);
    s.addResults('group', 3);
    s.requests.clear();
    const second = await runTap(s, { state: first.state });
    expect(second.code, second.stderr).toBe(0);

    const fresh = s.data.linkResults.filter((e) => !before.has(e.result.link_result_id)).map((e) => e.result.link_result_id);
    const read = second.records('link_results');
    expect(read.map((r) => r.link_result_id)).toEqual(expect.arrayContaining(fresh));
    const from = Date.parse(bookmark) / 1000 - LOOKBACK_SECONDS;
    const again = read.filter((r) => !fresh.includes(r.link_result_id));
    expect(again).toHaveLength(
      s.data.linkResults.filter((e) => !fresh.includes(e.result.link_result_id) && e.result.time_finished >= from).length,
    );
    for (const r of again) expect(Date.parse(r.time_finished) / 1000).toBeGreaterThanOrEqual(from);
    expect(second.records('group_results').length).toBeGreaterThanOrEqual(3);
    expect(s.requests.count('links_recent_results')).toBe(1);
    expect(Number(s.requests.to('links_recent_results')[0]!.query.finishedAfterTimestamp)).toBe(from - 1);
  });

  it('re-reads a result an admin re-opened, under the same key', async () => {
    const s = await start({ linkResults: 60, groupResults: 60 });
    const first = await runTap(s);
    s.reopenResults('group', 2);
    s.reopenResults('link', 2);
    // A re-opened result moves to the end of the list, finished now (read here, not after the
    // run: under load the clock's second may have moved on by then).
    const reopened = s.data.groupResults.slice(-2).map((e) => groupKey(e.result));
    const second = await runTap(s, { state: first.state });
    expect(second.records('group_results').map(groupKey)).toEqual(expect.arrayContaining(reopened));
    // Same key as in the first run: the target replaces the row instead of adding one.
    expect(first.records('group_results').map(groupKey)).toEqual(expect.arrayContaining(reopened));
  });

  it('an interrupted sync resumes from its last state with no gap', async () => {
    const s = await start({ linkResults: 900, groupResults: 10 });
    // The 4th page of link results fails for good: the run stops, having saved state page by page.
    s.faults.inject({
      route: 'links_recent_results',
      kind: 'respond',
      after: 3,
      times: 1,
      response: {
        body: {
          status: 'error',
          request_path: 'v1/links/recent_results',
          server_timestamp: s.now(),
          error: { error_code: 'apiKeyInactive', error_message: 'Access denied.' },
        },
      },
    });
    const broken = await runTap(s);
    expect(broken.code).toBe(3);
    const partial = broken.records('link_results');
    expect(partial.length).toBeGreaterThanOrEqual(500); // three pages of 200, less the re-read edge seconds
    expect(partial.length).toBeLessThan(900);

    const resumed = await runTap(s, { state: broken.state });
    expect(resumed.code, resumed.stderr).toBe(0);
    const all = new Set([...partial, ...resumed.records('link_results')].map((r) => r.link_result_id));
    expect(all.size).toBe(900);
    // Only the look-back before the bookmark (two days, and its second) is read twice.
    const bookmark = (broken.state as any).bookmarks.link_results.partitions[0].replication_key_value;
    const twice = resumed.records('link_results').filter((r) => partial.some((p) => p.link_result_id === r.link_result_id));
    for (const r of twice)
      expect(Date.parse(r.time_finished) / 1000).toBeGreaterThanOrEqual(Date.parse(bookmark) / 1000 - LOOKBACK_SECONDS);
  });
});

describe('same-second ties at a page edge', () => {
  it('follows next_finished_after_timestamp after a page the server ended on a whole second, as the document describes', async () => {
    const s = await start({ linkResults: 60, groupResults: 5 });
    const pool = s.data.linkResults;
    const tie = pool[15]!.result.time_finished;
    for (let i = 15; i <= 35; i++) pool[i]!.result.time_finished = tie; // 21 results at one second, across the 25-result page edge
    const run = await runTap(s, { config: { page_size: 25 } });
    expect(run.code, run.stderr).toBe(0);
    const pages = s.requests.to('links_recent_results');
    // The first page ends before the tie (15 results); the next asks after its last second, re-reading nothing.
    expect(Number(pages[1]!.query.finishedAfterTimestamp)).toBe(pool[14]!.result.time_finished);
    const ids = run.records('link_results').map((r) => r.link_result_id);
    expect(ids).toHaveLength(60);
    expect(new Set(ids).size).toBe(60);
  });

  it('reads a second bigger than page_size whole, when the server sends it on one page', async () => {
    const s = await start({ linkResults: 30, groupResults: 5 });
    for (const e of s.data.linkResults.slice(0, 12)) e.result.time_finished = s.data.linkResults[0]!.result.time_finished;
    const run = await runTap(s, { config: { page_size: 10 } });
    expect(run.code, run.stderr).toBe(0);
    expect(new Set(run.records('link_results').map((r) => r.link_result_id)).size).toBe(30);
  });

  it('loses nothing when many results share the boundary second, though the server points past it', async () => {
    const s = await start({ linkResults: 60, groupResults: 5, splitSecondsAtPageEdge: true });
    const pool = s.data.linkResults;
    const tie = pool[15]!.result.time_finished;
    for (let i = 15; i <= 35; i++) pool[i]!.result.time_finished = tie; // 21 results at one second, across the 25-result page edge
    const run = await runTap(s, { config: { page_size: 25 } });
    expect(run.code, run.stderr).toBe(0);

    const pages = s.requests.to('links_recent_results');
    // A client following next_finished_after_timestamp would ask for "after the tie second" and skip 11 results.
    expect(Number(pages[1]!.query.finishedAfterTimestamp)).toBe(tie - 1);
    const ids = run.records('link_results').map((r) => r.link_result_id);
    expect(ids).toHaveLength(60);
    expect(new Set(ids).size).toBe(60);
  });

  it('stops with a config error (exit 3) naming page_size when a whole page shares one second (the API cannot page inside a second)', async () => {
    const s = await start({ linkResults: 30, groupResults: 5, splitSecondsAtPageEdge: true });
    for (const e of s.data.linkResults.slice(0, 12)) e.result.time_finished = s.data.linkResults[0]!.result.time_finished;
    const run = await runTap(s, { config: { page_size: 10 } });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^CRITICAL .*cannot page inside one second, so the rest of that second would be lost: raise page_size \(now 10\) to 200 so one page holds the whole second/m,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('configured group/test and link/test pairs', () => {
  it('reads only those pairs, with a bookmark each', async () => {
    const s = await start({ linkResults: 200, groupResults: 200 });
    const group = s.data.groups[0]!;
    const link = s.data.links[0]!;
    const config = {
      group_tests: [{ group_id: group.group_id, test_id: group.test_ids[0] }],
      link_tests: [{ link_id: link.link_id, test_id: link.test_ids[0] }],
    };
    const run = await runTap(s, { config });
    expect(run.code, run.stderr).toBe(0);
    const expected = s.data.groupResults.filter((e) => e.result.group_id === group.group_id && e.result.test_id === group.test_ids[0]);
    expect(run.records('group_results').map(groupKey).sort()).toEqual(expected.map((e) => groupKey(e.result)).sort());
    for (const r of run.records('link_results')) expect(r).toMatchObject({ link_id: link.link_id, test_id: link.test_ids[0] });
    s.requests.assertOnly(['catalog', 'group_test_recent_results', 'link_test_recent_results']);
    expect((run.state as any).bookmarks.group_results.partitions[0].context).toEqual(config.group_tests[0]);
  });
});
