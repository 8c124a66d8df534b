// Every request ends: a total deadline per attempt (a server trickling its answer cannot hold a run
// forever) and a bound on the bytes read (a huge page is refused while it streams, never buffered whole).

import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUTS, HttpError } from '../src/index.js';
import type { Harness } from './support/fixtures.js';
import { makeClient, useStrictServer } from './support/fixtures.js';
import type { TestServer } from './support/test-server.js';

let server!: TestServer;
let h: Harness | undefined;
useStrictServer((started) => (server = started));

const MB = 1024 * 1024;

/** Headers at once, then one byte of a JSON body every `everyMs`, for as long as the client listens. */
function trickle(everyMs: number) {
  return (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"data": [');
    const timer = setInterval(() => res.write(' '), everyMs);
    res.on('close', () => clearInterval(timer));
  };
}

/**
 * A JSON body of `totalBytes`, written in 64 KB chunks as fast as the client reads them (no
 * Content-Length: chunked); `sent.bytes` counts what the client took before it hung up.
 */
function bigBody(totalBytes: number, sent: { bytes: number }, headers: Record<string, string> = {}, status = 200) {
  return (res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    const chunk = Buffer.alloc(64 * 1024, ' ');
    let closed = false;
    res.on('close', () => (closed = true));
    const pump = () => {
      while (!closed) {
        if (sent.bytes === 0) {
          res.write('{"data": []');
          sent.bytes += 11;
        }
        const left = totalBytes - 1 - sent.bytes;
        if (left <= 0) {
          res.end('}');
          return;
        }
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        sent.bytes += piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  };
}

describe('the request deadline', () => {
  it('ends an answer that trickles in, retries it, and fails with one sentence naming the URL without secrets', async () => {
    server.always('/trickle', { respond: trickle(100) });
    h = makeClient(server.baseUrl, { timeouts: { totalMs: 600 }, retry: { attempts: 2 }, secrets: { values: ['s3cret-key-value'] } });
    const error = await h.client.request({ path: '/trickle', query: { page: 2, api_key: 's3cret-key-value' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    // The headers (200) arrived; the body never finished.
    expect(error).toMatchObject({ blame: 'transient', status: 200, attempts: 2 });
    expect((error as Error).message).toBe(
      `GET /trickle failed after 2 attempts: the answer from ${server.baseUrl}/trickle?page=2&api_key=[REDACTED] did not arrive in full within the request deadline of 0.6 s.`,
    );
    expect(h.events.map((e) => [e.errorCode, e.action])).toEqual([
      ['REQUEST_DEADLINE', 'retry'],
      ['REQUEST_DEADLINE', 'retry'],
    ]);
    expect(h.lines.join('\n')).not.toContain('s3cret');
  });

  it('retries a trickling answer and takes the next one that arrives in time', async () => {
    server.on('/trickle', { respond: trickle(100) }, { body: { data: [1] } });
    h = makeClient(server.baseUrl, { timeouts: { totalMs: 600 } });
    const res = await h.client.request({ path: '/trickle' });
    expect(res.body).toEqual({ data: [1] });
    expect(res.attempts).toBe(2);
  });

  it('names the setting that changes the deadline when the client is told its name', async () => {
    server.always('/trickle', { respond: trickle(100) });
    h = makeClient(server.baseUrl, { timeouts: { totalMs: 600 }, retry: { attempts: 1 }, limitSettings: { totalMs: 'request_timeout' } });
    await expect(h.client.request({ path: '/trickle' })).rejects.toThrow(
      `GET /trickle failed after 1 attempt: the answer from ${server.baseUrl}/trickle did not arrive in full within the request deadline of 0.6 s (request_timeout).`,
    );
  });

  it('also ends a wait for headers that never come', async () => {
    server.always('/silent', { delayMs: 5000, body: {} });
    h = makeClient(server.baseUrl, { timeouts: { totalMs: 300 }, retry: { attempts: 1 } });
    const error = await h.client.request({ path: '/silent' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ blame: 'transient', status: undefined, attempts: 1 });
    expect((error as Error).message).toBe(
      `GET /silent failed after 1 attempt: the answer from ${server.baseUrl}/silent did not arrive in full within the request deadline of 0.3 s.`,
    );
    expect(h.lines[0]).toMatch(/^warn GET \/silent REQUEST_DEADLINE \d+ms attempt=1 -> retry$/);
  });

  it('is five minutes unless configured, so an hourly run always ends', () => {
    expect(DEFAULT_TIMEOUTS.totalMs).toBe(300_000);
  });
});

describe('the response size limit', () => {
  it('refuses a body without Content-Length as soon as it passes the limit, without reading the rest, and does not retry', async () => {
    const sent = { bytes: 0 };
    server.always('/big', { respond: bigBody(64 * MB, sent) });
    h = makeClient(server.baseUrl, { maxResponseBytes: 1 * MB, limitSettings: { maxResponseBytes: 'max_response_mb' } });
    const error = await h.client.request({ path: '/big', query: { limit: 200 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ blame: 'config', status: 200, attempts: 1 });
    expect((error as Error).message).toBe(
      `GET /big failed: the answer from ${server.baseUrl}/big?limit=200 is larger than the response size limit of 1 MB; raise max_response_mb if pages this large are expected, or ask for smaller pages.`,
    );
    // The client hung up after about a megabyte; the server could not push the 64 MB through.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sent.bytes).toBeLessThan(16 * MB);
    expect(server.received).toHaveLength(1);
  });

  it('refuses a body whose Content-Length is over the limit before reading any of it', async () => {
    server.always('/declared', {
      respond: (res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(100 * MB) });
        res.write('{"data": [');
        res.flushHeaders();
      },
    });
    h = makeClient(server.baseUrl, { maxResponseBytes: 1 * MB });
    const error = await h.client.request({ path: '/declared' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ blame: 'config', status: 200, attempts: 1 });
    expect((error as Error).message).toBe(
      `GET /declared failed: the answer from ${server.baseUrl}/declared is larger than the response size limit of 1 MB (its Content-Length says 100 MB); raise the limit if pages this large are expected, or ask for smaller pages.`,
    );
  });

  it('reads a body just under the limit', async () => {
    const sent = { bytes: 0 };
    server.always('/fits', { respond: bigBody(MB - 1, sent) });
    h = makeClient(server.baseUrl, { maxResponseBytes: MB });
    const res = await h.client.request<{ data: unknown[] }>({ path: '/fits' });
    expect(res.body).toEqual({ data: [] });
  });

  it('applies to raw bodies too', async () => {
    const sent = { bytes: 0 };
    server.always('/file', { respond: bigBody(3 * MB, sent) });
    h = makeClient(server.baseUrl, { maxResponseBytes: MB });
    await expect(h.client.request({ path: '/file', expect: 'raw' })).rejects.toMatchObject({ blame: 'config', status: 200 });
  });

  it('keeps only the start of an oversized error page, so a 5xx is still retried', async () => {
    const sent = { bytes: 0 };
    server.on('/flaky', { respond: bigBody(3 * MB, sent, {}, 503) }, { body: { data: [1] } });
    h = makeClient(server.baseUrl, { maxResponseBytes: MB });
    const res = await h.client.request({ path: '/flaky' });
    expect(res.body).toEqual({ data: [1] });
    expect(h.events.map((e) => [e.status, e.action])).toEqual([
      [503, 'retry'],
      [200, 'ok'],
    ]);
  });

  it('is 64 MB unless configured', () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(64 * MB);
  });
});
