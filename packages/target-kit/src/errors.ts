// Errors the target reports as one sentence (user errors) and the exit code each one means.
import { constants } from 'node:os';
import { EXIT_CODES, SingerInputError, signalExitCode } from '@tapline/singer';

export { SingerInputError };

/** The command line is wrong: an unknown option, no --config, an --input that is not a file. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The config file is missing, unreadable or has a wrong key. Exit code 3. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Not the data's fault and nothing to fix: running again later should work (stdout closed by its
 * reader, so no state can be delivered). Exit code 4.
 */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

/**
 * The destination refused data or a change (a value it cannot store, a refused ALTER, a lost
 * connection). `message` names the stream, input line and column when known. Exit code 7 (data).
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
  batch: {
    readonly stream: string;
    readonly table: { schema: string; table: string };
    readonly key: readonly string[];
    readonly rows: { readonly lines: readonly number[] };
  },
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
    this.exitCode = signalExitCode(constants.signals[signal]);
  }
}

/**
 * Exit codes: the one table of every Tapline tap, target and runner (@tapline/singer README, "Exit
 * codes"). A target ends with ok, system (1: a bug, printed with its stack), usage (2), config (3),
 * transient (4), resource (5), data (7: bad input or data the destination refused) or 128 + n.
 */
export { EXIT_CODES } from '@tapline/singer';

/** The exit code and one-line message for an error, and whether the stack is worth printing. */
export function classifyError(error: unknown): { code: number; message: string; showStack: boolean } {
  if (error instanceof SingerInputError || error instanceof LoadError) {
    return { code: EXIT_CODES.data, message: error.message, showStack: false };
  }
  if (error instanceof UsageError) return { code: EXIT_CODES.usage, message: error.message, showStack: false };
  if (error instanceof ConfigError) return { code: EXIT_CODES.config, message: error.message, showStack: false };
  if (error instanceof TransientError) return { code: EXIT_CODES.transient, message: error.message, showStack: false };
  if (error instanceof ResourceError) return { code: EXIT_CODES.resource, message: error.message, showStack: false };
  if (error instanceof Interrupted) return { code: error.exitCode, message: error.message, showStack: false };
  const message = error instanceof Error ? error.message : String(error);
  return { code: EXIT_CODES.system, message, showStack: true };
}
