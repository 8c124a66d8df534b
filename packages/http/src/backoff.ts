// Exponential backoff with full jitter (AWS architecture blog "Exponential Backoff And Jitter").

export interface RetryOptions {
  /** Total attempts including the first; default 5. */
  attempts?: number;
  /** Ceiling of the first retry delay; default 1000 ms. */
  baseDelayMs?: number;
  /** Cap on any single backoff delay; default 60_000 ms. */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 };

/** Delay before retry number `retry` (1 = first retry): uniform in [0, min(max, base * 2^(retry-1))]. */
export function backoffDelay(retry: number, options: Required<RetryOptions>, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}
