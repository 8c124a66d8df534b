// Every variant of ClassMarker's answers the simulator serves (docs/providers/classmarker.md, "Variants"
// and "Regrading"), read by the tap over real HTTP, and landed in DuckDB and PostgreSQL.
import { fileURLToPath } from 'node:url';
import { duckdbWarehouse, landSync, postgresWarehouse, type Warehouse } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClassMarkerSimulator, type ClassMarkerSimulatorOptions, startClassMarkerSimulator } from '../simulator/index.js';
import { groupKey, iso, runTap } from './helpers.js';

const DAY = 86_400;
const tapBin = { bin: [process.execPath, fileURLToPath(new URL('../bin/tap-classmarker.js', import.meta.url))] };

const open: ClassMarkerSimulator[] = [];
let warehouse: Warehouse | undefined;
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await warehouse?.drop();
  warehouse = undefined;
});
async function start(options: ClassMarkerSimulatorOptions = {}): Promise<ClassMarkerSimulator> {
  const s = await startClassMarkerSimulator({ seed: 'variants', linkResults: 150, groupResults: 80, ...options });
  open.push(s);
  return s;
}

const allResults = (s: ClassMarkerSimulator) => [...s.data.groupResults, ...s.data.linkResults].map((e) => e.result);
const blank = (text: string | null) => text === null || text.trim() === '';
const bookmarkOf = (state: unknown, stream: string) => (state as any).bookmarks[stream].partitions[0].replication_key_value as string;

describe('the older payload form (numbers as strings; no status, passed, percentage_passmark or certificate fields)', () => {
  it('lands every result, with the same values as the current form and the missing fields absent', async () => {
    const anchor = Math.floor(Date.now() / 1000);
    const current = await start({ anchor });
    const older = await start({ anchor, legacyPayload: true });
    const [a, b] = [await runTap(current), await runTap(older)];
    expect(b.code, b.stderr).toBe(0);
    const without = ({
      status,
      passed,
      percentage_passmark,
      give_certificate_only_when_passed,
      certificate_url,
      certificate_serial,
      ...rest
    }: Record<string, any>) => rest;
    expect(b.records('link_results')).toEqual(a.records('link_results').map(without));
    expect(b.records('group_results')).toEqual(a.records('group_results').map(without));
    expect(b.records('link_results')[0]).toMatchObject({
      link_result_id: expect.any(Number),
      test_id: expect.any(Number),
      percentage: expect.any(String),
    });
    expect(b.records('link_results')[0]).not.toHaveProperty('passed');
  });
});

describe('null names and blank e-mails', () => {
  it('lands results whose first or last name is null, and every blank e-mail ("" or spaces) as null', async () => {
    const s = await start({ nullNames: true, blankEmails: true });
    const served = allResults(s);
    expect(served.some((r) => r.first === null)).toBe(true);
    expect(served.some((r) => r.last === null)).toBe(true);
    expect(served.some((r) => r.email === ' ')).toBe(true);
    const run = await runTap(s);
    expect(run.code, run.stderr).toBe(0);
    const links = new Map(run.records('link_results').map((r) => [r.link_result_id, r]));
    const groups = new Map(run.records('group_results').map((r) => [groupKey(r), r]));
    expect(links.size + groups.size).toBe(served.length);
    for (const { result } of s.data.linkResults) {
      expect(links.get(result.link_result_id)).toMatchObject({
        first: result.first,
        last: result.last,
        email: blank(result.email) ? null : result.email,
      });
    }
    for (const { result } of s.data.groupResults) {
      expect(groups.get(groupKey(result))).toMatchObject({
        first: result.first,
        last: result.last,
        email: blank(result.email) ? null : result.email,
      });
    }
  });
});

