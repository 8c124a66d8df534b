// A notebook and the loader share a DuckDB file: the run waits for a notebook's lock (bounded), and notebooks read a published snapshot that never blocks a load.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDBInstance, processesWaitingFor } from '../src/open.js';
import { type DuckDBPlace, duckdbHarness, withDuckDB } from './duckdb-harness.js';

const BIN = fileURLToPath(new URL('../bin/target-duckdb.js', import.meta.url));
const HERE = fileURLToPath(new URL('..', import.meta.url));

let place: DuckDBPlace;
const children: ChildProcess[] = [];
beforeEach(async () => {
  place = await duckdbHarness.open();
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await place.close();
});

const schema = {
  type: 'SCHEMA',
  stream: 'results',
  key_properties: ['id'],
  schema: { type: 'object', properties: { id: { type: 'integer' } } },
};
const records = (...ids: number[]) =>
  `${[schema, ...ids.map((id) => ({ type: 'RECORD', stream: 'results', record: { id } })), { type: 'STATE', value: { last: ids.at(-1) } }]
    .map((message) => JSON.stringify(message))
    .join('\n')}\n`;

/**
 * Runs the target CLI as its own process (it must take the lock itself), with `extra` config;
 * `onStderr` sees its log as it comes.
 */
function runTarget(
  input: string,
  extra: Record<string, unknown> = {},
  onStderr: (text: string) => void = () => {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const config = `${place.path}.${Math.random().toString(36).slice(2)}.json`;
  writeFileSync(config, JSON.stringify({ ...place.config, ...extra }));
  const child = spawn(process.execPath, [BIN, '--config', config], { cwd: HERE });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => onStderr((stderr += chunk.toString())));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/**
 * Another process holding `file` open as a notebook does (read-only or read-write), until it
 * closes after `holdMs`. Resolves with its PID once the file is open; `query` is run at once, and
 * again when `again` is written to its stdin, each result printed as a line of JSON.
 */
async function holdFile(file: string, mode: 'READ_ONLY' | 'READ_WRITE', holdMs: number, query = 'SELECT 1 AS one') {
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    const db = await DuckDBInstance.create(${JSON.stringify(file)}, { access_mode: ${JSON.stringify(mode)} });
    const connection = await db.connect();
    const read = async () => console.log(JSON.stringify((await connection.runAndReadAll(${JSON.stringify(query)})).getRowObjectsJson()));
    await read();
    const release = () => { connection.closeSync(); db.closeSync(); process.exit(0); };
    process.stdin.setEncoding('utf8').on('data', (text) => (text.includes('release') ? release() : void read()));
    setTimeout(release, ${holdMs});`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: HERE });
  children.push(child);
  const lines: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      if (waiting) [waiting, (waiting = undefined)][0]!(line);
      else lines.push(line);
    }
  });
  const nextLine = () => new Promise<string>((resolve) => (lines.length > 0 ? resolve(lines.shift()!) : (waiting = resolve)));
  const first = JSON.parse(await nextLine()) as unknown;
  return {
    pid: child.pid!,
    first,
    release: () => child.stdin.write('release\n'),
    readAgain: async () => {
      child.stdin.write('again\n');
      return JSON.parse(await nextLine()) as unknown;
    },
  };
}

describe('a run waits for a notebook holding the DuckDB file', () => {
  for (const mode of ['READ_ONLY', 'READ_WRITE'] as const) {
    it(`waits for a ${mode === 'READ_ONLY' ? 'read-only' : 'read-write'} holder that lets go after a few seconds, says whom it waited for, and loads`, async () => {
      expect((await runTarget(records(1))).status).toBe(0);
      const holder = await holdFile(place.path, mode, 60_000);
      // The notebook closes a few seconds after the run started waiting for it.
      let released = false;
      let waitingWhileWaiting: number[] = [];
      const run = await runTarget(records(2), { lock_timeout_seconds: 60 }, (log) => {
        if (released || !log.includes('waiting up to')) return;
        released = true;
        // A waiting run says so beside the file, so tapline serve's drain lets it go first.
        waitingWhileWaiting = processesWaitingFor(place.path);
        setTimeout(() => holder.release(), 3_000);
      });
      expect(waitingWhileWaiting).toEqual([children.at(-1)!.pid]);
      expect(processesWaitingFor(place.path)).toEqual([]);
      expect(readdirSync(path.dirname(place.path)).filter((name) => name.includes('.waiting-'))).toEqual([]);
      expect(run.stderr).toContain(`the DuckDB file ${place.path} is locked by`);
      expect(run.stderr).toMatch(
        new RegExp(`locked by \\S*node\\S* \\(PID ${holder.pid}\\): waiting up to 60 s \\(lock_timeout_seconds\\)`),
      );
      expect(run.stderr).toMatch(
        new RegExp(`got the DuckDB file \\S+ after waiting \\d+\\.\\d s for \\S*node\\S* \\(PID ${holder.pid}\\) to release it`),
      );
      expect(run.status).toBe(0);
      expect(run.stdout.trim()).toBe('{"last":2}');
      expect(await withDuckDB(place.path, (query) => query('SELECT count(*)::INT AS n FROM main.results'))).toEqual([{ n: 2 }]);
    });
  }

  it('stops with exit 5 and one sentence naming the holder and the timeout when the lock outlasts lock_timeout_seconds', async () => {
    expect((await runTarget(records(1))).status).toBe(0);
    const holder = await holdFile(place.path, 'READ_ONLY', 30_000);
    const run = await runTarget(records(2), { lock_timeout_seconds: 1 });
    expect(run.status).toBe(4);
    const critical = run.stderr.split('\n').filter((line) => line.startsWith('CRITICAL'));
    expect(critical).toHaveLength(1);
    expect(critical[0]).toMatch(
      new RegExp(
        `^CRITICAL the DuckDB file \\S+ is locked by \\S*node\\S* \\(PID ${holder.pid}\\) and it stayed locked for the 1 s lock_timeout_seconds allows: DuckDB allows one writing process at a time`,
      ),
    );
    expect(run.stdout).toBe(''); // nothing loaded, no state emitted
  });

  it('does not wait at all with lock_timeout_seconds: 0', async () => {
    expect((await runTarget(records(1))).status).toBe(0);
    await holdFile(place.path, 'READ_WRITE', 30_000);
    const run = await runTarget(records(2), { lock_timeout_seconds: 0 });
    expect(run.status).toBe(4);
    expect(run.stderr).toMatch(/is locked by .* \(PID \d+\) and lock_timeout_seconds is 0, so the run did not wait/);
    expect(run.stderr).not.toContain('waiting up to');
  });

  it("an opener that gives way (tapline serve's drain) lets a run that waits too take the file first, and leaves no marker", async () => {
    expect((await runTarget(records(1))).status).toBe(0);
    const holder = await holdFile(place.path, 'READ_WRITE', 30_000);
    const warnings: string[] = [];
    const log = { info: () => {}, warn: (message: string) => warnings.push(message) };
    const drain = openDuckDBInstance(place.path, { giveWay: true, lockTimeoutSeconds: 30, log });
    while (warnings.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(readdirSync(path.dirname(place.path)).filter((name) => name.includes(`.waiting-${process.pid}-`))).toEqual([]);
    // The drain waits first; a run starts waiting after it; the holder lets go once the run waits.
    let released = false;
    const run = await runTarget(records(2), { lock_timeout_seconds: 30 }, (text) => {
      if (released || !text.includes('waiting up to')) return;
      released = true;
      holder.release();
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(`got the DuckDB file \\S+ after waiting \\d+\\.\\d s for \\S*node\\S* \\(PID ${holder.pid}\\) to release it`),
    );
    expect(run.stderr).not.toContain(`PID ${process.pid})`); // the drain never took the file from under it
    (await drain).closeSync();
    expect(await withDuckDB(place.path, (query) => query('SELECT count(*)::INT AS n FROM main.results'))).toEqual([{ n: 2 }]);
  });

  it('refuses a negative lock_timeout_seconds as a config error', async () => {
    const run = await runTarget(records(1), { lock_timeout_seconds: -1 });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain('lock_timeout_seconds');
  });
});

describe('notebooks read a published snapshot', () => {
  const snapshot = () => place.path.replace(/\.duckdb$/, '.snapshot.duckdb');

  it('publishes <file>.snapshot.duckdb, read-only, after a run that committed', async () => {
    expect((await runTarget(records(1, 2))).status).toBe(0);
    expect(existsSync(snapshot())).toBe(true);
    expect(statSync(snapshot()).mode & 0o222).toBe(0); // nobody may write it
    const reader = await holdFile(snapshot(), 'READ_ONLY', 1_000, 'SELECT count(*)::INT AS n FROM main.results');
    expect(reader.first).toEqual([{ n: 2 }]);
  });

  it('never blocks a load while a reader holds it, and the reader keeps a consistent earlier state; the next open sees the new rows', async () => {
    expect((await runTarget(records(1, 2))).status).toBe(0);
    const reader = await holdFile(snapshot(), 'READ_ONLY', 60_000, 'SELECT count(*)::INT AS n, max(id)::INT AS last FROM main.results');
    expect(reader.first).toEqual([{ n: 2, last: 2 }]);
    // lock_timeout_seconds 0: any wait for the reader would fail the run.
    const run = await runTarget(records(3, 4, 5), { lock_timeout_seconds: 0 });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`published the snapshot ${snapshot()}`);
    expect(await reader.readAgain()).toEqual([{ n: 2, last: 2 }]);
    const fresh = await holdFile(snapshot(), 'READ_ONLY', 1_000, 'SELECT count(*)::INT AS n, max(id)::INT AS last FROM main.results');
    expect(fresh.first).toEqual([{ n: 5, last: 5 }]);
  });

  it('publishes where publish_snapshot says, and none with publish_snapshot: false', async () => {
    const elsewhere = place.path.replace(/warehouse\.duckdb$/, 'for-notebooks.duckdb');
    expect((await runTarget(records(1), { publish_snapshot: elsewhere })).status).toBe(0);
    expect(existsSync(elsewhere)).toBe(true);
    expect(existsSync(snapshot())).toBe(false);
    expect((await runTarget(records(2), { publish_snapshot: false })).status).toBe(0);
    expect(existsSync(snapshot())).toBe(false);
  });

  it('keeps the previous snapshot when a run fails', async () => {
    expect((await runTarget(records(1))).status).toBe(0);
    const bad = records(2).replace('{"id":2}', '{"id":"two"}');
    expect((await runTarget(bad)).status).toBe(7);
    const reader = await holdFile(snapshot(), 'READ_ONLY', 1_000, 'SELECT count(*)::INT AS n FROM main.results');
    expect(reader.first).toEqual([{ n: 1 }]);
  });
});
