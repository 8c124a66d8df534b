// `tapline run`: two processes, the runner in between, failures named and coded, state from the warehouse.

import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.js';
import { silentLogger } from '../src/log.js';
import { planPipeline, runPipeline } from '../src/pipeline.js';
import { bundledTarget } from '../src/plugins.js';
import { parseProject } from '../src/project.js';
import { readState } from '../src/state-store.js';
import { duckdbRows, FAKE_TAP, FAKE_TARGET, fakeProject, PG_URL, pgSchema, TAPLINE_BIN, tapline, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const eventsIn = async (file: string) =>
  (await duckdbRows(file, `SELECT CAST(json_extract(record, '$.n') AS INTEGER) AS n FROM main.events ORDER BY n`)).map((r) => r.n);

describe('tapline run', () => {
  it('pipes every record from tap to target and stores the final state in the warehouse', async () => {
    const project = fakeProject(dir, { records: 30, state_every: 10 });
    const plan = planPipeline(project, 'tapline.yml', { tap: 'fake-to-warehouse' }, dir);
    const summary = await runPipeline(plan, { log: silentLogger });

    expect(summary).toMatchObject({ pipeline: 'fake-to-warehouse', status: 'succeeded', exit_code: 0, incremental: false });
    expect(summary.streams).toEqual([
      expect.objectContaining({ stream: 'events', rows_read: 30, rows_loaded: 30, bookmark: { offset: 30 } }),
      expect.objectContaining({ stream: 'users', rows_read: 10, rows_loaded: 10 }),
    ]);
    expect(await eventsIn(path.join(dir, 'w.duckdb'))).toEqual([...Array(30).keys()]);
    const location = { kind: 'duckdb' as const, config: plan.target.config, cwd: dir, stateTable: '_tapline_state' };
    expect(await readState(location, 'fake-to-warehouse')).toEqual({ bookmarks: { events: { offset: 30 } } });
  });

  it('tells the target its state_table and state_id (the pipeline name)', () => {
    const plan = planPipeline(fakeProject(dir, {}), 'tapline.yml', { tap: 'fake', target: 'warehouse' }, dir);
    expect(plan.name).toBe('fake-to-warehouse');
    expect(plan.target.config).toMatchObject({ state_table: '_tapline_state', state_id: 'fake-to-warehouse' });
  });

  it('resumes from the state stored in the warehouse on the next run', async () => {
    const first = fakeProject(dir, { records: 20, state_every: 10 });
    await runPipeline(planPipeline(first, 'tapline.yml', { tap: 'fake-to-warehouse' }, dir), { log: silentLogger });
    const second = fakeProject(dir, { records: 35, state_every: 10 });
    const summary = await runPipeline(planPipeline(second, 'tapline.yml', { tap: 'fake-to-warehouse' }, dir), { log: silentLogger });

    expect(summary.incremental).toBe(true);
    expect(summary.streams[0]).toMatchObject({ stream: 'events', rows_read: 15 });
    expect(await eventsIn(path.join(dir, 'w.duckdb'))).toEqual([...Array(35).keys()]);
  });

  it("takes a tap's exit 6 as a failure unless the tap said partial in a SUMMARY line (another tap's 6 is its own error code)", async () => {
    const project = fakeProject(dir, { records: 100, state_every: 10, fail_after: 25, fail_exit_code: 6 });
    const summary = await runPipeline(planPipeline(project, 'tapline.yml', { tap: 'fake-to-warehouse' }, dir), {
      log: silentLogger,
    });

    expect(summary.status).toBe('failed');
    expect(summary.exit_code).toBe(ExitCode.tapFailed);
    expect(summary.streams[0]).toMatchObject({ stream: 'events', rows_read: 25, rows_loaded: 20 });
    expect(await eventsIn(path.join(dir, 'w.duckdb'))).toEqual([...Array(20).keys()]);
  });

  it('when the tap fails, stops the target without a clean end of input: only state-covered records stay', async () => {
    // 25 records, STATE after 10 and 20, then the tap dies at record 25: records 20..24 have no STATE.
    const project = fakeProject(dir, { records: 100, state_every: 10, fail_after: 25 });
    const summary = await runPipeline(planPipeline(project, 'tapline.yml', { tap: 'fake-to-warehouse' }, dir), {
      log: silentLogger,
    });

    expect(summary.status).toBe('failed');
    expect(summary.exit_code).toBe(ExitCode.tapFailed);
    expect(summary.error).toBe('tap exited with code 1: CRITICAL fake-tap: the API answered 500 three times');
    expect(summary.streams[0]).toMatchObject({ stream: 'events', rows_read: 25, rows_loaded: 20, bookmark: { offset: 20 } });
    expect(await eventsIn(path.join(dir, 'w.duckdb'))).toEqual([...Array(20).keys()]);
  });

  it('when the tap fails, a target still committing what its STATEs cover is waited for, not stopped at the stop grace', async () => {
    // Each commit takes 0.8 s, longer than this run's 0.3 s stop grace: the covered rows still land.
    const project = fakeProject(dir, { records: 100, state_every: 10, fail_after: 25 }, { commit_delay_ms: 800 });
    const summary = await runPipeline(planPipeline(project, 'tapline.yml', { tap: 'fake-to-warehouse' }, dir), {
      log: silentLogger,
      stopGraceMs: 300,
    });

    expect(summary.exit_code).toBe(ExitCode.tapFailed);
    expect(summary.streams[0]).toMatchObject({ stream: 'events', rows_read: 25, rows_loaded: 20, bookmark: { offset: 20 } });
    expect(await eventsIn(path.join(dir, 'w.duckdb'))).toEqual([...Array(20).keys()]);
  });

  it('when the target fails, stops the tap and reports the target message with its exit code', async () => {
    const project = fakeProject(dir, { records: 100_000, state_every: 10 }, { fail_at_state: 2 });
    const summary = await runPipeline(planPipeline(project, 'tapline.yml', { tap: 'fake-to-warehouse' }, dir), {
      log: silentLogger,
      stopGraceMs: 1000,
    });

    expect(summary.exit_code).toBe(ExitCode.targetFailed);
    expect(summary.error).toBe('target exited with code 1: ERROR fake-target: cannot load stream events at line 42');
    expect(summary.streams[0]!.rows_loaded).toBe(10);
  });

  it("names the failing side's last word, not its last progress line, when it has none", async () => {
    const project = fakeProject(dir, { records: 100, state_every: 10, quiet_fail_after: 15 });
    const summary = await runPipeline(planPipeline(project, 'tapline.yml', { tap: 'fake-to-warehouse' }, dir), { log: silentLogger });
    expect(summary.exit_code).toBe(ExitCode.tapFailed);
    expect(summary.error).toBe('tap exited with code 1'); // not "...: INFO fake-tap starting at offset 0 of 100"
  });

  it('names a tap that cannot be started', async () => {
    const project = fakeProject(dir, {});
    project.taps.fake!.command = ['/nonexistent/tap-nothing'];
    const summary = await runPipeline(planPipeline(project, 'tapline.yml', { tap: 'fake-to-warehouse' }, dir), {
      log: silentLogger,
      stopGraceMs: 1000,
    });
    expect(summary.exit_code).toBe(ExitCode.tapFailed);
    expect(summary.error).toMatch(/^tap could not be started \(\/nonexistent\/tap-nothing\): spawn \/nonexistent\/tap-nothing ENOENT/);
  });
});

describe('the tapline executable', () => {
  it('runs a third-party tap and target given by command, with --summary-json on stdout', async () => {
    await writeFile(path.join(dir, 'tap.json'), JSON.stringify({ records: 12, state_every: 5 }));
    await writeFile(path.join(dir, 'target.json'), JSON.stringify({ path: path.join(dir, 'w.duckdb') }));
    const result = await tapline(
      [
        'run',
        FAKE_TAP,
        FAKE_TARGET,
        '--tap-config',
        'tap.json',
        '--target-config',
        'target.json',
        '--summary-json',
        '--log-format',
        'json',
      ],
      { cwd: dir },
    );
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout.trim());
    expect(summary).toMatchObject({ pipeline: 'fake-tap.mjs-to-fake-target.mjs', status: 'succeeded', exit_code: 0 });
    expect(summary.streams[0]).toMatchObject({ stream: 'events', rows_read: 12, rows_loaded: null }); // a third-party target does not say what it kept
    // Every log line is JSON, the children's lines tagged with their source, at their own level.
    const logs = result.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(logs).toContainEqual(expect.objectContaining({ source: 'tap', level: 'info', message: 'fake-tap done' }));
  });

  it('substitutes ${ENV} in tapline.yml and names the key when a variable is missing', async () => {
    await writeFile(
      path.join(dir, 'tapline.yml'),
      `taps:\n  fake:\n    command: node ${FAKE_TAP}\n    config:\n      api_key: \${FAKE_API_KEY}\n` +
        `targets:\n  warehouse:\n    type: duckdb\n    command: node ${FAKE_TARGET}\n    config: { path: w.duckdb }\n`,
    );
    const missing = await tapline(['run', 'fake', 'warehouse'], { cwd: dir, env: { FAKE_API_KEY: '' } });
    expect(missing.code).toBe(ExitCode.config);
    expect(missing.stderr).toContain(`tapline.yml: taps.fake.config.api_key: environment variable FAKE_API_KEY is not set`);
    expect(missing.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user error

    const ok = await tapline(['run', 'fake', 'warehouse'], { cwd: dir, env: { FAKE_API_KEY: 'k' } });
    expect(ok.code).toBe(0);
  });

  it('rejects an unknown key in tapline.yml, naming it and the file', async () => {
    await writeFile(path.join(dir, 'tapline.yml'), `taps:\n  fake:\n    comand: tap-x\n`);
    const result = await tapline(['run', 'fake', 'duckdb'], { cwd: dir });
    expect(result.code).toBe(ExitCode.config);
    expect(result.stderr).toContain('tapline.yml is not a valid tapline project');
    expect(result.stderr).toContain('taps.fake');
    expect(result.stderr).toContain('comand');
  });

  it('exits with the tap-failed code and the tap message when the tap fails', async () => {
    await writeFile(path.join(dir, 'tap.json'), JSON.stringify({ records: 50, state_every: 5, fail_after: 7 }));
    await writeFile(path.join(dir, 'target.json'), JSON.stringify({ path: 'w.duckdb' }));
    const result = await tapline(['run', FAKE_TAP, FAKE_TARGET, '--tap-config', 'tap.json', '--target-config', 'target.json'], {
      cwd: dir,
    });
    expect(result.code).toBe(ExitCode.tapFailed);
    expect(result.stderr).toContain('tap exited with code 1: CRITICAL fake-tap: the API answered 500 three times');
    // A child's own CRITICAL line is forwarded at error level, its INFO lines at info.
    expect(result.stderr).toContain('ERROR [tap] CRITICAL fake-tap: the API answered 500 three times');
    expect(result.stderr).toContain('INFO [tap] fake-tap starting at offset 0 of 50');

    // --log-level warn (and --quiet, errors only) drops the forwarded info lines, never the failure.
    for (const flag of [['--log-level', 'warn'], ['--quiet']]) {
      const quiet = await tapline(['run', FAKE_TAP, FAKE_TARGET, '--tap-config', 'tap.json', '--target-config', 'target.json', ...flag], {
        cwd: dir,
      });
      expect(quiet.code).toBe(ExitCode.tapFailed);
      expect(quiet.stderr).not.toContain('INFO [tap]');
      expect(quiet.stderr).toContain('ERROR [tap] CRITICAL fake-tap: the API answered 500 three times');
    }
  });

  it('reports configuration mistakes as one sentence with exit 3, naming where they were written, before starting anything', async () => {
    await writeFile(
      path.join(dir, 'tapline.yml'),
      `taps:\n  fake:\n    command: node ${FAKE_TAP}\n` +
        `targets:\n  duckdb:\n    config: { path: w.duckdb, batch_size_rows: many }\n  pg:\n    type: postgres\n    config: {}\n` +
        `pipelines:\n  typo:\n    tap: fake\n    target: warehouse\n`,
    );
    await writeFile(path.join(dir, 'pg.json'), JSON.stringify({ port: 'abc' }));
    await writeFile(path.join(dir, 'bad.yaml'), 'a: [1, 2\n');
    const cases: [string[], string][] = [
      [
        ['run', 'fake', 'duckdb'],
        `${path.join(dir, 'tapline.yml')}: targets.duckdb.config.batch_size_rows: Invalid input: expected number, received string.`,
      ],
      [
        ['run', 'fake', 'pg', '--target-config', 'pg.json'],
        '--target-config pg.json: port: Invalid input: expected number, received string.',
      ],
      [
        ['state', 'get', 'fake', 'pg', '--target-config', 'pg.json'],
        '--target-config pg.json: port: Invalid input: expected number, received string.',
      ],
      [['run', 'fake', 'duckdb', '--tap-config', 'bad.yaml'], `--tap-config: ${path.join(dir, 'bad.yaml')} is not valid YAML (or JSON): `],
      [
        ['run', 'typo'],
        `${path.join(dir, 'tapline.yml')}: pipelines.typo.target "warehouse" is not a target in ${path.join(dir, 'tapline.yml')}, not a bundled one (duckdb, postgres), and no command of that name exists.`,
      ],
      [
        ['run', 'fake', 'wharehouse'],
        `target "wharehouse" is not a target in ${path.join(dir, 'tapline.yml')}, not a bundled one (duckdb, postgres), and no command of that name exists.`,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await tapline(args, { cwd: dir });
      expect(result.code, args.join(' ')).toBe(ExitCode.config);
      const lines = result.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0], args.join(' ')).toContain(`ERROR ${message}`);
    }
    expect(existsSync(path.join(dir, 'w.duckdb'))).toBe(false);

    // Without a tapline.yml, a single name is no pipeline: say how to run a tap instead.
    const bare = await tapline(['run', 'classmarker'], { cwd: path.join(dir, '..') });
    expect(bare.code).toBe(ExitCode.usage);
    expect(bare.stderr).toContain(`No pipeline named "classmarker": there is no tapline.yml in ${path.join(dir, '..')}`);
  });

  it('ends with 130 on SIGTERM at any moment, and a second SIGTERM kills the tap and target at once', async () => {
    // A command that starts no run (the signal lands while it reads its config: a pipe nobody writes).
    await writeFile(
      path.join(dir, 'tapline.yml'),
      `taps:\n  fake:\n    command: node ${FAKE_TAP}\n    config: { records: 1000, state_every: 10, ignore_sigterm: true, pause_at: 5, pause_file: ${JSON.stringify(path.join(dir, 'pause'))} }\n`,
    );
    execFileSync('mkfifo', [path.join(dir, 'target.json')]);
    const early = spawnTapline(['state', 'get', 'fake-to-duckdb', '--target-config', 'target.json']);
    await openingFifo(early.child.pid!);
    early.child.kill('SIGTERM');
    // Node's exit joins its I/O threads, and one is still blocked opening the FIFO: a writer that
    // opens and closes it lets that thread go (a known limit: see packages/cli/README.md, exit codes).
    await sleep(200);
    try {
      closeSync(openSync(path.join(dir, 'target.json'), constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: no reader is left, tapline has gone already.
    }
    expect(await early.exited).toEqual({ code: 130, signal: null });

    // A run whose tap ignores SIGTERM: the first signal waits for it (the grace), the second does not.
    const run = spawnTapline(['run', 'fake', 'duckdb']);
    for (let waited = 0; !existsSync(path.join(dir, 'pause')); waited += 20) {
      if (waited > 60_000) throw new Error('the tap never paused');
      await sleep(20);
    }
    const tapPid = Number(await readFile(path.join(dir, 'pause'), 'utf8'));
    run.child.kill('SIGTERM');
    await sleep(300);
    const second = Date.now();
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 130, signal: null });
    expect(Date.now() - second).toBeLessThan(4000); // not the 5 s grace
    expect(alive(tapPid)).toBe(false);
  }, 90_000);
});

