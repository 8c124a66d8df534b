// Rate limits: Retry-After (seconds and HTTP-date), wait vs stop, body-signalled limits, and the proactive budget.

import { describe, expect, it } from 'vitest';
import type { Classifier } from '../src/index.js';
import { byBody, createFakeClock, HttpError, parseRetryAfter, RateBudget, RateLimitedError } from '../src/index.js';
import type { Harness } from './support/fixtures.js';
import { makeClient, useStrictServer } from './support/fixtures.js';
import type { TestServer } from './support/test-server.js';

let server!: TestServer;
let h: Harness | undefined;
useStrictServer((started) => (server = started));

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads delta seconds', () => expect(parseRetryAfter('120', now)).toBe(120_000));
  it('reads an HTTP-date', () => expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000));
  it('treats a date in the past as no wait', () => expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0));
  it('ignores nonsense', () => expect(parseRetryAfter('soon', now)).toBeUndefined());
});

describe('HTTP 429', () => {
  it('waits for Retry-After seconds, then retries', async () => {
    server.on('/r', { status: 429, headers: { 'retry-after': '30' } }, { body: { ok: 1 } });
    h = makeClient(server.baseUrl);
    const res = await h.client.request({ path: '/r' });
    expect(res.body).toEqual({ ok: 1 });
    expect(h.clock.sleeps).toEqual([30_000]);
  });

  it('waits until a Retry-After HTTP-date measured on the injected clock', async () => {
    h = makeClient(server.baseUrl);
    const at = new Date(h.clock.now() + 90_000).toUTCString();
    server.on('/r', { status: 429, headers: { 'retry-after': at } }, { body: {} });
    await h.client.request({ path: '/r' });
    expect(h.clock.sleeps).toEqual([90_000]);
  });

  it('in stop mode throws RateLimitedError with retryAt instead of waiting', async () => {
    server.on('/r', { status: 429, headers: { 'retry-after': '600' } });
    h = makeClient(server.baseUrl, { onRateLimit: 'stop' });
    const start = h.clock.now();
    const error = await h.client.request({ path: '/r' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAt.getTime()).toBe(start + 600_000);
    expect((error as RateLimitedError).blame).toBe('transient');
    expect((error as Error).message).toMatch(
      /^GET \/r: the server rate limit was reached \(HTTP 429\); the next request is allowed at 2025-01-01T00:10:00\.000Z$/,
    );
    expect(h.clock.sleeps).toEqual([]);
  });

  it('in stop mode without Retry-After says the server gave no time', async () => {
    server.on('/r', { status: 429 });
    h = makeClient(server.baseUrl, { onRateLimit: 'stop' });
    const error = (await h.client.request({ path: '/r' }).catch((e: unknown) => e)) as RateLimitedError;
    expect(error.message).toBe('GET /r: the server rate limit was reached (HTTP 429); the server did not say when to try again');
    expect(error.retryAt.getTime()).toBe(h.clock.now() + 60_000);
  });

  it('in wait mode still stops when the wait would exceed the maximum', async () => {
    server.on('/r', { status: 429, headers: { 'retry-after': '3600' } });
    h = makeClient(server.baseUrl, { onRateLimit: 'wait', maxRateLimitWaitMs: 60_000 });
    await expect(h.client.request({ path: '/r' })).rejects.toBeInstanceOf(RateLimitedError);
    expect(h.clock.sleeps).toEqual([]);
  });

  it('gives up with an HttpError when the limit persists past the attempts', async () => {
    server.always('/r', { status: 429, headers: { 'retry-after': '1' } });
    h = makeClient(server.baseUrl, { retry: { attempts: 3 } });
    const error = await h.client.request({ path: '/r' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 429, attempts: 3, blame: 'transient' });
  });
});

describe('a limit signalled in the body (ClassMarker rateLimitExceeded with next_request_after)', () => {
  const classMarkerLimit: Classifier = byBody((body, input) => {
    const b = body as { status?: string; error?: { error_code?: string; next_request_after?: number } };
    if (b.status === 'error' && b.error?.error_code === 'rateLimitExceeded') {
      const after = b.error.next_request_after;
      return {
        action: 'rate_limited',
        blame: 'transient',
        message: 'the ClassMarker limit of 30 requests per hour was reached (rateLimitExceeded)',
        ...(after !== undefined ? { retryAfterMs: Math.max(0, after * 1000 - input.now) } : {}),
      };
    }
    return undefined;
  });

  it('stops with retryAt taken from the body', async () => {
    h = makeClient(server.baseUrl, { classify: classMarkerLimit, onRateLimit: 'stop' });
    const nextAllowed = Math.floor(h.clock.now() / 1000) + 1200;
    server.on('/v1.json', { body: { status: 'error', error: { error_code: 'rateLimitExceeded', next_request_after: nextAllowed } } });
    const error = (await h.client.request({ path: '/v1.json' }).catch((e: unknown) => e)) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.retryAt.getTime()).toBe(nextAllowed * 1000);
  });

  it('blocks the budget until then, so the next call does not even reach the server', async () => {
    h = makeClient(server.baseUrl, { classify: classMarkerLimit, onRateLimit: 'stop', budget: { limit: 30, intervalMs: 3_600_000 } });
    const nextAllowed = Math.floor(h.clock.now() / 1000) + 1200;
    server.on('/v1.json', { body: { status: 'error', error: { error_code: 'rateLimitExceeded', next_request_after: nextAllowed } } });
    await expect(h.client.request({ path: '/v1.json' })).rejects.toBeInstanceOf(RateLimitedError);
    await expect(h.client.request({ path: '/v1.json' })).rejects.toBeInstanceOf(RateLimitedError);
    expect(server.received).toHaveLength(1);
    expect(h.client.budget?.snapshot().blocked_until).toBe(nextAllowed * 1000);
  });
});

