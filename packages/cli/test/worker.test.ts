// `tapline worker` and `tapline schedule` on graphile-worker, with real worker processes on loopback:
// one waiting job per pipeline however often it is queued; three workers run a fleet, each pipeline
// once; pipelines on one vendor key never run at once; a worker SIGKILLed mid-run loses nothing,
// another finishes its pipeline and the warehouse holds each row once.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.js';
import type { RunSummary } from '../src/pipeline.js';
import { bundledTarget } from '../src/plugins.js';
import { isPermanent } from '../src/worker/pipeline-task.js';
import { FAKE_TAP, PG_URL, TAPLINE_BIN, tapline, tempDir } from './helpers.js';

const built = bundledTarget('postgres') !== undefined;

let dir: string;
let cleanup: () => Promise<void>;
let client: pg.Client;
/** Every schema of this file starts with it: the pipelines' and the queue's. */
const base = `worker_${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
let queueSchema: string;
let testNumber = 0;

beforeAll(async () => {
  client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
});
afterAll(async () => {
  const { rows } = await client.query<{ name: string }>(`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1`, [`${base}%`]);
  for (const { name } of rows) await client.query(`DROP SCHEMA "${name}" CASCADE`);
  await client.end();
});
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  queueSchema = `${base}_queue${++testNumber}`;
});
afterEach(async () => cleanup());

interface FakePipeline {
  /** The tap entry: pipelines naming the same tap read with one vendor key. */
  tap?: string;
  config?: Record<string, unknown>;
  schedule?: string;
}

/** tapline.yml: fake taps into the real target-postgres, a schema per pipeline; the queue in the same database. */
function writeProject(pipelines: Record<string, FakePipeline>, queue: Record<string, unknown> = {}): void {
  const taps: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(pipelines)) {
    taps[p.tap ?? name] = { command: ['node', FAKE_TAP], config: { records: 30, state_every: 10, ...p.config } };
  }
  const project = {
    taps,
    targets: Object.fromEntries(
      Object.keys(pipelines).map((name) => [
        name,
        { type: 'postgres', config: { connection_string: PG_URL, default_target_schema: `${base}_${name}`, batch_size_rows: 10 } },
      ]),
    ),
    pipelines: Object.fromEntries(
      Object.entries(pipelines).map(([name, p]) => [
        name,
        { tap: p.tap ?? name, target: name, ...(p.schedule ? { schedule: p.schedule } : {}) },
      ]),
    ),
    queue: { schema: queueSchema, dead_worker_check_seconds: 1, ...queue },
  };
  writeFileSync(path.join(dir, 'tapline.yml'), JSON.stringify(project, null, 2));
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));

interface Worker {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startWorker(): Worker {
  const child = spawn(process.execPath, [TAPLINE_BIN, 'worker', '--summary-json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitFor(what: string, done: () => boolean | Promise<boolean>, workers: Worker[] = [], ms = 90_000): Promise<void> {
  for (const started = Date.now(); !(await done()); await sleep(50)) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}:\n${workers.map((w) => w.stderr()).join('\n---\n')}`);
  }
}

const jobs = async () =>
  (await client.query(`SELECT key, queue_name, attempts, max_attempts, locked_by, last_error FROM "${queueSchema}".jobs ORDER BY key`))
    .rows;

const eventsOf = async (pipeline: string) =>
  (await client.query(`SELECT n FROM "${base}_${pipeline}".events ORDER BY n`)).rows.map((row) => Number(row.n));

