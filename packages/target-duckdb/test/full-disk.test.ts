// A full disk, for real: the DuckDB file's folder, or the spool's (TMPDIR), on a small tmpfs mounted for the test (needs root; skipped otherwise).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTargetCommand } from '@tapline/testing/target-contract';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { duckdbHarness, withDuckDB } from './duckdb-harness.js';

const command = (await duckdbHarness.open().then(async (place) => {
  await place.close();
  return place.command;
})) as readonly string[];

/** Mount a tmpfs of `megabytes` on `dir` (or resize the one there); false where mounting is not permitted. */
function mountSmallDisk(dir: string, megabytes: number, remount = false): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `${remount ? 'remount,' : ''}size=${megabytes}m`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const canMount = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'tapline-mount-probe-'));
  try {
    if (!mountSmallDisk(probe, 1)) return false;
    execFileSync('umount', [probe]);
    return true;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

const schema = JSON.stringify({
  type: 'SCHEMA',
  stream: 'events',
  schema: { type: 'object', properties: { id: { type: 'integer' }, t: { type: 'string' } } },
  key_properties: ['id'],
});
/** `count` records of `bytes` of text each, a STATE after every `every`. */
function messages(count: number, bytes: number, every: number): string {
  const lines = [schema];
  for (let id = 1; id <= count; id++) {
    lines.push(JSON.stringify({ type: 'RECORD', stream: 'events', record: { id, t: `${id}`.padEnd(bytes, '.') } }));
    if (id % every === 0) lines.push(JSON.stringify({ type: 'STATE', value: { at: id } }));
  }
  return `${lines.join('\n')}\n`;
}

describe.skipIf(!canMount)('a full disk: one sentence naming the folder, exit 5, committed data intact, a rerun recovers', () => {
  let root: string;
  let disk: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tapline-full-disk-'));
    disk = join(root, 'disk');
    execFileSync('mkdir', [disk]);
  });
  afterEach(() => {
    execFileSync('umount', [disk]);
    rmSync(root, { recursive: true, force: true });
  });

  async function stored(path: string): Promise<{ rows: number; state: unknown }> {
    const [{ rows }] = (await withDuckDB(path, (query) => query('SELECT count(*)::INTEGER AS rows FROM main.events'))) as [
      { rows: number },
    ];
    const [found] = (await withDuckDB(path, (query) => query(`SELECT CAST(value AS VARCHAR) AS value FROM main.tapline_state`))) as [
      { value: string }?,
    ];
    return { rows, state: found === undefined ? undefined : (JSON.parse(found.value) as unknown) };
  }

  it("the DuckDB file's folder fills", async () => {
    expect(mountSmallDisk(disk, 3)).toBe(true);
    const path = join(disk, 'warehouse.duckdb');
    const config = { path, state_table: 'tapline_state', batch_size_rows: 2_000 };
    const input = { text: messages(40_000, 200, 2_000) };
    const failed = await runTargetCommand({ config, command }, input);
    const critical = failed.stderr.split('\n').filter((line) => line.startsWith('CRITICAL '));
    expect(critical).toHaveLength(1);
    expect(critical[0]).toMatch(
      new RegExp(
        `^CRITICAL the disk holding ${disk} \\(the DuckDB file's folder\\) is full: DuckDB could not write ${disk}/warehouse\\.duckdb\\S* \\(No space left on device\\)`,
      ),
    );
    expect(failed.stderr).not.toMatch(/\n\s+at |^Error/m);
    expect(failed.code).toBe(5);
    expect(failed.states.length).toBeGreaterThan(0); // some commits fitted
    // Every state on stdout is committed with its rows, nothing more.
    const last = failed.states.at(-1) as { at: number };
    expect(await stored(path)).toEqual({ rows: last.at, state: last });

    // Room again: the rerun loads everything.
    expect(mountSmallDisk(disk, 64, true)).toBe(true);
    const rerun = await runTargetCommand({ config, command }, input);
    expect(rerun.stderr).not.toMatch(/CRITICAL/);
    expect(rerun.code).toBe(0);
    expect(await stored(path)).toEqual({ rows: 40_000, state: { at: 40_000 } });
  }, 300_000);

  it("the spool's folder (TMPDIR) fills", async () => {
    expect(mountSmallDisk(disk, 1)).toBe(true);
    const path = join(root, 'warehouse.duckdb');
    const config = { path, state_table: 'tapline_state', batch_size_rows: 1_000 };
    // Batches of ~200 KB fit the 1 MB spool folder; then records grow and a batch of ~2 MB does not.
    const small = messages(3_000, 200, 1_000);
    const large = messages(6_000, 2_000, 1_000)
      .split('\n')
      .slice(1 + 3_000 + 3)
      .join('\n');
    const input = { text: small + large };
    const spooling = { config, command: ['env', `TMPDIR=${disk}`, ...command] };
    const failed = await runTargetCommand(spooling, input);
    const critical = failed.stderr.split('\n').filter((line) => line.startsWith('CRITICAL '));
    expect(critical).toHaveLength(1);
    expect(critical[0]).toMatch(
      new RegExp(
        `^CRITICAL the disk holding ${disk}/tapline-duckdb-\\w+ \\(the spool folder, under TMPDIR\\) is full: the batch of stream "events" \\(input lines \\d+-\\d+\\) could not be spooled`,
      ),
    );
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect(failed.code).toBe(5);
    expect(failed.states).toEqual([{ at: 1_000 }, { at: 2_000 }, { at: 3_000 }]);
    expect(await stored(path)).toEqual({ rows: 3_000, state: { at: 3_000 } });
    // Nothing of the run is left behind in the full folder (Node's compile cache is not the run's).
    expect(execFileSync('ls', ['-A', disk], { encoding: 'utf8' }).replace(/^node-compile-cache\n/m, '')).toBe('');

    expect(mountSmallDisk(disk, 64, true)).toBe(true);
    const rerun = await runTargetCommand(spooling, input);
    expect(rerun.stderr).not.toMatch(/CRITICAL/);
    expect(rerun.code).toBe(0);
    expect(await stored(path)).toEqual({ rows: 6_000, state: { at: 6_000 } });
  }, 300_000);
});