describe('null names in the catalog', () => {
  it('lands a group, link and test without a name, with the name null', async () => {
    const s = await start();
    (s.data.groups[0] as any).group_name = null;
    (s.data.links[0] as any).link_name = '';
    (s.data.tests[0] as any).test_name = null;
    const run = await runTap(s);
    expect(run.code, run.stderr).toBe(0);
    expect(run.records('groups').find((g) => g.group_id === s.data.groups[0]!.group_id)!.group_name).toBeNull();
    expect(run.records('links').find((l) => l.link_id === s.data.links[0]!.link_id)!.link_name).toBeNull();
    const test = run.records('tests').find((t) => t.test_id === s.data.tests[0]!.test_id);
    if (test) expect(test.test_name).toBeNull();
  });
});

describe('numbers where text is expected', () => {
  it('lands a duration sent as seconds and a cm_user_id of digits sent as a number, as their text', async () => {
    const s = await start();
    const result = s.data.linkResults[0]!.result as any;
    result.duration = 754;
    result.cm_user_id = 1234567;
    const run = await runTap(s);
    expect(run.code, run.stderr).toBe(0);
    expect(run.records('link_results').find((r) => r.link_result_id === result.link_result_id)).toMatchObject({
      duration: '754',
      duration_seconds: 754,
      cm_user_id: '1234567',
    });
  });
});

describe("test names from each response's tests block", () => {
  it('names every result’s test, also for a test no group or link in v1.json lists any more', async () => {
    const s = await start();
    const group = s.data.groups[0]!;
    const only = group.test_ids.filter(
      (id) => !s.data.groups.slice(1).some((g) => g.test_ids.includes(id)) && !s.data.links.some((l) => l.test_ids.includes(id)),
    );
    s.deleteGroupOrLink('group', group.group_id);
    const run = await runTap(s);
    expect(run.code, run.stderr).toBe(0);
    const names = new Map(s.data.tests.map((t) => [t.test_id, t.test_name]));
    for (const r of [...run.records('group_results'), ...run.records('link_results')]) expect(r.test_name).toBe(names.get(r.test_id));
    const listed = new Set(run.records('tests').map((t) => t.test_id));
    for (const id of only) expect(listed.has(id)).toBe(false);
    expect(run.records('group_results').some((r) => only.includes(r.test_id))).toBe(only.length > 0);
  });
});

describe('the newer optional fields (test_type, monitor_events)', () => {
  it('lands test_type, keeps monitor_events whole in _sdc_extra, and names it once per stream in a WARN and the SUMMARY', async () => {
    const s = await start({ monitoring: true });
    const run = await runTap(s);
    expect(run.code, run.stderr).toBe(0);
    for (const stream of ['group_results', 'link_results']) {
      const records = run.records(stream);
      expect(records.length).toBeGreaterThan(0);
      for (const r of records) {
        expect(r.test_type).toBe('Test');
        expect(r._sdc_extra.monitor_events).toMatchObject({
          browser_monitoring: 'Enabled',
          total_event_count: expect.any(Number),
          events: expect.any(Array),
        });
      }
      expect(
        run.stderr.split('\n').filter((line) => line.includes(`WARN stream ${stream}: the vendor sends the field "monitor_events"`)),
      ).toHaveLength(1);
    }
    const summary = JSON.parse(
      run.stderr
        .trimEnd()
        .split('\n')
        .at(-1)!
        .replace(/^SUMMARY: /, ''),
    );
    expect(summary.status).toBe('complete');
    expect(summary.streams.group_results.undeclared_fields).toEqual(['monitor_events']);
    expect(summary.streams.link_results.undeclared_fields).toEqual(['monitor_events']);
    expect(summary.streams.tests.undeclared_fields).toEqual([]);
  });
});

