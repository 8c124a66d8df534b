// Exactly once: SIGKILL the tap, the target or tapline itself at random points of the run, rerun, and get
// exactly the rows of an uninterrupted run — no gap, no duplicate, also in a stream without key properties.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { loadStoredState, type PipelinePlan, planPipeline, runPipeline } from '../src/pipeline.js';
import { bundledTarget } from '../src/plugins.js';
import type { Project } from '../src/project.js';
import { parseProject } from '../src/project.js';
import { duckdbRows, expectedFakeLoad, FAKE_TAP, fakeProjectSettings, OUTLIVE_RUNNER, pgSchema, TAPLINE_BIN, tempDir } from './helpers.js';

/** A small seeded PRNG (mulberry32), so a failing sequence of kills can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RECORDS = 2000;
const KILLS = 20;
/** Each kill lands at most this many events past where the run resumed, so kills spread over the whole load. */
const KILL_SPAN = (3 * RECORDS) / KILLS;
/** Generous for a loaded 2-core CI box: waiting is event-driven, so a fast machine never waits this long. */
const PAUSE_TIMEOUT_MS = 60_000;

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

type Side = 'tap' | 'target' | 'tapline';

/** Where the tap pauses for a kill: its config additions and the file it writes when it got there. */
interface KillPoint {
  at: number;
  file: string;
}
const pauseConfig = (point: KillPoint) => ({ pause_at: point.at, pause_file: point.file });

/** Waits until the tap paused at the kill point (it writes its pid), or fails when the run ended first. */
async function pausedTap(point: KillPoint, ended: () => string | undefined): Promise<number> {
  for (let waited = 0; ; waited += 5) {
    if (existsSync(point.file)) {
      const pid = Number(readFileSync(point.file, 'utf8'));
      if (pid > 0) return pid; // else the tap is still writing it
    }
    const how = ended();
    if (how !== undefined) throw new Error(`the run ended (${how}) before the tap reached event ${point.at}`);
    if (waited > PAUSE_TIMEOUT_MS) throw new Error(`the tap did not reach event ${point.at} within ${PAUSE_TIMEOUT_MS} ms`);
    await sleep(5);
  }
}
const resume = (point: KillPoint) => writeFileSync(`${point.file}.resume`, '');

/** Runs the pipeline in-process and SIGKILLs the tap or the target once the tap paused at the kill point. */
async function killSide(plan: PipelinePlan, side: 'tap' | 'target', point: KillPoint): Promise<string> {
  let pids: { tap: number | undefined; target: number | undefined } = { tap: undefined, target: undefined };
  let ended: string | undefined;
  const paused = { ...plan, tap: { ...plan.tap, config: { ...plan.tap.config, ...pauseConfig(point) } } };
  const run = runPipeline(paused, { log: silentLogger, stopGraceMs: 2000, onSpawn: (p) => (pids = p) }).then((summary) => {
    ended = `${summary.status}: ${summary.error ?? ''}`;
    return summary;
  });
  try {
    await pausedTap(point, () => ended);
    process.kill(pids[side]!, 'SIGKILL');
  } finally {
    resume(point); // a stopped target's tap is SIGTERMed by the runner; this only ends a stray wait
  }
  const summary = await run;
  // Failed because of this kill, not for some other reason.
  expect(summary.error ?? '', `${side} killed at event ${point.at}`).toContain(`${side} was killed by SIGKILL`);
  return summary.status;
}

/** The processes `pid` started (Linux /proc), to wait for a killed runner's orphans. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
/** Whether `pid` still runs: a zombie has exited (orphans are reaped by pid 1, which may take a second). */
const running = (pid: number): boolean => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/**
 * Runs the real `tapline` executable and SIGKILLs it once the tap paused at the kill point. Its
 * target then sees a clean end of input with no closing STATE (so must commit nothing uncovered);
 * the resumed tap writes into a broken pipe and must die of it. Waits for both orphans to end, as an
 * orchestrator's next run would have to (a DuckDB file stays locked while its writer lives).
 */
async function killTapline(projectFile: string, point: KillPoint): Promise<string> {
  const tapConfig = path.join(dir, 'pause.json');
  writeFileSync(tapConfig, JSON.stringify(pauseConfig(point)));
  const runner = spawn(process.execPath, [TAPLINE_BIN, 'run', 'fake-to-warehouse', '--project', projectFile, '--tap-config', tapConfig], {
    cwd: dir,
    stdio: 'ignore',
  });
  const closed = once(runner, 'close');
  let orphans: number[];
  try {
    await pausedTap(point, () =>
      runner.exitCode === null && runner.signalCode === null ? undefined : `tapline exited ${runner.exitCode}`,
    );
    orphans = childrenOf(runner.pid!);
    runner.kill('SIGKILL');
    await closed;
  } finally {
    resume(point);
  }
  for (let waited = 0; orphans.some(running); waited += 20) {
    if (waited > 30_000)
      throw new Error(`the tap or target of a killed tapline still runs after 30 s: ${orphans.filter(running).join(', ')}`);
    await sleep(20);
  }
  return 'failed';
}

