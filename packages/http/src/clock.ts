// Time as an injected dependency, so backoff and rate budgets are testable without real waiting.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** A clock whose `sleep` returns at once and moves `now` forward; `sleeps` records every wait. */
export interface FakeClock extends Clock {
  readonly sleeps: number[];
  advance(ms: number): void;
}

export function createFakeClock(startMs = Date.UTC(2025, 0, 1)): FakeClock {
  let now = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += Math.max(0, ms);
    },
    advance: (ms) => {
      now += ms;
    },
  };
}
