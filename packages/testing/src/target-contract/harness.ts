// What a destination provides so the shared target contract suite can run against it.
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One destination under test (kysely style: one test body, one harness per dialect).
 * Values read back through `TargetPlace.rows` must be plain JS, the same for every dialect:
 * - integers and decimals: a number when exact, else a string of digits (`"99999999999999999"`);
 * - double precision: a number; booleans: booleans; text: strings;
 * - timestamp (with zone): an ISO string in UTC with milliseconds (`2019-02-01T15:12:45.000Z`);
 * - date: `YYYY-MM-DD`; time: `HH:MM:SS` (fraction only when non-zero);
 * - json: the parsed value; bytes: a Uint8Array (a Buffer); NULL: null.
 */
export interface TargetHarness {
  /** "postgres", "duckdb". */
  readonly name: string;
  /** Whether text/json columns can hold U+0000 (decides what encoded_string_data must do). */
  readonly textAcceptsNul: boolean;
  /** The most columns a table can have, when the database has such a limit (PostgreSQL: 1600). */
  readonly maxColumns?: number;
  /** Whether a table made for a keyed stream gets a physical PRIMARY KEY (PostgreSQL; DuckDB's merge keeps keys unique instead). */
  readonly primaryKeys?: boolean;
  /**
   * Whether a double column keeps the sign of zero when `-0` and `0` are stored side by side
   * (PostgreSQL does; DuckDB's constant and run-length compression compare them as equal and keep
   * one). A lone `-0` among other values is kept by both.
   */
  readonly keepsSignOfZeroBesideZero?: boolean;
  /**
   * The tables one transaction may write before a STATE commits (the dialect's
   * `capabilities.commits.maxTablesPerCommit`; target-kit's default 200 when absent).
   */
  readonly maxTablesPerCommit?: number;
  /** null when the destination is ready, else why the suite is skipped. */
  unavailable(): Promise<string | null>;
  /** A fresh, isolated place to load into (a schema, a database file). */
  open(): Promise<TargetPlace>;
}

export interface TargetPlace {
  /** Config keys that point the target at this place (connection, default_target_schema, path). */
  readonly config: Readonly<Record<string, unknown>>;
  /** The command that runs the target CLI, e.g. `[process.execPath, '/.../bin/target-postgres.js']`. */
  readonly command: readonly string[];
  /** Rows of a table in this place, as plain JS objects (see TargetHarness), ordered by `orderBy` columns. */
  rows(table: string, orderBy?: readonly string[]): Promise<Record<string, unknown>[]>;
  /** Column name -> logical kind (`integer`, `decimal`, `number`, `string`, `json`, `timestamp`, ...). */
  columns(table: string): Promise<Record<string, string>>;
  /** Table names in this place. */
  tables(): Promise<string[]>;
  /** A table's qualified, quoted SQL name, for `execute`. */
  qualify(table: string): string;
  execute(sql: string): Promise<void>;
  /** The table's comment and each column's as the database holds them (a dialect's own markers left out), read back by SQL. */
  comments?(table: string): Promise<{ table: string | null; columns: Record<string, string | null> }>;
  close(): Promise<void>;
}

/**
 * The same destination with every record parsed, validated and encoded on target-kit's encode
 * workers: from the first byte, a line per block (its test hooks), so nearly every record of the
 * suite's small inputs takes that path.
 */
export function withEncodeWorkers(harness: TargetHarness): TargetHarness {
  return {
    ...harness,
    name: `${harness.name}, encode workers`,
    async open() {
      const place = await harness.open();
      return {
        ...place,
        config: { ...place.config, worker_threads: 2 },
        command: ['env', 'TAPLINE_WORKERS_AFTER_BYTES=0', 'TAPLINE_WORKER_BLOCK_BYTES=1', ...place.command],
      };
    },
  };
}

export interface TargetRun {
  readonly code: number;
  /** State values the target wrote to stdout, parsed, in order. */
  readonly states: unknown[];
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * How a run is cut short while the input stays open, as a tap that is still running keeps its end
 * of the pipe: send `signal` once stderr matches `after`, or close the target's stdout from the
 * start (its reader is gone).
 */
export type Interruption = { readonly signal: NodeJS.Signals; readonly after: RegExp } | { readonly closeStdout: true };

/**
 * Run the target CLI on an input file, text or stream (a real `tap | target` pipe), with
 * `--input <inputOption>` and an empty stdin, or with a file as its stdin (`stdinFile`), with the place's config plus `extra`; with `interrupt`, text is written and the pipe kept open until the
 * target has stopped.
 */
export async function runTargetCommand(
  place: Pick<TargetPlace, 'config' | 'command'>,
  input: { file: string } | { text: string } | { stream: NodeJS.ReadableStream } | { inputOption: string } | { stdinFile: string },
  extra: Record<string, unknown> = {},
  interrupt?: Interruption,
): Promise<TargetRun> {
  const dir = await mkdtemp(join(tmpdir(), 'tapline-target-'));
  try {
    const configPath = join(dir, 'config.json');
    await writeFile(configPath, JSON.stringify({ ...place.config, ...extra }));
    const [command, ...args] = place.command;
    const inputArgs = 'inputOption' in input ? ['--input', input.inputOption] : [];
    // `stdinFile`: the file itself is the target's stdin (`target < file`), not a pipe fed from it.
    const stdinFd = 'stdinFile' in input ? openSync(input.stdinFile, 'r') : undefined;
    const child = spawn(command!, [...args, '--config', configPath, ...inputArgs], { stdio: [stdinFd ?? 'pipe', 'pipe', 'pipe'] });
    if (stdinFd !== undefined) closeSync(stdinFd);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    let signalled = false;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (interrupt !== undefined && 'signal' in interrupt && !signalled && interrupt.after.test(stderr)) {
        signalled = true;
        child.kill(interrupt.signal);
      }
    });
    if (interrupt !== undefined && 'closeStdout' in interrupt) child.stdout!.destroy();
    child.stdin?.on('error', () => {}); // the target may exit before reading everything (bad input)
    if ('stdinFile' in input) {
      // nothing to write: the child reads the file
    } else if ('inputOption' in input) child.stdin!.end();
    else if ('file' in input) createReadStream(input.file).pipe(child.stdin!);
    else if ('stream' in input) input.stream.pipe(child.stdin!);
    else if (interrupt !== undefined) child.stdin!.write(input.text);
    else child.stdin!.end(input.text);
    const code = await new Promise<number>((resolve) =>
      child.on('close', (exit, signal) => resolve(exit ?? (signal === null ? -1 : 128 + constants.signals[signal]))),
    );
    child.stdin?.destroy();
    const states = stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as unknown);
    return { code, states, stdout, stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
