// Proactive rate budget: a sliding-window log of request times, so a healthy run never hits the vendor limit.

import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { RateLimitedError } from './errors.js';

/** What to do when a limit would be exceeded: wait (up to `maxWaitMs`) or throw RateLimitedError at once. */
export type OnRateLimit = 'wait' | 'stop';

/** Plain JSON a tap may keep in its state between runs, so one run's requests count against the next. */
export interface RateBudgetState {
  /** Epoch milliseconds of the requests made within the window (at most `limit` entries). */
  request_times: number[];
  /** Epoch milliseconds before which the server told us not to call again. */
  blocked_until?: number;
}

export interface RateBudgetOptions {
  /** Requests allowed per window, e.g. 30. */
  limit: number;
  /** Window length, e.g. 3_600_000 for "per hour", 1000 for "per second". */
  intervalMs: number;
  /** Restore what an earlier run recorded (see `snapshot()`). */
  state?: RateBudgetState;
  /** Name used in messages, e.g. "ClassMarker". */
  label?: string;
}

export interface RateBudgetRuntime {
  clock?: Clock;
  onExceeded?: OnRateLimit;
  /** Longest single wait accepted in `wait` mode; longer waits throw RateLimitedError. Default 15 minutes. */
  maxWaitMs?: number;
}

export const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 15 * 60_000;

export class RateBudget {
  readonly limit: number;
  readonly intervalMs: number;
  private readonly label: string;
  private readonly clock: Clock;
  private readonly onExceeded: OnRateLimit;
  private readonly maxWaitMs: number;
  private times: number[];
  private blockedUntil: number;
  /** Serialises acquirers so concurrent callers queue instead of all waking at the same slot. */
  private queue: Promise<void> = Promise.resolve();

  constructor(options: RateBudgetOptions, runtime: RateBudgetRuntime = {}) {
    if (!(options.limit >= 1) || !(options.intervalMs > 0)) {
      throw new RangeError(`rate budget needs limit >= 1 and intervalMs > 0 (got ${options.limit} per ${options.intervalMs} ms)`);
    }
    this.limit = Math.floor(options.limit);
    this.intervalMs = options.intervalMs;
    this.label = options.label ?? 'the API';
    this.clock = runtime.clock ?? systemClock;
    this.onExceeded = runtime.onExceeded ?? 'wait';
    this.maxWaitMs = runtime.maxWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
    this.times = [...(options.state?.request_times ?? [])].filter((t) => Number.isFinite(t)).sort((a, b) => a - b);
    this.blockedUntil = options.state?.blocked_until ?? 0;
  }

  /** Take one request slot, waiting or throwing RateLimitedError per `onExceeded`. */
  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.acquireNow());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Tell the budget the server refused us until `untilMs` (epoch ms), e.g. from Retry-After. */
  blockUntil(untilMs: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, untilMs);
  }

  /** Requests still allowed right now. */
  remaining(): number {
    this.prune(this.clock.now());
    return Math.max(0, this.limit - this.times.length);
  }

  /** Epoch ms when the next request may go without waiting (now or earlier: at once). */
  availableAt(): number {
    const now = this.clock.now();
    return Math.max(now, this.nextFreeAt(now));
  }

  /** Name used in messages, e.g. "ClassMarker (30 per hour)". */
  describe(): string {
    return `${this.label} (${this.limit} per ${describeInterval(this.intervalMs)})`;
  }

  snapshot(): RateBudgetState {
    this.prune(this.clock.now());
    const state: RateBudgetState = { request_times: [...this.times] };
    if (this.blockedUntil > this.clock.now()) state.blocked_until = this.blockedUntil;
    return state;
  }

  private prune(now: number): void {
    const cutoff = now - this.intervalMs;
    while (this.times.length > 0 && (this.times[0] as number) <= cutoff) this.times.shift();
  }

  /** Epoch ms when the next request may go; <= now means immediately. */
  private nextFreeAt(now: number): number {
    this.prune(now);
    let at = Math.max(now, this.blockedUntil);
    if (this.times.length >= this.limit) {
      const oldestThatMustExpire = this.times[this.times.length - this.limit] as number;
      at = Math.max(at, oldestThatMustExpire + this.intervalMs);
    }
    return at;
  }

  private async acquireNow(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const at = this.nextFreeAt(now);
      if (at <= now) {
        this.times.push(now);
        return;
      }
      const waitMs = at - now;
      if (this.onExceeded === 'stop' || waitMs > this.maxWaitMs) {
        throw new RateLimitedError(
          `the request budget for ${this.label} (${this.limit} per ${describeInterval(this.intervalMs)}) is used up; the next request is allowed at ${new Date(at).toISOString()}`,
          new Date(at),
        );
      }
      await this.clock.sleep(waitMs);
    }
  }
}

export function describeInterval(ms: number): string {
  if (ms === 1000) return 'second';
  if (ms === 60_000) return 'minute';
  if (ms === 3_600_000) return 'hour';
  if (ms === 86_400_000) return 'day';
  return `${ms} ms`;
}