describe('regrading', () => {
  it('re-reads a result that requires grading on every run until it is graded, then lands its grade', async () => {
    const s = await start({ awaitingGrading: 4 });
    const pending = s.data.linkResults.filter((e) => e.result.requires_grading === 'Yes').map((e) => e.result);
    expect(pending.length).toBeGreaterThan(0);
    const oldest = Math.min(...pending.map((r) => r.time_finished));
    const first = await runTap(s);
    expect(first.code, first.stderr).toBe(0);
    // The bookmark waits at the oldest result still awaiting grading.
    expect(bookmarkOf(first.state, 'link_results')).toBe(iso(oldest));

    const second = await runTap(s, { state: first.state });
    const ids = second.records('link_results').map((r) => r.link_result_id);
    for (const r of pending) expect(ids).toContain(r.link_result_id);

    const graded = s.gradePending('link');
    expect(graded.length).toBe(pending.length);
    const third = await runTap(s, { state: second.state });
    expect(third.code, third.stderr).toBe(0);
    for (const r of graded) {
      expect(third.records('link_results').find((x) => x.link_result_id === (r as any).link_result_id)).toMatchObject({
        requires_grading: false,
        points_scored: String(r.points_scored),
        percentage: String(r.percentage),
        passed: r.passed,
        time_finished: iso(r.time_finished),
      });
    }
    // Graded, they no longer hold the bookmark.
    expect(Date.parse(bookmarkOf(third.state, 'link_results'))).toBeGreaterThan(oldest * 1000);
  });

  it('lands an administrator’s edit of points made within the two-day look-back (time_finished unchanged)', async () => {
    const s = await start({ groupResults: 800 });
    const first = await runTap(s);
    const edited = s.editPoints('group', 3, DAY);
    expect(edited).toHaveLength(3);
    const second = await runTap(s, { state: first.state });
    expect(second.code, second.stderr).toBe(0);
    for (const r of edited) {
      expect(second.records('group_results').find((x) => groupKey(x) === groupKey(r))).toMatchObject({
        points_scored: String(r.points_scored),
        passed: r.passed,
      });
    }
  });

  it('does not re-read an edit of a result finished before the two-day look-back (the documented limit)', async () => {
    const s = await start();
    for (const e of s.data.linkResults) if (e.result.requires_grading === 'Yes') e.result.requires_grading = 'No';
    const first = await runTap(s);
    const bookmark = Date.parse(bookmarkOf(first.state, 'link_results')) / 1000;
    const old = s.data.linkResults.filter((e) => e.result.time_finished < bookmark - 3 * DAY).at(-1)!.result;
    old.points_scored = old.points_scored === 0 ? 1 : 0;
    const second = await runTap(s, { state: first.state });
    expect(second.code, second.stderr).toBe(0);
    expect(second.records('link_results').some((r) => r.link_result_id === old.link_result_id)).toBe(false);
  });

  it('stops holding the bookmark for a result still ungraded after 14 days, with a warning', async () => {
    const s = await start();
    for (const e of s.data.linkResults) e.result.requires_grading = 'No';
    const stale = s.data.linkResults.find((e) => e.result.time_finished < s.now() - 20 * DAY)!.result;
    stale.requires_grading = 'Yes';
    const run = await runTap(s);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /^WARN stream link_results: a result finished .* still requires grading after 14 days; the bookmark no longer waits for it/m,
    );
    expect(bookmarkOf(run.state, 'link_results')).toBe(iso(Math.max(...s.data.linkResults.map((e) => e.result.time_finished))));
  });

  it('re-reads as many days as lookback_days says: an edit 3 to 7 days back lands with 8, not with the default 2', async () => {
    const s = await start();
    for (const e of s.data.linkResults) e.result.requires_grading = 'No';
    const first = await runTap(s);
    const bookmark = Date.parse(bookmarkOf(first.state, 'link_results')) / 1000;
    const old = s.data.linkResults
      .filter((e) => e.result.time_finished < bookmark - 3 * DAY && e.result.time_finished > bookmark - 7 * DAY)
      .at(-1)!.result;
    old.points_scored = old.points_scored === 0 ? 1 : 0;
    const byDefault = await runTap(s, { state: first.state });
    expect(byDefault.records('link_results').some((r) => r.link_result_id === old.link_result_id)).toBe(false);
    const week = await runTap(s, { state: first.state, config: { lookback_days: 8 } });
    expect(week.code, week.stderr).toBe(0);
    expect(week.records('link_results').find((r) => r.link_result_id === old.link_result_id)).toMatchObject({
      points_scored: String(old.points_scored),
    });
    // 0 turns the look-back off: only what finished after the bookmark (and its own second) is read.
    const none = await runTap(s, { state: first.state, config: { lookback_days: 0 } });
    expect(none.records('link_results').every((r) => Date.parse(r.time_finished) >= bookmark * 1000)).toBe(true);
  });

  it('holds the bookmark for a result awaiting grading as long as grading_hold_days says, without a warning', async () => {
    const s = await start();
    for (const e of s.data.linkResults) e.result.requires_grading = 'No';
    const stale = s.data.linkResults.filter((e) => e.result.time_finished < s.now() - 20 * DAY).at(-1)!.result;
    stale.requires_grading = 'Yes';
    const run = await runTap(s, { config: { grading_hold_days: 30 } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/still requires grading/);
    expect(bookmarkOf(run.state, 'link_results')).toBe(iso(stale.time_finished));
    // 0: a result awaiting grading never holds the bookmark.
    const never = await runTap(s, { config: { grading_hold_days: 0 } });
    expect(bookmarkOf(never.state, 'link_results')).toBe(iso(Math.max(...s.data.linkResults.map((e) => e.result.time_finished))));
  });

  it('refuses a look-back or hold that is not a whole number of days from 0 to 88 (exit 3, naming the setting), before any request', async () => {
    const s = await start();
    for (const [key, value, words] of [
      ['lookback_days', -1, /"lookback_days" is too small/],
      ['lookback_days', 120, /"lookback_days" is too large: ClassMarker serves results at most 3 months back, so at most 88 days/],
      ['grading_hold_days', 1.5, /"grading_hold_days" is invalid: expected a whole number of days/],
      ['grading_hold_days', 'two weeks', /"grading_hold_days" is invalid: expected a whole number of days/],
    ] as const) {
      const run = await runTap(s, { config: { [key]: value } });
      expect(run.code, `${key}=${String(value)}: ${run.stderr}`).toBe(3);
      expect(run.stderr).toMatch(words);
    }
    expect(s.requests.count()).toBe(0);
  });
});

