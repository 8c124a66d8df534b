// Exit codes of `tapline` and the error type that carries one; the table is @tapline/singer's.
import { EXIT_CODES, RUNNER_EXIT_CODES } from '@tapline/singer';

/**
 * Every way a `tapline` command can end: the shared table of taps and targets (@tapline/singer
 * README, "Exit codes") where tapline itself is the one that failed, plus the outer layer saying
 * which side failed (10 tap, 11 target), whatever that side's own code was.
 */
export const ExitCode = {
  ok: EXIT_CODES.ok,
  /** An unexpected error inside tapline itself (a bug: the message carries a stack trace). */
  internal: EXIT_CODES.system,
  /** The command line was wrong: an unknown command or option, a wrong number of arguments. */
  usage: EXIT_CODES.usage,
  /** The user must fix something: tapline.yml, a config file, a missing environment variable, a package not built. */
  config: EXIT_CODES.config,
  /** The warehouse could not be reached to read or write the pipeline's state: transient, run again. */
  stateFailed: EXIT_CODES.transient,
  /** Both sides ended cleanly and the state is committed, but the tap left something for the next run (its exit 6: a rate-limit stop, a cut-short listing, records set aside). */
  partial: EXIT_CODES.partial,
  /** The tap failed (non-zero exit or killed); the target was stopped without a clean end of input. */
  tapFailed: RUNNER_EXIT_CODES.tapFailed,
  /** The target failed (non-zero exit, killed, or ended before its input did); the tap was stopped. */
  targetFailed: RUNNER_EXIT_CODES.targetFailed,
  /** tapline itself was interrupted (SIGINT / SIGTERM); both sides were stopped. */
  interrupted: RUNNER_EXIT_CODES.interrupted,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is a sentence for the user: printed without a stack trace. */
export class TaplineError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.config,
  ) {
    super(message);
    this.name = 'TaplineError';
  }
}