/** Starts the tapline executable in the test folder; `exited` resolves with how it ended. */
function spawnTapline(args: string[]) {
  const child = spawn(process.execPath, [TAPLINE_BIN, ...args], { cwd: dir, stdio: 'ignore' });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited };
}

/** Waits until one of the process's threads blocks opening a FIFO nobody writes: tapline is reading its config. */
async function openingFifo(pid: number): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 20) {
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
    for (const task of tasks) {
      if ((await readFile(`/proc/${pid}/task/${task}/wchan`, 'utf8').catch(() => '')) === 'wait_for_partner') return;
    }
    await sleep(20);
  }
  throw new Error(`process ${pid} never opened the FIFO`);
}

const alive = (pid: number): boolean => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('two runs of one pipeline', () => {
  const built = bundledTarget('postgres') !== undefined;
  it.skipIf(!built)(
    'a run that read the stored state before another run committed loads nothing, and says to run again',
    async () => {
      const pgTest = await pgSchema('cli_overlap');
      try {
        const project = parseProject(
          {
            taps: { fake: { command: ['node', FAKE_TAP], config: { records: 30, state_every: 10 } } },
            targets: { postgres: { config: { connection_string: PG_URL, default_target_schema: pgTest.schema } } },
          },
          path.join(dir, 'tapline.yml'),
        );
        const plan = planPipeline(project, undefined, { tap: 'fake', target: 'postgres' }, dir);
        const { client, schema } = pgTest;
        const table = `"${schema}"."_tapline_state"`;
        // Another run holds the pipeline (target-postgres's advisory lock on the state table and id) ...
        await client.query('SELECT pg_advisory_lock(hashtext($1), hashtext($2))', [table, plan.name]);
        let otherRunCommitted: Promise<unknown> | undefined;
        const summary = await runPipeline(plan, {
          log: silentLogger,
          stopGraceMs: 2000,
          // ... and commits once this run has read "no state" and started, then lets go.
          onSpawn: () => {
            otherRunCommitted = (async () => {
              await client.query(
                `CREATE TABLE ${table} (id text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
              );
              await client.query(`INSERT INTO ${table} (id, value) VALUES ($1, '{"bookmarks":{"events":{"offset":10}}}')`, [plan.name]);
              await client.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', [table, plan.name]);
            })();
          },
        });
        await otherRunCommitted;
        expect(summary.exit_code).toBe(ExitCode.targetFailed);
        expect(summary.error).toContain(
          `another run of this pipeline (state_id "fake-to-postgres") committed since this run read its state; nothing was loaded; run again`,
        );
        expect((await client.query(`SELECT to_regclass($1) AS found`, [`"${schema}".events`])).rows[0].found).toBeNull();

        // Run again: it resumes from the other run's state.
        const again = await runPipeline(plan, { log: silentLogger });
        expect(again.status, again.error).toBe('succeeded');
        const events = await client.query(`SELECT n FROM "${schema}".events ORDER BY n`);
        expect(events.rows.map((r) => Number(r.n))).toEqual(Array.from({ length: 20 }, (_, i) => i + 10));
      } finally {
        await pgTest.drop();
      }
    },
    60_000,
  );
});
