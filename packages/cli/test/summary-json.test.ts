// --summary-json: one line on stdout on every exit, and figures a run cannot know are said to be unknown.

import { execFileSync, spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_TAP, FAKE_TARGET, TAPLINE_BIN, tapline, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const summaryOf = (stdout: string) => {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!);
};

describe('--summary-json prints its line on every exit', () => {
  it('a command line tapline cannot read: exit 2, status failed, the reason', async () => {
    for (const args of [['run', FAKE_TAP, 'duckdb', '--bogus'], ['run', FAKE_TAP, 'duckdb', '--log-format', 'yaml'], ['run']]) {
      const result = await tapline([...args, '--summary-json'], { cwd: dir });
      expect(result.code, args.join(' ')).toBe(2);
      expect(summaryOf(result.stdout), args.join(' ')).toMatchObject({
        pipeline: null,
        status: 'failed',
        exit_code: 2,
        error: expect.any(String),
        streams: [],
      });
    }
  });

  it('a pipeline tapline.yml does not define (exit 2), or a target config it cannot use (exit 3), naming the pipeline when known', async () => {
    const missing = await tapline(['run', 'nightly', '--summary-json'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(summaryOf(missing.stdout)).toMatchObject({
      pipeline: null,
      status: 'failed',
      exit_code: 2,
      error: expect.stringContaining('No pipeline named "nightly"'),
    });

    await writeFile(path.join(dir, 'pg.json'), JSON.stringify({ port: 'five' }));
    const wrong = await tapline(['run', FAKE_TAP, 'postgres', '--target-config', 'pg.json', '--summary-json'], { cwd: dir });
    expect(wrong.code).toBe(3);
    expect(summaryOf(wrong.stdout)).toMatchObject({
      pipeline: 'fake-tap.mjs-to-postgres',
      status: 'failed',
      exit_code: 3,
      error: expect.stringContaining('--target-config pg.json: port'),
    });
  });

  it('the warehouse out of reach: exit 4 (transient), nothing ran, the connection failure named', async () => {
    await writeFile(path.join(dir, 'pg.json'), JSON.stringify({ connection_string: 'postgres://tapline@127.0.0.1:1/exams' }));
    const result = await tapline(['run', FAKE_TAP, 'postgres', '--target-config', 'pg.json', '--summary-json', '--log-format', 'json'], {
      cwd: dir,
    });
    expect(result.code).toBe(4);
    expect(summaryOf(result.stdout)).toMatchObject({
      pipeline: 'fake-tap.mjs-to-postgres',
      status: 'failed',
      exit_code: 4,
      error: expect.stringContaining('cannot connect to PostgreSQL (127.0.0.1:1, database exams, user tapline)'),
      streams: [],
      state: null,
    });
  });

  it('a stop signal before the run started: exit 130, status interrupted', async () => {
    // The signal lands while tapline reads its target config: a pipe nobody writes.
    execFileSync('mkfifo', [path.join(dir, 'target.json')]);
    const child = spawn(process.execPath, [TAPLINE_BIN, 'run', FAKE_TAP, 'duckdb', '--target-config', 'target.json', '--summary-json'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Past Node's own start: one of tapline's threads blocks opening the pipe (it reads its config).
    const opening = async () => {
      const tasks = await readdir(`/proc/${child.pid}/task`).catch(() => [] as string[]);
      const waits = await Promise.all(tasks.map((task) => readFile(`/proc/${child.pid}/task/${task}/wchan`, 'utf8').catch(() => '')));
      return waits.includes('wait_for_partner');
    };
    for (let waited = 0; !(await opening()); waited += 20) {
      if (waited > 60_000) throw new Error('tapline never opened its config');
      await sleep(20);
    }
    child.kill('SIGTERM');
    // Node's exit waits for the read of the pipe it is blocked on: let that read end.
    await sleep(500);
    await writeFile(path.join(dir, 'target.json'), '{}');
    expect(await exited).toBe(130);
    expect(summaryOf(stdout)).toMatchObject({
      status: 'interrupted',
      exit_code: 130,
      error: expect.stringContaining('SIGTERM'),
      streams: [],
    });
  }, 90_000);
});

describe('a third-party target', () => {
  it('reports rows read, and rows loaded as unknown, saying why (it does not report what it kept)', async () => {
    await writeFile(path.join(dir, 'tap.json'), JSON.stringify({ records: 12, state_every: 5 }));
    await writeFile(path.join(dir, 'target.json'), JSON.stringify({ path: path.join(dir, 'w.duckdb') }));
    const result = await tapline(
      ['run', FAKE_TAP, FAKE_TARGET, '--tap-config', 'tap.json', '--target-config', 'target.json', '--summary-json'],
      { cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = summaryOf(result.stdout);
    expect(summary.streams[0]).toMatchObject({ stream: 'events', rows_read: 12, rows_loaded: null });
    expect(summary.unknown).toEqual({
      rows_loaded: expect.stringMatching(
        /^target .*fake-target\.mjs is not a warehouse target of tapline \(duckdb, postgres\): it does not report which records it kept/,
      ),
    });
    expect(result.stderr).toMatch(/events\s+12\s+unknown/);
  });
});
