// Secrets never printed, never left on disk: a PostgreSQL password in any form a user may write it
// stays out of tapline's own errors (state read, state commands, model), in text and JSON logs; the
// configs tapline hands its tap and target leave no file behind, even when tapline is SIGKILLed.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_TAP, FAKE_TARGET, TAPLINE_BIN, tapline, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const SECRET = 'Sup3r-Secret';
/** Every form points at 127.0.0.1:1, where nothing listens, as user tapline, database exams. */
const FORMS: Record<string, Record<string, unknown>> = {
  'a URL whose password holds "@"': { connection_string: `postgres://tapline:${SECRET}@x@127.0.0.1:1/exams` },
  'a URL with ?password=': { connection_string: `postgres://tapline@127.0.0.1:1/exams?password=${SECRET}` },
  'libpq key=value settings': { connection_string: `host=127.0.0.1 port=1 dbname=exams user=tapline password=${SECRET}` },
  'a SQLAlchemy URL with ?password=': { sqlalchemy_url: `postgresql+psycopg://tapline@127.0.0.1:1/exams?password=${SECRET}` },
};
const SERVER = '127.0.0.1:1, database exams, user tapline';

async function withTargetConfig(config: Record<string, unknown>): Promise<string> {
  await writeFile(path.join(dir, 'pg.json'), JSON.stringify(config));
  return 'pg.json';
}

describe("tapline's own PostgreSQL errors name the server, never the password", () => {
  for (const [form, config] of Object.entries(FORMS)) {
    for (const format of ['text', 'json'] as const) {
      it(`${form}, ${format} logs: run (state read), state get, state clear and model exit 4 naming ${SERVER}`, async () => {
        const file = await withTargetConfig(config);
        const commands = [
          ['run', FAKE_TAP, 'postgres', '--summary-json'],
          ['state', 'get', FAKE_TAP, 'postgres'],
          ['state', 'clear', FAKE_TAP, 'postgres'],
          ['model', '--target', 'postgres'],
        ];
        for (const command of commands) {
          const result = await tapline([...command, '--target-config', file, '--log-format', format], { cwd: dir });
          const output = result.stdout + result.stderr;
          expect(output, command.join(' ')).not.toContain(SECRET);
          expect(output, command.join(' ')).toContain(`cannot connect to PostgreSQL (${SERVER})`);
          expect(output, command.join(' ')).not.toMatch(/^\s+at /m);
          expect(result.code, command.join(' ')).toBe(4);
          if (format === 'json' && command[0] !== 'state') {
            for (const line of result.stderr.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
          }
        }
      });
    }
  }

  for (const password of [`${SECRET}#x`, `${SECRET}/x`, `12/${SECRET}`]) {
    it(`a URL whose password holds a raw reserved character (${password.replace(SECRET, 'SECRET')}) is one sentence, exit 3, naming where it was written`, async () => {
      const file = await withTargetConfig({ connection_string: `postgres://tapline:${password}@127.0.0.1:1/exams` });
      for (const format of ['text', 'json'] as const) {
        const result = await tapline(['run', FAKE_TAP, 'postgres', '--target-config', file, '--log-format', format], { cwd: dir });
        expect(result.stdout + result.stderr).not.toContain(SECRET);
        expect(result.stderr).not.toMatch(/^\s+at /m);
        expect(result.stderr).toContain('--target-config pg.json: connection_string: the connection URL is not valid: percent-encode');
        expect(result.code).toBe(3);
      }
    });
  }
});

/** Every file under `root` whose content holds `text`. */
async function filesHolding(root: string, text: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (entry.isFile() && (await readFile(file, 'utf8')).includes(text)) found.push(file);
  }
  return found;
}

/** Processes whose command line reads a descriptor of process `pid` (`--config /proc/<pid>/fd/N`). */
async function childrenReading(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(`/proc/${pid}/fd/`)) found.push(Number(entry));
  }
  return found;
}

/** What a run left in a temp folder, besides Node's compile cache (compiled modules, no settings; filesHolding checks it too). */
const leftIn = async (tmp: string) => (await readdir(tmp)).filter((name) => name !== 'node-compile-cache');

describe('the configs tapline hands to its tap and target', () => {
  it('are never files on disk: nothing is left after tapline is SIGKILLed mid-run, in the temp folder or anywhere else', async () => {
    const tmp = path.join(dir, 'tmp');
    const inputs = path.join(dir, 'inputs');
    await mkdir(tmp);
    await mkdir(inputs);
    const pause = path.join(dir, 'paused');
    await writeFile(path.join(inputs, 'tap.json'), JSON.stringify({ records: 100, state_every: 10, api_secret: SECRET }));
    await writeFile(path.join(inputs, 'target.json'), JSON.stringify({ path: path.join(dir, 'w.duckdb'), password: SECRET }));
    const args = ['run', FAKE_TAP, FAKE_TARGET, '--tap-config', 'inputs/tap.json', '--target-config', 'inputs/target.json'];
    // A first run stores a state, so the second hands the tap a --state too.
    expect((await tapline(args, { cwd: dir, env: { TMPDIR: tmp } })).code).toBe(0);

    await writeFile(
      path.join(inputs, 'tap.json'),
      JSON.stringify({ records: 200, state_every: 10, pause_at: 150, pause_file: pause, api_secret: SECRET }),
    );
    const runner = spawn(process.execPath, [TAPLINE_BIN, ...args], { cwd: dir, env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' });
    const exited = once(runner, 'exit');
    while (!existsSync(pause) || readFileSync(pause, 'utf8') === '') await sleep(10);
    // The tap and the target read their configs (the tap has resumed from the state and is paused):
    // no file with a name holds them, not even while the run goes.
    expect(await filesHolding(tmp, SECRET)).toEqual([]);
    expect(await leftIn(tmp)).toEqual([]);
    runner.kill('SIGKILL');
    await exited;
    // The orphaned tap and target (they name the runner's descriptors in their command line) end too.
    const orphans = await childrenReading(runner.pid!);
    expect(orphans.length).toBeGreaterThan(0);
    for (const pid of orphans) process.kill(pid, 'SIGKILL');
    while ((await childrenReading(runner.pid!)).length > 0) await sleep(20);

    expect(await leftIn(tmp)).toEqual([]);
    const holding = (await filesHolding(dir, SECRET)).map((file) => path.relative(dir, file));
    expect(holding.sort()).toEqual(['inputs/tap.json', 'inputs/target.json']);
  }, 60_000);
});
