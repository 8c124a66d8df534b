// Exactly once: SIGKILL the tap, the target or tapline itself at random moments, rerun, and get exactly
// the rows of an uninterrupted run — no gap, no duplicate, also in a stream without key properties.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planPipeline, runPipeline, type PipelinePlan } from '../src/pipeline.js';
import { silentLogger } from '../src/log.js';
import type { Project } from '../src/project.js';
import { parseProject } from '../src/project.js';
import { bundledTarget } from '../src/plugins.js';
import { duckdbRows, expectedFakeLoad, fakeProjectSettings, pgSchema, tempDir, FAKE_TAP, TAPLINE_BIN } from './helpers.js';

/** A small seeded PRNG (mulberry32), so a failing sequence of kills can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RECORDS = 3000;
const KILLS = 20;

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

/** Runs the pipeline; when `killAfterMs` is set, SIGKILLs one side after that long. */
async function attempt(plan: PipelinePlan, kill?: { side: 'tap' | 'target'; afterMs: number }) {
  let timer: NodeJS.Timeout | undefined;
  const summary = await runPipeline(plan, {
    log: silentLogger,
    stopGraceMs: 2000,
    onSpawn: (pids) => {
      if (!kill) return;
      timer = setTimeout(() => {
        try {
          process.kill(pids[kill.side]!, 'SIGKILL');
        } catch {
          // Already exited: this attempt simply finished first.
        }
      }, kill.afterMs);
    },
  });
  clearTimeout(timer);
  return summary;
}

/** The processes `pid` started (Linux /proc), to wait for a killed runner's orphans. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Runs the real `tapline` executable and SIGKILLs it `afterMs` after it started both sides. Its
 * target then sees a clean end of input with no closing STATE (so must commit nothing uncovered),
 * and its tap a broken pipe. Waits for both orphans to end, as an orchestrator's next run would
 * have to (a DuckDB file stays locked while its writer lives).
 */
async function killTapline(projectFile: string, afterMs: number): Promise<string> {
  const runner = spawn(process.execPath, [TAPLINE_BIN, 'run', 'fake-to-warehouse', '--project', projectFile], {
    cwd: dir,
    stdio: 'ignore',
  });
  const closed = once(runner, 'close');
  let orphans: number[] = [];
  for (let waited = 0; orphans.length < 2 && runner.exitCode === null && waited < 10_000; waited += 10) {
    await sleep(10);
    orphans = childrenOf(runner.pid!);
  }
  await sleep(afterMs);
  const killed = runner.exitCode === null && runner.kill('SIGKILL');
  await closed;
  for (let waited = 0; orphans.some(alive); waited += 20) {
    if (waited > 15_000) throw new Error(`the tap or target of a killed tapline still runs after 15 s: ${orphans.filter(alive).join(', ')}`);
    await sleep(20);
  }
  return killed ? 'failed' : 'succeeded';
}

type Side = 'tap' | 'target' | 'tapline';

async function killRepeatedlyThenFinish(project: Project, seed: number) {
  const projectFile = path.join(dir, 'tapline.yml');
  const plan = planPipeline(project, projectFile, { tap: 'fake-to-warehouse' }, dir);
  const next = random(seed);
  const outcomes: string[] = [];
  for (let i = 0; i < KILLS; i++) {
    const roll = next();
    const side: Side = roll < 0.3 ? 'tap' : roll < 0.6 ? 'target' : 'tapline';
    const afterMs = Math.floor(next() * 700);
    const status = side === 'tapline' ? await killTapline(projectFile, afterMs) : (await attempt(plan, { side, afterMs })).status;
    outcomes.push(`${side}:${status}`);
  }
  // Every way of dying was exercised, including tapline's own.
  expect(new Set(outcomes.filter((o) => o.endsWith(':failed')).map((o) => o.split(':')[0]))).toEqual(new Set(['tap', 'target', 'tapline']));
  const last = await attempt(plan);
  expect(last.status, last.error).toBe('succeeded');
  return outcomes;
}

