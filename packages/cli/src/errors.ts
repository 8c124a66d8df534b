// Exit codes of `tapline` and the error type that carries one; documented in ../README.md.

/** Every way a `tapline` command can end, as the process exit code an orchestrator sees. */
export const ExitCode = {
  ok: 0,
  /** An unexpected error inside tapline itself (a bug: the message carries a stack trace). */
  internal: 1,
  /** The user must fix something: command line, tapline.yml, a config file, a missing environment variable. */
  usage: 2,
  /** The tap failed (non-zero exit or killed); the target was stopped without a clean end of input. */
  tapFailed: 3,
  /** The target failed (non-zero exit, killed, or ended before its input did); the tap was stopped. */
  targetFailed: 4,
  /** The warehouse could not be reached to read or write the pipeline's state. */
  stateFailed: 5,
  /** Both sides ended cleanly and the state is committed, but the tap left something for the next run (its exit 6: a rate-limit stop, a cut-short listing, records set aside). */
  partial: 6,
  /** tapline itself was interrupted (SIGINT / SIGTERM); both sides were stopped. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is a sentence for the user: printed without a stack trace. */
export class TaplineError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.usage,
  ) {
    super(message);
    this.name = 'TaplineError';
  }
}
