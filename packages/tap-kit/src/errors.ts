// Errors with an owner: every failure carries a blame, and the exit code follows from it.

import type { Blame } from '@tapline/http';
import { EXIT_CODES } from '@tapline/singer';

// One TapError class for the whole tap side: the http package's (message, blame, { cause }).
export { RateLimitedError, TapError } from '@tapline/http';

/**
 * Exit codes: the one table of every Tapline tap, target and runner (@tapline/singer README, "Exit
 * codes"). A tap ends with ok, system (1), usage (2), config (3), transient (4) or partial (6):
 * orchestrators can retry on transient and should page a human on config.
 */
export { EXIT_CODES } from '@tapline/singer';
export type { Blame };

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
