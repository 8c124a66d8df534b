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

  constructor(readonly signal: StopSignal) {
    super(`interrupted by ${signal} before the end of input: every state on stdout is committed with the rows it covers; nothing after the last one was loaded`);
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
} as const;

/** The exit code and one-line message for an error, and whether the stack is worth printing. */
export function classifyError(error: unknown): { code: number; message: string; showStack: boolean } {
  if (error instanceof SingerInputError || error instanceof LoadError) {
    return { code: EXIT.input, message: error.message, showStack: false };
  }
  if (error instanceof ConfigError) return { code: EXIT.config, message: error.message, showStack: false };
  if (error instanceof Interrupted) return { code: error.exitCode, message: error.message, showStack: false };
  const message = error instanceof Error ? error.message : String(error);
  return { code: EXIT.internal, message, showStack: true };
}
