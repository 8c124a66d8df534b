// `tapline run` and a notebook holding the DuckDB warehouse: the run waits for it (bounded by lock_timeout_seconds) and says whom it waited for.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.js';
import { duckdbRows, FAKE_TAP, tempDir, watchTapline } from './helpers.js';

const HERE = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
let cleanup: () => Promise<void>;
const children: ChildProcess[] = [];
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await cleanup();
});

const project = (lockTimeoutSeconds: number) =>
  writeFile(
    path.join(dir, 'tapline.yml'),
    `taps:\n  fake:\n    command: node ${FAKE_TAP}\n    config: { records: 20, state_every: 5 }\n` +
      `targets:\n  duckdb:\n    config: { path: w.duckdb, lock_timeout_seconds: ${lockTimeoutSeconds} }\n`,
  );

/** `tapline run fake duckdb`; `onStderr` sees the log as it comes. */
const run = (onStderr?: (text: string) => void) => watchTapline(dir, ['run', 'fake', 'duckdb'], children, onStderr);

/** A notebook holding the warehouse open read-only until `release()` (or 60 s). Resolves once the file is open. */
async function notebook(file: string) {
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    const db = await DuckDBInstance.create(${JSON.stringify(file)}, { access_mode: 'READ_ONLY' });
    console.log('open');
    const release = () => { db.closeSync(); process.exit(0); };
    process.stdin.on('data', release);
    setTimeout(release, 60000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: HERE });
  children.push(child);
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return { pid: child.pid!, release: () => child.stdin.write('release\n') };
}

describe('tapline run with a notebook holding the DuckDB warehouse', () => {
  it('waits for the notebook to let go, says whom it waited for, and loads', async () => {
    await project(60);
    expect((await run()).code).toBe(0);
    const holder = await notebook(path.join(dir, 'w.duckdb'));
    let released = false;
    const result = await run((log) => {
      if (released || !log.includes('waiting up to')) return;
      released = true;
      setTimeout(() => holder.release(), 3_000);
    });
    expect(result.stderr).toMatch(
      new RegExp(`is locked by \\S*node\\S* \\(PID ${holder.pid}\\): waiting up to 60 s \\(lock_timeout_seconds\\)`),
    );
    expect(result.stderr).toMatch(
      new RegExp(`got the DuckDB file \\S+ after waiting \\d+\\.\\d s for \\S*node\\S* \\(PID ${holder.pid}\\) to release it`),
    );
    expect(result.code).toBe(0);
    const rows = await duckdbRows(path.join(dir, 'w.duckdb'), `SELECT count(*)::INT AS n FROM main.events`);
    expect(rows).toEqual([{ n: 20 }]); // the second run resumed at 20: nothing new, nothing lost
  });

  it('stops with exit 5 and one sentence naming the holder and the timeout when the notebook stays', async () => {
    await project(1);
    expect((await run()).code).toBe(0);
    const holder = await notebook(path.join(dir, 'w.duckdb'));
    const result = await run();
    expect(result.code).toBe(ExitCode.stateFailed);
    expect(result.stderr).toMatch(
      new RegExp(
        `Cannot read the stored state of pipeline fake-to-duckdb from duckdb: the DuckDB file \\S+w\\.duckdb is locked by \\S*node\\S* \\(PID ${holder.pid}\\) and it stayed locked for the 1 s lock_timeout_seconds allows`,
      ),
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
