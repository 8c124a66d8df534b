// Errors the target reports as one sentence (user errors) and the exit code each one means.
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
  const message = error instanceof Error ? error.message : String(error);
  return { code: EXIT.internal, message, showStack: true };
}