describe.skipIf(!built)('tapline schedule', () => {
  it('queues one job per pipeline, keyed by its name, in the queue of its vendor key; queuing again keeps one', async () => {
    writeProject({ solo: {}, north: { tap: 'shared' }, south: { tap: 'shared' } });
    const first = await tapline(['schedule', '--all', '--summary-json'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(jsonLines(first.stdout).map((line) => [line.pipeline, line.outcome])).toEqual([
      ['solo', 'queued'],
      ['north', 'queued'],
      ['south', 'queued'],
    ]);
    const again = await tapline(['schedule', '--select', 's*', '--summary-json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(jsonLines(again.stdout).map((line) => [line.pipeline, line.outcome])).toEqual([
      ['solo', 'already queued'],
      ['south', 'already queued'],
    ]);
    expect(again.stderr).toMatch(/^INFO pipeline south: already queued \(job \d+, queue key:[0-9a-f]{16}\)$/m);

    const queued = await jobs();
    expect(queued.map((job) => job.key)).toEqual(['pipeline:north', 'pipeline:solo', 'pipeline:south']);
    const queueOf = Object.fromEntries(queued.map((job) => [job.key, job.queue_name]));
    expect(queueOf['pipeline:north']).toBe(queueOf['pipeline:south']); // one vendor key, one queue
    expect(queueOf['pipeline:solo']).not.toBe(queueOf['pipeline:north']);
    expect(queued.every((job) => job.max_attempts === 8 && job.attempts === 0)).toBe(true);
  }, 60_000);

  it('refuses, with one sentence, a DuckDB-only project without queue: and a schedule that is not cron (exit 3), an unreachable queue (exit 4)', async () => {
    const duckdbOnly = {
      taps: { fake: { command: ['node', FAKE_TAP] } },
      targets: { duckdb: { config: { path: 'w.duckdb' } } },
      pipelines: { local: { tap: 'fake', target: 'duckdb' } },
    };
    writeFileSync(path.join(dir, 'tapline.yml'), JSON.stringify(duckdbOnly));
    const refused = await tapline(['schedule', '--all'], { cwd: dir });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(
      /a DuckDB-only project needs a PostgreSQL database for it \(queue: postgres:\/\/\.\.\. in tapline\.yml\)/,
    );

    writeProject({ solo: { schedule: 'every hour' } });
    for (const command of [['schedule', '--all'], ['worker']]) {
      const bad = await tapline(command, { cwd: dir });
      expect(bad.code, command.join(' ')).toBe(3);
      expect(bad.stderr).toMatch(/pipelines\.solo\.schedule: "every hour" is not a cron schedule \(minute hour day month weekday, UTC\)/);
    }
    expect((await tapline(['schedule'], { cwd: dir })).code).toBe(2);

    writeProject({ solo: {} }, { url: 'postgres://postgres@127.0.0.1:1/nowhere' }); // nothing listens on port 1
    const unreachable = await tapline(['worker'], { cwd: dir });
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toMatch(
      /^ERROR Cannot reach the job queue's database \(127\.0\.0\.1:1, database nowhere, user postgres\): /m,
    );
  }, 60_000);
});

describe('which failures a worker retries', () => {
  it('a failure the user must fix is never retried; any other is', () => {
    const failed = (exit_code: ExitCode, error: string): RunSummary => ({
      pipeline: 'p',
      status: 'failed',
      exit_code,
      error,
      incremental: false,
      seconds: 0,
      streams: [],
      state: null,
    });
    expect(isPermanent(failed(ExitCode.config, 'the stored state belongs to another account'))).toBe(true);
    expect(isPermanent(failed(ExitCode.tapFailed, 'tap exited with code 3: CRITICAL the API key was refused'))).toBe(true);
    expect(isPermanent(failed(ExitCode.tapFailed, 'tap exited with code 4: CRITICAL 503 three times'))).toBe(false);
    expect(isPermanent(failed(ExitCode.targetFailed, 'target was killed by SIGKILL'))).toBe(false);
  });
});

describe.skipIf(!built)('tapline worker', () => {
  it('three workers run a fleet: each pipeline once, and the two on one vendor key never at once', async () => {
    const slow = { records: 30, state_every: 10, delay_ms: 100 };
    writeProject({
      a: { config: slow, schedule: '0 * * * *' },
      b: { config: slow },
      c: { config: slow },
      north: { tap: 'shared', config: slow },
      south: { tap: 'shared', config: slow },
    });
    const workers = [startWorker(), startWorker(), startWorker()];
    try {
      const scheduled = await tapline(['schedule', '--all'], { cwd: dir });
      expect(scheduled.code, scheduled.stderr).toBe(0);
      const summaries = () => workers.flatMap((w) => jsonLines(w.stdout()));
      // Every worker runs the schedules of tapline.yml; graphile-worker queues one job per tick among them.
      await waitFor(
        'the workers to start',
        () => workers.every((w) => /schedules \(UTC\): a \(0 \* \* \* \*\)$/m.test(w.stderr())),
        workers,
      );
      const crons = await client.query(`SELECT identifier FROM "${queueSchema}"._private_known_crontabs`);
      expect(crons.rows).toEqual([{ identifier: 'pipeline:a' }]);
      await waitFor('five runs and an empty queue', async () => summaries().length >= 5 && (await jobs()).length === 0, workers);
      for (const worker of workers) worker.child.kill('SIGTERM');
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([130, 130, 130]);

      const runs = summaries();
      expect(runs.map((run) => run.pipeline).sort()).toEqual(['a', 'b', 'c', 'north', 'south']);
      for (const run of runs) expect(run, run.pipeline).toMatchObject({ status: 'succeeded', exit_code: 0, job: { attempt: 1 } });
      const [north, south] = ['north', 'south'].map((name) => runs.find((run) => run.pipeline === name)!);
      expect(north.job.queue).toBe(south.job.queue);
      const apart = north.ended_at <= south.started_at || south.ended_at <= north.started_at;
      expect(apart, `north ${north.started_at}..${north.ended_at}, south ${south.started_at}..${south.ended_at}`).toBe(true);
      for (const name of ['a', 'b', 'c', 'north', 'south']) expect(await eventsOf(name)).toEqual([...Array(30).keys()]);
    } finally {
      for (const worker of workers) worker.child.kill('SIGKILL');
    }
  }, 150_000);

  it('two workers, two pipelines on one ClassMarker key: its 30 requests an hour hold between them; partial completes the job', async () => {
    const { startClassMarkerSimulator } = await import('@tapline/tap-classmarker/simulator');
    // 50 results a page: one whole sync needs more than the hour's 30 requests.
    const sim = await startClassMarkerSimulator({ seed: 'worker', linkResults: 2000, groupResults: 500, rateLimitPerHour: 30 });
    const tap = { type: 'classmarker', config: { ...sim.config, page_size: 50 } };
    const target = (name: string) => ({
      type: 'postgres',
      config: { connection_string: PG_URL, default_target_schema: `${base}_${name}` },
    });
    const project = {
      taps: { 'school-a': tap, 'school-b': tap },
      targets: { a: target('cm_a'), b: target('cm_b') },
      pipelines: { 'cm-a': { tap: 'school-a', target: 'a' }, 'cm-b': { tap: 'school-b', target: 'b' } },
      queue: { schema: queueSchema },
    };
    writeFileSync(path.join(dir, 'tapline.yml'), JSON.stringify(project));
    const workers = [startWorker(), startWorker()];
    try {
      expect((await tapline(['schedule', '--all'], { cwd: dir })).code).toBe(0);
      const runs = () => workers.flatMap((w) => jsonLines(w.stdout()));
      await waitFor('both runs and an empty queue', async () => runs().length >= 2 && (await jobs()).length === 0, workers);
      expect(
        runs()
          .map((run) => [run.pipeline, run.status, run.exit_code])
          .sort(),
      ).toEqual([
        ['cm-a', 'partial', 6],
        ['cm-b', 'partial', 6],
      ]);
      expect(sim.requests.count()).toBeLessThanOrEqual(30);
      expect(sim.errorsSent).toEqual([]); // the shared budget stopped both before ClassMarker had to refuse
      const said = workers.map((w) => w.stderr()).join('\n');
      expect(said).toMatch(
        /^WARN pipeline cm-[ab] partial in [\d.]+ s \(job \d+, attempt 1 of 8\): the vendor's rate limit stopped the run/m,
      );
      for (const secret of [sim.config.api_key, sim.config.api_secret]) expect(said).not.toContain(String(secret));
    } finally {
      for (const worker of workers) worker.child.kill('SIGKILL');
      await sim.close();
    }
  }, 120_000);

  it('a run that fails is retried with backoff; one the user must fix is left failed and never retried', async () => {
    writeProject({
      flaky: { config: { fail_after: 5, fail_exit_code: 4 } },
      refused: { config: { fail_after: 0, fail_exit_code: 3 } },
    });
    const worker = startWorker();
    try {
      expect((await tapline(['schedule', '--all'], { cwd: dir })).code).toBe(0);
      await waitFor('both runs', () => jsonLines(worker.stdout()).length >= 2, [worker]);
      expect(worker.stderr()).toMatch(
        /^ERROR pipeline flaky failed \(exit 10, job \d+, attempt 1 of 8; retried later\): tap exited with code 4/m,
      );
      expect(worker.stderr()).toMatch(
        /^ERROR pipeline refused failed \(exit 10, job \d+, attempt 1 of 8; not retried: fix the cause first\)/m,
      );
      const failures = async () =>
        (
          await client.query(
            `SELECT key, attempts, max_attempts, run_at > now() AS later, last_error FROM "${queueSchema}".jobs ORDER BY id`,
          )
        ).rows;
      await waitFor('both failures in the queue', async () => (await failures()).every((job) => job.last_error !== null), [worker]);
      const [flaky, refused] = await failures();
      expect(flaky).toMatchObject({ key: 'pipeline:flaky', last_error: expect.stringContaining('exited with code 4') });
      // The first retry waits about 3 s (graphile-worker's exponential backoff): on a busy machine it
      // may have run by now, and then failed again, still far from its 8 attempts.
      expect(flaky.attempts).toBeLessThan(8);
      if (flaky.attempts === 1) expect(flaky.later).toBe(true);
      // Left failed, visible, and out of the way: the next schedule of the pipeline queues a fresh job.
      expect(refused).toMatchObject({ key: null, attempts: 8, max_attempts: 8, last_error: expect.stringContaining('exited with code 3') });
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(130);
    } finally {
      worker.child.kill('SIGKILL');
    }
  }, 90_000);

  it('a worker that loses its proof of life (the connection holding its lock) stops, exit 4', async () => {
    writeProject({ idle: {} });
    const worker = startWorker();
    try {
      await waitFor('the worker to start', () => /worker: 1 pipeline at a time/.test(worker.stderr()), [worker]);
      await client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [
        `tapline worker ${worker.child.pid} liveness`,
      ]);
      expect(await worker.exited, worker.stderr()).toBe(4);
      expect(worker.stderr()).toMatch(/^ERROR the worker lost its connection to the queue's database \([^)]+\): .*; stopping$/m);
    } finally {
      worker.child.kill('SIGKILL');
    }
  }, 60_000);

  it('SIGTERM releases the running job, SIGKILL loses nothing: the next worker resumes from the committed state, each row once', async () => {
    const pause = path.join(dir, 'paused');
    writeProject({ slow: { config: { records: 60, state_every: 10, pause_at: 35, pause_file: pause } } });
    const stopped = startWorker();
    const workers = [stopped];
    try {
      expect((await tapline(['schedule', '--all'], { cwd: dir })).code).toBe(0);
      await waitFor('the first worker to reach the pause', () => existsSync(pause), workers);
      stopped.child.kill('SIGTERM');
      expect(await stopped.exited, stopped.stderr()).toBe(130);
      expect(stopped.stderr()).toMatch(/^WARN pipeline slow interrupted \(job \d+, attempt 1 of 8\): released to run again$/m);
      expect(await jobs()).toEqual([
        expect.objectContaining({
          key: 'pipeline:slow',
          attempts: 1,
          locked_by: null,
          last_error: expect.stringMatching(/^released: the worker was stopped mid-run/),
        }),
      ]);

      rmSync(pause);
      const doomed = startWorker();
      workers.push(doomed);
      await waitFor('the second worker to reach the pause', () => existsSync(pause), workers);
      const survivor = startWorker();
      workers.push(survivor);
      await waitFor('the third worker to start', () => /worker: 1 pipeline at a time/.test(survivor.stderr()), workers);
      doomed.child.kill('SIGKILL');
      await doomed.exited;
      writeFileSync(`${pause}.resume`, ''); // the orphaned tap goes on into a broken pipe; the next run passes the point
      const finished = () => jsonLines(survivor.stdout()).find((run) => run.status === 'succeeded');
      await waitFor('the survivor to finish the pipeline', () => finished() !== undefined, workers);
      expect(survivor.stderr()).toMatch(/^WARN worker: freed the jobs of 1 dead worker \(pool-[0-9a-f]+\): they run again$/m);
      expect(finished()).toMatchObject({ pipeline: 'slow', incremental: true, job: { attempt: 3 } });
      expect(await eventsOf('slow')).toEqual([...Array(60).keys()]); // no gap, no duplicate
      // The run's line is printed before graphile-worker records the job complete.
      await waitFor('the job to complete', async () => (await jobs()).length === 0, workers);
      survivor.child.kill('SIGTERM');
      expect(await survivor.exited).toBe(130);
    } finally {
      for (const worker of workers) worker.child.kill('SIGKILL');
    }
  }, 150_000);
});
