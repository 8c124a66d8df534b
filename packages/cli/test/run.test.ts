// `tapline run`: two processes, the runner in between, failures named and coded, state from the warehouse.
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planPipeline, runPipeline } from '../src/pipeline.js';
import { silentLogger } from '../src/log.js';
import { ExitCode } from '../src/errors.js';
import { readState } from '../src/state-store.js';
import { duckdbRows, fakeProject, tapline, tempDir, FAKE_TAP, FAKE_TARGET } from './helpers.js';

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
      ['run', FAKE_TAP, FAKE_TARGET, '--tap-config', 'tap.json', '--target-config', 'target.json', '--summary-json', '--log-format', 'json'],
      { cwd: dir },
    );
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout.trim());
    expect(summary).toMatchObject({ pipeline: 'fake-tap.mjs-to-fake-target.mjs', status: 'succeeded', exit_code: 0 });
    expect(summary.streams[0]).toMatchObject({ stream: 'events', rows_read: 12, rows_loaded: 12 });
    // Every log line is JSON, the children's lines tagged with their source.
    const logs = result.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(logs).toContainEqual(expect.objectContaining({ source: 'tap', message: 'INFO fake-tap done' }));
  });

  it('substitutes ${ENV} in tapline.yml and names the key when a variable is missing', async () => {
    await writeFile(
      path.join(dir, 'tapline.yml'),
      `taps:\n  fake:\n    command: node ${FAKE_TAP}\n    config:\n      api_key: \${FAKE_API_KEY}\n` +
        `targets:\n  warehouse:\n    type: duckdb\n    command: node ${FAKE_TARGET}\n    config: { path: w.duckdb }\n`,
    );
    const missing = await tapline(['run', 'fake', 'warehouse'], { cwd: dir, env: { FAKE_API_KEY: '' } });
    expect(missing.code).toBe(ExitCode.usage);
    expect(missing.stderr).toContain(`tapline.yml: taps.fake.config.api_key: environment variable FAKE_API_KEY is not set`);
    expect(missing.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user error

    const ok = await tapline(['run', 'fake', 'warehouse'], { cwd: dir, env: { FAKE_API_KEY: 'k' } });
    expect(ok.code).toBe(0);
  });

  it('rejects an unknown key in tapline.yml, naming it and the file', async () => {
    await writeFile(path.join(dir, 'tapline.yml'), `taps:\n  fake:\n    comand: tap-x\n`);
    const result = await tapline(['run', 'fake', 'duckdb'], { cwd: dir });
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toContain('tapline.yml is not a valid tapline project');
    expect(result.stderr).toContain('taps.fake');
    expect(result.stderr).toContain('comand');
  });

  it('exits with the tap-failed code and the tap message when the tap fails', async () => {
    await writeFile(path.join(dir, 'tap.json'), JSON.stringify({ records: 50, state_every: 5, fail_after: 7 }));
    await writeFile(path.join(dir, 'target.json'), JSON.stringify({ path: 'w.duckdb' }));
    const result = await tapline(['run', FAKE_TAP, FAKE_TARGET, '--tap-config', 'tap.json', '--target-config', 'target.json'], { cwd: dir });
    expect(result.code).toBe(ExitCode.tapFailed);
    expect(result.stderr).toContain('tap exited with code 1: CRITICAL fake-tap: the API answered 500 three times');
  });
});
