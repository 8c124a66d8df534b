// `tapline serve` and `tapline run` sharing one DuckDB file (one writer at a time): a run that starts
// while the drain loads again and again gets the file (the drain lets a waiting run go first), and a
// drain that meets a held file keeps every delivery in the inbox and loads it once the file is free.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { loadProject } from '../src/project.js';
import { type RunningServer, startServer } from '../src/serve/index.js';
import { duckdbRows, FAKE_TAP, tempDir, watchTapline } from './helpers.js';
import { CM_SECRET, cmHeaders, cmLinkBody, post } from './webhook-payloads.js';

const HERE = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
let cleanup: () => Promise<void>;
let server: RunningServer | undefined;
let logLines: string[];
const children: ChildProcess[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  logLines = [];
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await server?.stop();
  server = undefined;
  await cleanup();
});

async function serve(lockTimeoutSeconds: number): Promise<RunningServer> {
  await writeFile(
    path.join(dir, 'tapline.yml'),
    `taps:\n  fake:\n    command: node ${FAKE_TAP}\n    config: { records: 20, state_every: 5 }\n` +
      `targets:\n  duckdb:\n    config: { path: w.duckdb, lock_timeout_seconds: ${lockTimeoutSeconds} }\n` +
      `receivers:\n  cm: { type: classmarker, secret: "\${CM_SECRET}", target: duckdb }\n`,
  );
  const { project, file } = await loadProject(undefined, dir);
  const log = createLogger('json', (line) => logLines.push(line), 'info');
  return startServer({ project, file, cwd: dir, port: 0, host: '127.0.0.1', log, env: { CM_SECRET } });
}

const run = (onStderr?: (text: string) => void) => watchTapline(dir, ['run', 'fake', 'duckdb'], children, onStderr);

async function waitLoaded(receiver: RunningServer, deliveries: number): Promise<void> {
  const until = Date.now() + 30_000;
  while (receiver.drainers.cm!.loaded < deliveries) {
    if (Date.now() > until) throw new Error(`${receiver.drainers.cm!.loaded} of ${deliveries} loaded`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('tapline serve and tapline run on one DuckDB file', () => {
  it('a run that starts while deliveries load continuously gets the file and finishes; every delivery lands', async () => {
    // 15 s: the runs' wait for the file; a drain that opened it back to back starved runs for 30-50 s here.
    server = await serve(15);
    const url = server.receivers.cm!;
    let posting = true;
    let acknowledged = 0;
    const posters = Array.from({ length: 4 }, async (_, worker) => {
      for (let n = worker; posting; n += 4) {
        const body = cmLinkBody(5000 + n);
        if ((await post(url, body, cmHeaders(body))) === 200) acknowledged += 1;
      }
    });
    await waitLoaded(server, 1); // the drain is at work
    const runs = [await run()];
    posting = false;
    await Promise.all(posters);
    for (const result of runs) expect(result.code, result.stderr).toBe(0);
    await server.stop();
    server = undefined;
    const file = path.join(dir, 'w.duckdb');
    expect(await duckdbRows(file, 'SELECT count(*)::INT AS n FROM main.events')).toEqual([{ n: 20 }]);
    expect(await duckdbRows(file, 'SELECT count(*)::INT AS n FROM classmarker.link_results')).toEqual([{ n: acknowledged }]);
  });

  it('a drain waiting for a file another process holds lets a run that waits too take it first', async () => {
    server = await serve(15);
    const first = cmLinkBody(1);
    expect(await post(server.receivers.cm!, first, cmHeaders(first))).toBe(200);
    await waitLoaded(server, 1);
    const holder = await holdFile(path.join(dir, 'w.duckdb'));
    const second = cmLinkBody(2);
    expect(await post(server.receivers.cm!, second, cmHeaders(second))).toBe(200);
    const until = Date.now() + 20_000;
    while (!logLines.some((line) => line.includes('waiting up to')) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(logLines.filter((line) => line.includes('waiting up to'))).toHaveLength(1);
    // The drain waits for the file; a run starts waiting after it; the holder lets go once the run waits.
    let released = false;
    const result = await run((stderr) => {
      if (released || !stderr.includes('waiting up to')) return;
      released = true;
      holder.release();
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      new RegExp(`got the DuckDB file \\S+ after waiting [\\d.]+ s for \\S*node\\S* \\(PID ${holder.pid}\\) to release it`),
    );
    // The drain did not take the file from under the waiting run ("for <holder>, then <serve>"). It may
    // load between the run's own opens (the runner's state read, then its target), as a short wait.
    expect(result.stderr).not.toContain(`(PID ${holder.pid}), then`);
    await waitLoaded(server, 2);
    await server.stop();
    server = undefined;
    expect(await duckdbRows(path.join(dir, 'w.duckdb'), 'SELECT count(*)::INT AS n FROM classmarker.link_results')).toEqual([{ n: 2 }]);
  });

  it('a drain that meets the file held by another process keeps the deliveries and loads them once it is free', async () => {
    server = await serve(1);
    const first = cmLinkBody(1);
    expect(await post(server.receivers.cm!, first, cmHeaders(first))).toBe(200);
    await waitLoaded(server, 1);
    const holder = await holdFile(path.join(dir, 'w.duckdb'));
    const bodies = [cmLinkBody(2), cmLinkBody(3)];
    for (const body of bodies) expect(await post(server.receivers.cm!, body, cmHeaders(body))).toBe(200);
    const until = Date.now() + 20_000;
    while (server.drainers.cm!.lastError === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(server.drainers.cm!.lastError).toMatch(/is locked by .*\(PID \d+\)/);
    expect(server.drainers.cm!.loaded).toBe(1);
    holder.release();
    await waitLoaded(server, 3);
    await server.stop();
    server = undefined;
    expect(await duckdbRows(path.join(dir, 'w.duckdb'), 'SELECT count(*)::INT AS n FROM classmarker.link_results')).toEqual([{ n: 3 }]);
  });
});

/** Another process holding the DuckDB file (as a run's target does) until `release()`. */
async function holdFile(file: string) {
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    const db = await DuckDBInstance.create(${JSON.stringify(file)});
    console.log('open');
    process.stdin.on('data', () => { db.closeSync(); process.exit(0); });
    setTimeout(() => process.exit(0), 60000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: HERE });
  children.push(child);
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return { pid: child.pid!, release: () => child.stdin.write('release\n') };
}
