// ClassMarker's error answers over real HTTP (the simulator's error-answer modes): an answer is a page
// only with "status": "ok" or "no_results"; every other shape stops, retries or waits as the README
// says, never reads as an empty page, never sends ACTIVATE_VERSION, never moves a bookmark past unread data.
import { duckdbWarehouse, landSync, perTest, postgresWarehouse, type Warehouse } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { startClassMarkerSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';
import { iso, runTap, type TapRun } from './helpers.js';

const startSimulator = perTest(afterEach, startClassMarkerSimulator, (sim) => sim.close());
const duckdb = perTest(afterEach, duckdbWarehouse, (warehouse) => warehouse.drop());
const postgres = perTest(afterEach, postgresWarehouse, (warehouse) => warehouse.drop());
const start = () => startSimulator({ seed: 'error-answers', linkResults: 30, groupResults: 12, rateLimitPerHour: 10_000 });

const activates = (run: TapRun) => run.messages.some((m) => m.type === 'ACTIVATE_VERSION');
const CATALOG_STREAMS = ['groups', 'links', 'tests'];

describe('error answers to v1.json (the catalog of the full-table streams)', () => {
  it.each([
    ['unknown-code-200', 1, 'ClassMarker refused the request (accountLocked). ClassMarker says: "Access denied. This account is locked."'],
    ['error-message-200', 1, 'ClassMarker says: "Access denied. Your API key authorization failed."'],
    [
      'bare-error-200',
      3,
      'ClassMarker answered HTTP 200 with an error: "Forbidden", not a ClassMarker envelope with "status": "ok" or "no_results"',
    ],
    ['html', 3, 'answered HTTP 200 with an HTML page titled "ClassMarker - Error", not the ClassMarker JSON API'],
  ])('%s stops with exit %i and one sentence in the vendor’s words; no catalog row, no ACTIVATE_VERSION', async (shape, code, sentence) => {
    const sim = await start();
    sim.errorAnswer({ shape, route: 'catalog' });
    const run = await runTap(sim);
    expect(run.code, run.stderr).toBe(code);
    expect(run.stderr).toContain('CRITICAL GET /v1.json failed');
    expect(run.stderr).toContain(sentence);
    for (const stream of CATALOG_STREAMS) expect(run.records(stream)).toEqual([]);
    expect(activates(run)).toBe(false);
  });

  it('request-limit-reached-200 (the 2012 sample’s status) is the rate limit: a clean stop (exit 6, rate_limited in the summary), no ACTIVATE_VERSION', async () => {
    const sim = await start();
    sim.errorAnswer({ shape: 'request-limit-reached-200', route: 'catalog' });
    const run = await runTap(sim);
    expect(run.code, run.stderr).toBe(6);
    expect(run.stderr).toMatch(/SUMMARY: .*"rate_limited":/);
    expect(activates(run)).toBe(false);
  });

  it.each(['null', 'internal-error-200'])(
    '%s once is retried, then everything lands with ACTIVATE_VERSION',
    async (shape) => {
      const sim = await start();
      sim.errorAnswer({ shape, route: 'catalog', times: 1 });
      const run = await runTap(sim);
      expect(run.code, run.stderr).toBe(0);
      expect(sim.faults.pending()).toEqual([]);
      expect(run.records('groups').length).toBe(sim.data.groups.length);
      expect(run.records('link_results')).toHaveLength(30);
      expect(activates(run)).toBe(true);
    },
    30_000,
  );
});

describe('an error answer on a later page of recent results', () => {
  it.each(['bare-error-200', 'unknown-code-200'])(
    '%s: the bookmark stays at the last page read whole, and the next run reads the rest',
    async (shape) => {
      const sim = await start();
      sim.errorAnswer({ shape, route: 'links_recent_results', after: 1 });
      const config = { page_size: 10 };
      const broken = await runTap(sim, { config });
      expect(broken.code).not.toBe(0);
      const read = broken.records('link_results');
      expect(read).toHaveLength(10);
      const bookmark = (broken.state as any).bookmarks.link_results.partitions[0].replication_key_value as string;
      expect(bookmark).toBe(
        iso(
          Math.max(
            ...sim.data.linkResults
              .map((e) => e.result.time_finished)
              .sort((a, b) => a - b)
              .slice(0, 10),
          ),
        ),
      );

      sim.faults.clear();
      const next = await runTap(sim, { config, state: broken.state });
      expect(next.code, next.stderr).toBe(0);
      const ids = new Set([...read, ...next.records('link_results')].map((r) => r.link_result_id));
      expect(ids.size).toBe(30);
    },
  );
});

describe.each([
  ['PostgreSQL', postgres],
  ['DuckDB', duckdb],
] as const)('landed in %s', (_name, warehouse) => {
  it('an error answer to the catalog on the second run keeps every group, link and test row (hard_delete on)', async () => {
    const sim = await start();
    const w: Warehouse = await warehouse();
    const count = async () =>
      Object.fromEntries(
        await Promise.all(
          CATALOG_STREAMS.map(async (t) => [t, Number((await w.query(`SELECT count(*) AS n FROM "${w.schema}".${t}`))[0]!.n)]),
        ),
      );
    const first = await landSync(tap, w, { config: sim.config, targetConfig: { hard_delete: true } });
    expect(first.target.code, first.target.stderr).toBe(0);
    const before = await count();
    expect(before.groups).toBe(sim.data.groups.length);

    sim.errorAnswer({ shape: 'bare-error-200', route: 'catalog' });
    const second = await landSync(tap, w, { config: sim.config, state: first.target.states.at(-1), targetConfig: { hard_delete: true } });
    expect(second.tap.code).toBe(3);
    expect(second.target.code, second.target.stderr).toBe(0);
    expect(await count()).toEqual(before);
  });
});
