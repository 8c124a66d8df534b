// Errors with an owner: every failure carries a blame, and the exit code follows from it.

import type { Blame } from '@tapline/http';
export type { Blame };

/**
 * Exit codes of every Tapline tap. Orchestrators can retry on TRANSIENT and should page a human on
 * CONFIG; SYSTEM means a bug in the tap (a stack trace is printed).
 */
export const EXIT_CODES = {
  /** Success: every selected stream was read whole. */
  ok: 0,
  /** Our bug, or vendor data the tap does not understand. */
  system: 1,
  /** The command line itself was wrong (unknown flag, missing --config). */
  usage: 2,
  /** The user must fix something: config, credentials, permissions, a state or catalog file. */
  config: 3,
  /** Network failures, 5xx after retries, timeouts: running again later should work. */
  transient: 4,
  /**
   * A clean end with the state saved, but not everything was read or loaded: the vendor's rate
   * limit stopped the run, a listing was cut short, a partition answered "no results" and its rows
   * were kept, or records were set aside as unreadable. The last stderr line (`SUMMARY: {...}`)
   * says which; running again continues.
   */
  partial: 6,
} as const;

// One TapError class for the whole tap side: the http package's (message, blame, { cause }).
export { TapError, RateLimitedError } from '@tapline/http';

/** The command line could not be understood; printed with a hint to run --help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Reads the blame of any error: ours, or one from @tapline/http, which carries the same field. */
export function blameOf(error: unknown): Blame {
  if (error instanceof UsageError) return 'config';
  const blame = (error as { blame?: unknown } | null)?.blame;
  return blame === 'config' || blame === 'transient' || blame === 'system' ? blame : 'system';
}

/** True for the http package's RateLimitedError: the vendor (or our budget) says stop until retryAt. */
export function isRateLimited(error: unknown): error is Error & { retryAt: Date } {
  return (error as { name?: unknown } | null)?.name === 'RateLimitedError';
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT_CODES.usage;
  return EXIT_CODES[blameOf(error)];
}
