// `tapline run --all | --select | --tag --jobs N`: a project's pipelines together, one summary line
// each and a total; a failure fails its pipeline alone; pipelines on one vendor key share its rate
// budget even when they run at once; a stop signal stops the running ones and starts no other.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { mergeBudgets } from '../src/fleet.js';
import { globMatches } from '../src/fleet-plan.js';
import { bundledTap, bundledTarget } from '../src/plugins.js';
import { duckdbRows, FAKE_TAP, FAKE_TARGET, PG_URL, pgSchema, TAPLINE_BIN, tapline, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const writeProject = (project: unknown) => writeFile(path.join(dir, 'tapline.yml'), toYaml(project));
const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

/** A project of fake-tap pipelines, each into its own DuckDB file through the fake target. */
function fakeFleet(pipelines: Record<string, { tags?: string[]; tap?: Record<string, unknown> }>) {
  return {
    taps: Object.fromEntries(
      Object.entries(pipelines).map(([name, p]) => [name, { command: ['node', FAKE_TAP], config: { records: 30, ...p.tap } }]),
    ),
    targets: Object.fromEntries(
      Object.keys(pipelines).map((name) => [name, { type: 'duckdb', command: ['node', FAKE_TARGET], config: { path: `${name}.duckdb` } }]),
    ),
    pipelines: Object.fromEntries(Object.entries(pipelines).map(([name, p]) => [name, { tap: name, target: name, tags: p.tags ?? [] }])),
  };
}

describe('selecting pipelines', () => {
  it('--select takes names and globs, --tag the pipelines with a tag; they add up, in tapline.yml order', async () => {
    await writeProject(fakeFleet({ 'cm-eu': { tags: ['hourly'] }, 'cm-us': {}, 'tp-eu': { tags: ['hourly', 'eu'] }, 'oem-apac': {} }));
    const ran = async (...flags: string[]) => {
      const result = await tapline(['run', ...flags, '--summary-json'], { cwd: dir });
      expect(result.code, result.stderr).toBe(0);
      const lines = jsonLines(result.stdout);
      expect(lines.at(-1).total).toMatchObject({ pipelines: lines.length - 1, succeeded: lines.length - 1, exit_code: 0 });
      return lines
        .slice(0, -1)
        .map((line) => line.pipeline as string)
        .sort();
    };
    expect(await ran('--select', 'cm-*')).toEqual(['cm-eu', 'cm-us']);
    expect(await ran('--tag', 'hourly')).toEqual(['cm-eu', 'tp-eu']);
    expect(await ran('--select', 'oem-apac', '--tag', 'eu', '--jobs', '2')).toEqual(['oem-apac', 'tp-eu']);
    expect(await ran('--select', '??-eu')).toEqual(['cm-eu', 'tp-eu']);
    expect(await ran('--all', '--jobs', '3')).toEqual(['cm-eu', 'cm-us', 'oem-apac', 'tp-eu']);
  }, 120_000);

  it('a selection that matches nothing, a pipeline named beside --all, or a bad --jobs is a usage error (exit 2) and runs nothing', async () => {
    await writeProject(fakeFleet({ 'cm-eu': { tags: ['hourly'] } }));
    const cases: [string[], RegExp][] = [
      [['--select', 'tp-*'], /--select tp-\* matches no pipeline of .*tapline\.yml \(pipelines: cm-eu\)/],
      [['--tag', 'daily'], /--tag daily is on no pipeline of .*tapline\.yml \(tags: hourly\)/],
      [['cm-eu', '--all'], /takes no <tap> <target> or <pipeline> \(got cm-eu\)/],
      [['--all', '--jobs', '0'], /--jobs must be a whole number of 1 or more, not "0"/],
      [['--jobs', '2'], /--jobs runs several pipelines: choose them with --all/],
      [['--all', '--tap-config', 'x.json'], /--tap-config applies to one pipeline/],
    ];
    for (const [flags, message] of cases) {
      const result = await tapline(['run', ...flags, '--summary-json'], { cwd: dir });
      expect(result.code, flags.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(jsonLines(result.stdout)).toEqual([
        { total: expect.objectContaining({ pipelines: 0, exit_code: 2, error: expect.stringMatching(message) }) },
      ]);
    }
    expect(existsSync(path.join(dir, 'cm-eu.duckdb'))).toBe(false);
  }, 60_000);

  it('globs: * any text, ? one character, everything else literally', () => {
    expect(globMatches('cm-*', 'cm-eu')).toBe(true);
    expect(globMatches('cm-?', 'cm-eu')).toBe(false);
    expect(globMatches('cm.eu', 'cm-eu')).toBe(false);
    expect(globMatches('(cm)', '(cm)')).toBe(true);
  });
});

const built =
  ['classmarker', 'testpress', 'onlineexammaker'].every((p) => bundledTap(p as 'classmarker') !== undefined) &&
  bundledTarget('postgres') !== undefined &&
  bundledTarget('duckdb') !== undefined;

describe.skipIf(!built)('a fleet of bundled taps into PostgreSQL and DuckDB', () => {
  it('runs every pipeline two at a time; the one with a wrong password fails alone and the fleet exits with its code (3)', async () => {
    const { startClassMarkerSimulator } = await import('@tapline/tap-classmarker/simulator');
    const { startTestpressSimulator } = await import('@tapline/tap-testpress/simulator');
    const { startOemSimulator } = await import('@tapline/tap-onlineexammaker/simulator');
    const cm = await startClassMarkerSimulator({ seed: 'fleet', linkResults: 120, groupResults: 40 });
    const tp = await startTestpressSimulator({ seed: 'fleet', exams: 3, users: 10, attemptsPerExam: 5 });
    const oem = await startOemSimulator({ seed: 'fleet', exams: 3, resultsPerExam: 10 });
    const pg = await pgSchema('fleet');
    try {
      await writeProject({
        taps: {
          classmarker: { config: cm.config },
          testpress: { config: tp.config },
          onlineexammaker: { config: oem.config },
          'testpress-locked': { type: 'testpress', config: { ...tp.config, password: 'not-the-password' } },
        },
        targets: {
          postgres: { config: { connection_string: PG_URL, default_target_schema: pg.schema } },
          oem_pg: { type: 'postgres', config: { connection_string: PG_URL, default_target_schema: `${pg.schema}_oem` } },
          duckdb: { config: { path: 'warehouse.duckdb' } },
          locked: { type: 'duckdb', config: { path: 'locked.duckdb' } },
        },
        pipelines: {
          'cm-to-pg': { tap: 'classmarker', target: 'postgres' },
          'tp-locked': { tap: 'testpress-locked', target: 'locked' },
          'tp-to-duckdb': { tap: 'testpress', target: 'duckdb' },
          'oem-to-pg': { tap: 'onlineexammaker', target: 'oem_pg' },
        },
      });
      const result = await tapline(['run', '--all', '--jobs', '2', '--summary-json'], { cwd: dir });
      expect(result.code, result.stderr).toBe(10);
      const lines = jsonLines(result.stdout);
      const byName = Object.fromEntries(lines.slice(0, -1).map((line) => [line.pipeline, line]));
      expect(Object.keys(byName).sort()).toEqual(['cm-to-pg', 'oem-to-pg', 'tp-locked', 'tp-to-duckdb']);
      for (const name of ['cm-to-pg', 'tp-to-duckdb', 'oem-to-pg'])
        expect(byName[name], name).toMatchObject({ status: 'succeeded', exit_code: 0 });
      expect(byName['tp-locked']).toMatchObject({ status: 'failed', exit_code: 10, error: expect.stringContaining('tap exited') });
      expect(lines.at(-1)).toEqual({
        total: { pipelines: 4, succeeded: 3, partial: 0, failed: 1, interrupted: 0, seconds: expect.any(Number), exit_code: 10 },
      });

      // One line per pipeline and a total, on stderr.
      expect(result.stderr).toMatch(/^ERROR pipeline tp-locked failed \(exit 10\): tap exited/m);
      expect(result.stderr).toMatch(/^INFO pipeline cm-to-pg succeeded in [\d.]+ s: \d+ rows$/m);
      expect(result.stderr).toMatch(/^ERROR fleet: 4 pipelines in [\d.]+ s: 3 succeeded, 1 failed \(exit 10\)$/m);
      // Never a secret, in any line.
      for (const secret of [tp.config.password, cm.config.api_key, cm.config.api_secret, oem.config.code]) {
        expect(result.stdout + result.stderr).not.toContain(String(secret));
      }

      const loaded = await pg.client.query(`SELECT count(*)::int AS n FROM "${pg.schema}".link_results`);
      expect(loaded.rows[0].n).toBe(120);
      const oemTables = await pg.client.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1`, [
        `${pg.schema}_oem`,
      ]);
      expect(oemTables.rows[0].n).toBeGreaterThan(0);
      const attempts = byName['tp-to-duckdb'].streams.find((s: { stream: string }) => s.stream === 'attempts');
      expect(attempts?.rows_loaded).toBeGreaterThan(0);
      const inDuckdb = await duckdbRows(path.join(dir, 'warehouse.duckdb'), 'SELECT count(*)::INT AS n FROM testpress.attempts');
      expect(inDuckdb[0]!.n).toBe(attempts.rows_loaded);
    } finally {
      await pg.client.query(`DROP SCHEMA IF EXISTS "${pg.schema}_oem" CASCADE`);
      await pg.drop();
      await Promise.all([cm.close(), tp.close(), oem.close()]);
    }
  }, 240_000);

  it('two pipelines on one ClassMarker key share its 30 requests an hour, even with --jobs 2: partial, naming what is left', async () => {
    const { startClassMarkerSimulator } = await import('@tapline/tap-classmarker/simulator');
    // 50 results a page: one whole sync needs more than the hour's 30 requests.
    const sim = await startClassMarkerSimulator({ seed: 'partial-runs', linkResults: 2000, groupResults: 500, rateLimitPerHour: 30 });
    try {
      const tap = { type: 'classmarker', config: { ...sim.config, page_size: 50 } };
      await writeProject({
        taps: { 'cm-school-a': tap, 'cm-school-b': tap },
        targets: { a: { type: 'duckdb', config: { path: 'a.duckdb' } }, b: { type: 'duckdb', config: { path: 'b.duckdb' } } },
        pipelines: { 'school-a': { tap: 'cm-school-a', target: 'a' }, 'school-b': { tap: 'cm-school-b', target: 'b' } },
      });
      const first = await tapline(['run', '--all', '--jobs', '2', '--summary-json'], { cwd: dir });
      expect(first.code, first.stderr).toBe(6);
      expect(sim.requests.count()).toBeLessThanOrEqual(30);
      expect(sim.errorsSent).toEqual([]); // the shared budget stopped both before ClassMarker had to refuse
      const lines = jsonLines(first.stdout);
      expect(lines.slice(0, -1).map((line) => line.status)).toEqual(['partial', 'partial']);
      expect(lines.at(-1).total).toMatchObject({ partial: 2, exit_code: 6 });
      expect(first.stderr).toMatch(
        /^WARN pipeline school-b partial in [\d.]+ s: the vendor's rate limit stopped the run \(run again after [^)]+\); streams not finished: .*link_results/m,
      );
      expect(first.stderr).toMatch(/^WARN fleet: 2 pipelines in [\d.]+ s: 2 partial \(exit 6\)$/m);

      // Straight after: the key's hour is spent, whichever pipeline spent it; nothing is sent.
      const spent = sim.requests.count();
      const again = await tapline(['run', '--select', 'school-*', '--jobs', '2', '--summary-json'], { cwd: dir });
      expect(again.code, again.stderr).toBe(6);
      expect(sim.requests.count()).toBe(spent);
      expect(sim.errorsSent).toEqual([]);
      // The states keep request times, never the key.
      const stored = await duckdbRows(path.join(dir, 'b.duckdb'), 'SELECT CAST(value AS VARCHAR) AS v FROM cm_school_b._tapline_state');
      expect(stored[0]!.v).not.toContain(String(sim.config.api_key));
    } finally {
      await sim.close();
    }
  }, 240_000);
});

describe('SIGINT during a fleet run', () => {
  it('stops the running pipeline (exit 130), starts no other, and says so per pipeline and in the total', async () => {
    const pause = path.join(dir, 'paused');
    await writeProject(
      fakeFleet({ first: { tap: { records: 40, state_every: 10, pause_at: 25, pause_file: pause } }, second: {}, third: {} }),
    );
    const child = spawn(process.execPath, [TAPLINE_BIN, 'run', '--all', '--summary-json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    for (let waited = 0; !existsSync(pause); waited += 20) {
      if (waited > 60_000) throw new Error(`the first pipeline never reached its pause: ${stderr}`);
      await sleep(20);
    }
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(130);
    const lines = jsonLines(stdout);
    expect(lines.slice(0, -1)).toEqual([
      expect.objectContaining({ pipeline: 'first', status: 'interrupted', exit_code: 130 }),
      expect.objectContaining({ pipeline: 'second', status: 'interrupted', exit_code: 130, error: expect.stringContaining('not started') }),
      expect.objectContaining({ pipeline: 'third', status: 'interrupted', exit_code: 130, error: expect.stringContaining('not started') }),
    ]);
    expect(lines.at(-1).total).toMatchObject({ pipelines: 3, interrupted: 3, exit_code: 130 });
    // What the first committed is covered by its state; the others never opened their files.
    const [events] = await duckdbRows(
      path.join(dir, 'first.duckdb'),
      "SELECT (SELECT count(*) FROM duckdb_tables() WHERE table_name = 'events') AS present",
    );
    if (Number(events!.present) > 0) {
      const [loaded] = await duckdbRows(path.join(dir, 'first.duckdb'), 'SELECT count(*)::INT AS n FROM main.events');
      expect([10, 20]).toContain(loaded!.n);
    }
    expect(existsSync(path.join(dir, 'second.duckdb'))).toBe(false);
    expect(existsSync(path.join(dir, 'third.duckdb'))).toBe(false);
  }, 120_000);
});

describe('one key, one budget', () => {
  it("merges two records of a key's requests, counting a time both hold once", () => {
    expect(mergeBudgets({ request_times: [1, 2, 2, 5] }, { request_times: [2, 3, 5], blocked_until: 9 })).toEqual({
      request_times: [1, 2, 2, 3, 5],
      blocked_until: 9,
    });
    expect(mergeBudgets(undefined, { request_times: [4] })).toEqual({ request_times: [4] });
  });
});
