// Opening a DuckDB file that another process may hold: wait for its lock with backoff, up to a bound,
// naming the holder. A process that waits says so in a marker file beside the DuckDB file, so a
// process that opens the file again and again (tapline serve's drain) can let it go first.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import nodePath from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DuckDBInstance } from '@duckdb/node-api';
import { LoadError, TransientError } from '@tapline/target-kit';
import { DEFAULT_LOCK_TIMEOUT_SECONDS } from './config.js';

/** Required, not imported: see session.ts (importing @duckdb/node-api from ESM costs ~100 ms of start-up). */
const duckdb = createRequire(import.meta.url)('@duckdb/node-api') as typeof import('@duckdb/node-api');

/** The first wait after a refused open, and the longest: the waits double in between (jittered, so two waiters do not retry in step). */
const FIRST_WAIT_MS = 200;
const LONGEST_WAIT_MS = 5_000;
/** How often a process giving way looks again whether others still wait. */
const GIVE_WAY_POLL_MS = 100;

export interface OpenOptions {
  /** DuckDB settings given at open (memory_limit, threads, access_mode ...). */
  readonly settings?: Record<string, string>;
  /** Seconds to wait for another process's lock (0: fail at once). Default `DEFAULT_LOCK_TIMEOUT_SECONDS`. */
  readonly lockTimeoutSeconds?: number;
  /** Told once when the run starts waiting, and once when it got the file after waiting. */
  readonly log?: { info(message: string): void; warn(message: string): void };
  /** The setting that bounds the wait, as the user wrote it, for messages (default `lock_timeout_seconds`). */
  readonly timeoutSetting?: string;
  /**
   * For a process that opens the file often and briefly (tapline serve's drain): while it waits,
   * it tries no open as long as another process waits too (their markers), and leaves no marker of
   * its own, so a waiting run gets the file first and two such processes never wait on each other.
   */
  readonly giveWay?: boolean;
}

/**
 * DuckDB's lock refusal, read for who holds the file: `Conflicting lock is held in <program>
 * (PID <n>) by user <u>.`. The holder's path may hold dots itself (`python3.11`,
 * `~/.local/bin/node`): it ends at its PID, at " by user", or at the sentence's full stop.
 * Undefined when the error is not a lock refusal; `holder` is "another process" when unnamed.
 */
export function lockHolder(message: string): string | undefined {
  if (!/lock/i.test(message)) return undefined;
  const held = /Conflicting lock is held in (.+?)(?: \(PID (\d+)\))?(?: by user [^.]*)?\.(?:\s|$)/.exec(message);
  return held ? `${held[1]}${held[2] ? ` (PID ${held[2]})` : ''}` : 'another process';
}

/**
 * Open `path`, waiting while another process holds it (a notebook, even read-only, or another
 * run): retried with doubling waits until `lockTimeoutSeconds` have passed, then a TransientError
 * (exit 4) naming the holder and the bound. Any other refusal is a LoadError at once.
 */
export async function openDuckDBInstance(path: string, options: OpenOptions = {}): Promise<DuckDBInstance> {
  const marker = new WaitMarker(path);
  try {
    return await openWaiting(path, options, marker);
  } finally {
    marker.remove();
  }
}

async function openWaiting(path: string, options: OpenOptions, marker: WaitMarker): Promise<DuckDBInstance> {
  const timeoutSeconds = options.lockTimeoutSeconds ?? DEFAULT_LOCK_TIMEOUT_SECONDS;
  const setting = options.timeoutSetting ?? 'lock_timeout_seconds';
  const started = performance.now();
  const holders: string[] = [];
  for (let refusals = 0; ; ) {
    let holder: string | undefined;
    const waiting = options.giveWay && refusals > 0 ? processesWaitingFor(path) : [];
    if (waiting.length > 0) {
      // Another process waits for the file too: it goes first; this one looks again shortly.
      holder = holders.at(-1)!;
    } else {
      try {
        const instance = await duckdb.DuckDBInstance.create(path, options.settings ?? {});
        if (holders.length > 0) {
          const waited = ((performance.now() - started) / 1000).toFixed(1);
          options.log?.info(`got the DuckDB file ${path} after waiting ${waited} s for ${holders.join(', then ')} to release it`);
        }
        return instance;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        holder = lockHolder(message);
        if (holder === undefined) throw new LoadError(`cannot open the DuckDB file ${path}: ${message.split('\n')[0]}`);
      }
      if (holders.at(-1) !== holder) holders.push(holder);
    }
    const left = timeoutSeconds * 1000 - (performance.now() - started);
    if (left <= 0) {
      const waited =
        timeoutSeconds === 0
          ? `${setting} is 0, so the run did not wait`
          : `it stayed locked for the ${timeoutSeconds} s ${setting} allows`;
      throw new TransientError(
        `the DuckDB file ${path} is locked by ${holder} and ${waited}: DuckDB allows one writing process at a time, and a reader that opened the file itself (even read-only) holds it too; close that process (notebooks can read the published snapshot instead) and run again`,
      );
    }
    if (waiting.length > 0) {
      await sleep(Math.min(GIVE_WAY_POLL_MS, left));
      continue;
    }
    if (refusals === 0) {
      if (!options.giveWay) marker.write();
      options.log?.warn(
        `the DuckDB file ${path} is locked by ${holder}: waiting up to ${timeoutSeconds} s (${setting}) for it to be released`,
      );
    }
    const backoff = Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** refusals) * (0.75 + Math.random() / 2);
    refusals += 1;
    await sleep(Math.min(backoff, left));
  }
}

const WAITING = '.waiting-';
let markers = 0;

/** `<file>.waiting-<pid>-<n>`: this process waits for `file`'s lock. Best effort: a marker that cannot be written only costs priority. */
class WaitMarker {
  private readonly file: string | undefined;
  private written = false;

  constructor(path: string) {
    this.file = path === ':memory:' ? undefined : `${path}${WAITING}${process.pid}-${++markers}`;
  }

  write(): void {
    if (this.file === undefined) return;
    try {
      writeFileSync(this.file, '');
      this.written = true;
    } catch {
      // A read-only folder: the wait goes on without its priority.
    }
  }

  remove(): void {
    if (this.written) rmSync(this.file!, { force: true });
  }
}

/**
 * The PIDs of other live processes waiting for `path`'s lock (their markers). A marker left by a
 * process that died is deleted. A process that opens the file often and briefly (tapline serve's
 * drain) checks this before each open and lets them go first, so a run is never starved.
 */
export function processesWaitingFor(path: string): number[] {
  const dir = nodePath.dirname(path);
  const prefix = `${nodePath.basename(path)}${WAITING}`;
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.startsWith(prefix));
  } catch {
    return [];
  }
  const waiting = new Set<number>();
  for (const name of names) {
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (isAlive(pid)) waiting.add(pid);
    else rmSync(nodePath.join(dir, name), { force: true });
  }
  return [...waiting];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