/** The project as tapline.yml in the test folder (JSON is YAML), for the killed `tapline` executable. */
function writeProject(settings: Record<string, unknown>): Project {
  const file = path.join(dir, 'tapline.yml');
  writeFileSync(file, JSON.stringify(settings, null, 2));
  return parseProject(settings, file);
}

describe('killing the run at random points and running again', () => {
  it('loads exactly the rows of an uninterrupted run (fake DuckDB target honouring the state_table contract)', async () => {
    const project = writeProject(fakeProjectSettings(dir, { records: RECORDS, state_every: 25, delay_ms: 2 }));
    const outcomes = await killRepeatedlyThenFinish(project, 20240611);
    // The test is only meaningful when kills really interrupted runs.
    expect(outcomes.filter((o) => o.endsWith(':failed')).length).toBeGreaterThan(KILLS / 2);

    const file = path.join(dir, 'w.duckdb');
    const events = await duckdbRows(file, `SELECT CAST(json_extract(record, '$.n') AS INTEGER) AS n FROM main.events ORDER BY n`);
    const users = await duckdbRows(
      file,
      `SELECT CAST(json_extract(record, '$.id') AS INTEGER) AS id, CAST(json_extract(record, '$.version') AS INTEGER) AS version FROM main.users`,
    );
    const expected = expectedFakeLoad(RECORDS);
    expect(events.map((r) => r.n)).toEqual(expected.events); // keyless: no gap, no duplicate
    expect(new Map(users.map((r) => [r.id as number, r.version as number]))).toEqual(expected.users);
  }, 120_000);
});

/** The same proof through the real targets: they commit records and state in one transaction. */
describe.each(['postgres', 'duckdb'] as const)('killing a run into the real target-%s', (warehouse) => {
  const built = bundledTarget(warehouse) !== undefined;
  it.skipIf(!built)('loads exactly the rows of an uninterrupted run', async () => {
    const pgTest = warehouse === 'postgres' ? await pgSchema('cli_kill') : undefined;
    try {
      const schema = pgTest?.schema ?? 'kill_test';
      const connection =
        warehouse === 'postgres'
          ? { connection_string: process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' }
          : { path: path.join(dir, 'w.duckdb') };
      const project = writeProject({
          // A run must outlast most kill moments (0–700 ms) however fast the target gets.
          taps: { fake: { command: ['node', FAKE_TAP], config: { records: RECORDS, state_every: 25, delay_ms: 5 } } },
          // Batches small enough that the target commits (at the next STATE) a few times per run, and
          // large enough that a killed tapline's target usually reaches end of input before another commit.
          targets: { [warehouse]: { config: { ...connection, default_target_schema: schema, batch_size_rows: 1000 } } },
          pipelines: { 'fake-to-warehouse': { tap: 'fake', target: warehouse } },
      });
      const outcomes = await killRepeatedlyThenFinish(project, 7);
      expect(outcomes.filter((o) => o.endsWith(':failed')).length).toBeGreaterThan(KILLS / 2);

      const expected = expectedFakeLoad(RECORDS);
      const eventsSql = `SELECT n FROM "${schema}".events ORDER BY n`;
      const usersSql = `SELECT id, version FROM "${schema}".users`;
      const events = pgTest ? (await pgTest.client.query(eventsSql)).rows : await duckdbRows(connection.path!, eventsSql);
      const users = pgTest ? (await pgTest.client.query(usersSql)).rows : await duckdbRows(connection.path!, usersSql);
      expect(events.map((r) => Number(r.n))).toEqual(expected.events);
      expect(new Map(users.map((r) => [Number(r.id), Number(r.version)]))).toEqual(expected.users);
    } finally {
      await pgTest?.drop();
    }
  }, 180_000);
  if (!built) it.skip(`target-${warehouse} is not built yet: run pnpm build to include it`, () => {});
});