/** Every data-shape variant at once, through a real tap | target pipe: blank e-mails and null names as NULL. */
async function landAllVariants(place: Warehouse) {
  warehouse = place;
  const s = await start({ legacyPayload: true, nullNames: true, blankEmails: true, rateLimitPerHour: 1000 });
  const landed = await landSync(tapBin, place, { config: s.config });
  expect({ tap: landed.tap.code, target: landed.target.code }, landed.tap.stderr + landed.target.stderr).toEqual({ tap: 0, target: 0 });
  const served = allResults(s);
  const [counts] = await place.query(
    `SELECT (SELECT count(*) FROM "${place.schema}".link_results) + (SELECT count(*) FROM "${place.schema}".group_results) AS n,
            (SELECT count(*) FROM "${place.schema}".link_results WHERE email IS NULL) + (SELECT count(*) FROM "${place.schema}".group_results WHERE email IS NULL) AS no_email,
            (SELECT count(*) FROM "${place.schema}".link_results WHERE first IS NULL) + (SELECT count(*) FROM "${place.schema}".group_results WHERE first IS NULL) AS no_first`,
  );
  expect(Number(counts!.n)).toBe(served.length);
  expect(Number(counts!.no_email)).toBe(served.filter((r) => blank(r.email)).length);
  expect(Number(counts!.no_first)).toBe(served.filter((r) => r.first === null).length);
}

describe('landing every data-shape variant', () => {
  it('in DuckDB', async () => landAllVariants(await duckdbWarehouse()), 60_000);
  it('in PostgreSQL', async () => landAllVariants(await postgresWarehouse()), 60_000);
});