describe('the proactive rate budget', () => {
  it('lets `limit` requests through per window, then waits for the oldest to expire (wait mode)', async () => {
    server.always('/x', { body: {} });
    h = makeClient(server.baseUrl, { budget: { limit: 3, intervalMs: 60_000 } });
    for (let i = 0; i < 3; i++) {
      await h.client.request({ path: '/x' });
      h.clock.advance(1000);
    }
    expect(h.clock.sleeps).toEqual([]);
    await h.client.request({ path: '/x' });
    // The first request went at t=0; now is t=3000; the slot frees at t=60000.
    expect(h.clock.sleeps).toEqual([57_000]);
    expect(server.received).toHaveLength(4);
  });

  it('in stop mode raises RateLimitedError before sending the request that would exceed it', async () => {
    server.always('/x', { body: {} });
    h = makeClient(server.baseUrl, { onRateLimit: 'stop', budget: { limit: 2, intervalMs: 3_600_000, label: 'ClassMarker' } });
    const start = h.clock.now();
    await h.client.request({ path: '/x' });
    await h.client.request({ path: '/x' });
    const error = (await h.client.request({ path: '/x' }).catch((e: unknown) => e)) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.retryAt.getTime()).toBe(start + 3_600_000);
    expect(error.message).toBe(
      'the request budget for ClassMarker (2 per hour) is used up; the next request is allowed at 2025-01-01T01:00:00.000Z',
    );
    expect(server.received).toHaveLength(2);
  });

  it('counts retries against the budget, since every attempt is a request', async () => {
    server.on('/x', { status: 500 }, { body: {} });
    h = makeClient(server.baseUrl, { budget: { limit: 10, intervalMs: 60_000 } });
    await h.client.request({ path: '/x' });
    expect(h.client.budget?.remaining()).toBe(8);
  });

  it('round-trips through plain JSON state, so requests of an earlier run still count', async () => {
    const clock = createFakeClock();
    const first = new RateBudget({ limit: 30, intervalMs: 3_600_000 }, { clock, onExceeded: 'stop' });
    for (let i = 0; i < 30; i++) {
      await first.acquire();
      clock.advance(60_000);
    }
    const saved = JSON.parse(JSON.stringify(first.snapshot()));
    expect(saved.request_times).toHaveLength30OrFewer();
    const second = new RateBudget({ limit: 30, intervalMs: 3_600_000, state: saved }, { clock, onExceeded: 'stop' });
    // 30 minutes in, the first request expires at 60 minutes: nothing is free yet.
    await expect(second.acquire()).rejects.toBeInstanceOf(RateLimitedError);
    clock.advance(30 * 60_000);
    await second.acquire();
    expect(second.remaining()).toBe(0);
  });

  it('queues concurrent callers instead of letting them all through', async () => {
    const clock = createFakeClock();
    const budget = new RateBudget({ limit: 2, intervalMs: 1000 }, { clock });
    const start = clock.now();
    await Promise.all([budget.acquire(), budget.acquire(), budget.acquire(), budget.acquire()]);
    // Two at t=0; the third waits for the window to slide; the fourth then fits beside it.
    expect(clock.sleeps).toEqual([1000]);
    expect(budget.snapshot().request_times).toEqual([start + 1000, start + 1000]);
  });
});

expect.extend({
  toHaveLength30OrFewer(received: unknown[]) {
    return { pass: received.length <= 30 && received.length > 0, message: () => `expected 1..30 entries, got ${received.length}` };
  },
});
declare module 'vitest' {
  interface Assertion {
    toHaveLength30OrFewer(): void;
  }
}
