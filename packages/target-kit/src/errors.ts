// Errors the target reports as one sentence (user errors) and the exit code each one means.
import { constants } from 'node:os';
import { SingerInputError } from '@tapline/singer';

export { SingerInputError };

/** The config file is missing, unreadable or has a wrong key. Exit code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * The destination refused data or a change (a value it cannot store, a refused ALTER, a lost
 * connection). `message` names the stream, input line and column when known. Exit code 1.
 */
export class LoadError extends Error {
  override readonly name = 'LoadError';
}

/**
 * A resource ran out: the disk (or a quota) of the database file's or the spool's folder filled,
 * the database ran out of disk, memory or connections, or canceled a statement at the time
 * `statement_timeout_ms` allows. Not the data's fault: free the resource and run again, and the
 * run resumes from the last committed state. `message` names the folder or the setting. Exit code 5.
 */
export class ResourceError extends Error {
  override readonly name = 'ResourceError';
}

/**
 * The errno codes of a full disk or quota (`ENOSPC`, `EDQUOT`, `EFBIG`: a file over `ulimit -f`),
 * in a Node error's `code` or in the text a native library reports them in.
 */
export function isDiskFull(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return true;
  return typeof message === 'string' && /No space left on device|Disk quota exceeded|File too large/i.test(message);
}

/** Where a batch's records came from (`input lines 5-9`), for a refusal no one line explains. */
export function batchLines(lines: readonly number[]): string {
  if (lines.length === 0) return 'input';
  let low = lines[0]!;
  let high = low;
  for (const line of lines) {
    if (line < low) low = line;
    if (line > high) high = line;
  }
  return low === high ? `line ${low}` : `input lines ${low}-${high}`;
}

/**
 * A record's key matched several rows of its table: rows loaded while the stream had other
 * key_properties (or none). Updating them all from the one record would leave them identical, so
 * the batch is refused (README, "Keys, deletes, versions"); every dialect says it in these words.
 */
export function keyMatchesSeveralRows(
  batch: { readonly stream: string; readonly table: { schema: string; table: string }; readonly key: readonly string[]; readonly rows: { readonly lines: readonly number[] } },
  example: { readonly values: readonly string[]; readonly rows: number; readonly line?: number },
): LoadError {
  const where = example.line === undefined ? batchLines(batch.rows.lines) : `line ${example.line}`;
  return new LoadError(
    `${where} (stream ${JSON.stringify(batch.stream)}): the record's key (${batch.key.join(', ')}) = (${example.values.join(', ')}) matches ${example.rows} rows of table ${batch.table.schema}.${batch.table.table}, loaded while the stream had other key_properties (or none); updating them all from one record would leave identical rows, so the batch is refused: send the key_properties those rows were loaded with, or remove the extra rows`,
  );
}

/** The signals a target stops on gracefully (`runTargetCli`). */
export type StopSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

/**
 * The run was stopped by a signal before the end of its input (an orchestrator's timeout or
 * cancel, Ctrl-C). Exit code 128 + the signal's number (143 for SIGTERM, 130 for SIGINT), as a
 * shell reports a process the signal killed, so a scheduler sees it the same either way.
 */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
  readonly exitCode: number;

  /** `afterEndOfInput`: the signal came once the input had ended, so the load finished (its last commit) first. */
  constructor(
    readonly signal: StopSignal,
    readonly afterEndOfInput = false,
  ) {
    super(
      afterEndOfInput
        ? `interrupted by ${signal} after the end of input, while the last batch was written: the load finished first; every state on stdout is committed with the rows it covers`
        : `interrupted by ${signal} before the end of input: every state on stdout is committed with the rows it covers; nothing after the last one was loaded`,
    );
    this.exitCode = 128 + constants.signals[signal];
  }
}

/** Exit codes of every Tapline target (README, "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** Bad input or data the destination refused; nothing uncommitted was kept. */
  input: 1,
  /** Bad command line or config. */
  config: 2,
  /** A bug or an unexpected failure (printed with its stack). */
  internal: 3,
  /** A resource ran out (a full disk, the database's memory or connections, statement_timeout_ms); committed data is intact, a rerun resumes. */
  resource: 5,
} as const;

/** The exit code and one-line message for an error, and whether the stack is worth printing. */
export function classifyError(error: unknown): { code: number; message: string; showStack: boolean } {
  if (error instanceof SingerInputError || error instanceof LoadError) {
    return { code: EXIT.input, message: error.message, showStack: false };
  }
  if (error instanceof ConfigError) return { code: EXIT.config, message: error.message, showStack: false };
  if (error instanceof ResourceError) return { code: EXIT.resource, message: error.message, showStack: false };
  if (error instanceof Interrupted) return { code: error.exitCode, message: error.message, showStack: false };
  const message = error instanceof Error ? error.message : String(error);
  return { code: EXIT.internal, message, showStack: true };
}