/** The events offset the stored state resumes from (the fake tap's bookmark). */
async function resumesAt(plan: PipelinePlan): Promise<number> {
  const state = (await loadStoredState(plan)) as { bookmarks?: { events?: { offset?: number } } } | undefined;
  return state?.bookmarks?.events?.offset ?? 0;
}

/**
 * KILLS runs, each SIGKILLing a seeded random side at a seeded random position of the run (by the
 * tap's progress, so every run is interrupted however fast the machine), then one run to the end.
 */
async function killRepeatedlyThenFinish(project: Project, seed: number) {
  const projectFile = path.join(dir, 'tapline.yml');
  const plan = planPipeline(project, projectFile, { tap: 'fake-to-warehouse' }, dir);
  const next = random(seed);
  const outcomes: string[] = [];
  for (let i = 0; i < KILLS; i++) {
    const roll = next();
    const side: Side = roll < 0.3 ? 'tap' : roll < 0.6 ? 'target' : 'tapline';
    const from = await resumesAt(plan);
    const point = { at: from + Math.floor(next() * (Math.min(KILL_SPAN, RECORDS - from) + 1)), file: path.join(dir, `pause-${i}`) };
    const status = side === 'tapline' ? await killTapline(projectFile, point) : await killSide(plan, side, point);
    outcomes.push(`${side}@${point.at}:${status}`);
    // A state never claims more than the tap had sent when the run died, nor goes back.
    const after = await resumesAt(plan);
    expect(after, outcomes.join(' ')).toBeGreaterThanOrEqual(from);
    expect(after, outcomes.join(' ')).toBeLessThanOrEqual(point.at);
  }
  // Every run was really interrupted, and every way of dying was exercised, including tapline's own.
  expect(
    outcomes.filter((o) => !o.endsWith(':failed')),
    outcomes.join(' '),
  ).toEqual([]);
  expect(new Set(outcomes.map((o) => o.split('@')[0]))).toEqual(new Set(['tap', 'target', 'tapline']));
  const last = await runPipeline(plan, { log: silentLogger });
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
    const project = writeProject(fakeProjectSettings(dir, { records: RECORDS, state_every: 25 }));
    await killRepeatedlyThenFinish(project, 20240611);

    const file = path.join(dir, 'w.duckdb');
    const events = await duckdbRows(file, `SELECT CAST(json_extract(record, '$.n') AS INTEGER) AS n FROM main.events ORDER BY n`);
    const users = await duckdbRows(
      file,
      `SELECT CAST(json_extract(record, '$.id') AS INTEGER) AS id, CAST(json_extract(record, '$.version') AS INTEGER) AS version FROM main.users`,
    );
    const expected = expectedFakeLoad(RECORDS);
    expect(events.map((r) => r.n)).toEqual(expected.events); // keyless: no gap, no duplicate
    expect(new Map(users.map((r) => [r.id as number, r.version as number]))).toEqual(expected.users);
  }, 240_000);
});

/** The same proof through the real targets: they commit records and state in one transaction. */
describe.each(['postgres', 'duckdb'] as const)('killing a run into the real target-%s', (warehouse) => {
  const built = bundledTarget(warehouse) !== undefined;
  it.skipIf(!built)(
    'loads exactly the rows of an uninterrupted run',
    async () => {
      const pgTest = warehouse === 'postgres' ? await pgSchema('cli_kill') : undefined;
      try {
        const schema = pgTest?.schema ?? 'kill_test';
        const connection =
          warehouse === 'postgres'
            ? { connection_string: process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' }
            : { path: path.join(dir, 'w.duckdb') };
        const target = bundledTarget(warehouse)!;
        const project = writeProject({
          taps: { fake: { command: ['node', FAKE_TAP], config: { records: RECORDS, state_every: 25 } } },
          targets: {
            [warehouse]: {
              type: warehouse,
              // The bundled target, kept alive past a killed tapline (see outlive-runner.mjs): left alone it
              // dies of EPIPE at its next log line, which would spare it deciding what to commit at end of input.
              command: [target.file, '--import', OUTLIVE_RUNNER, ...target.args],
              // Small batches, so the target commits (at the STATE after a full batch) several times within a kill span.
              config: { ...connection, default_target_schema: schema, batch_size_rows: 100 },
            },
          },
          pipelines: { 'fake-to-warehouse': { tap: 'fake', target: warehouse } },
        });
        await killRepeatedlyThenFinish(project, 7);

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
    },
    240_000,
  );
  if (!built) it.skip(`target-${warehouse} is not built yet: run pnpm build to include it`, () => {});
});
