// The client over real HTTP: request shaping, body handling, retries, classification, timeouts.

import { describe, expect, it } from 'vitest';
import { byBody, HttpError } from '../src/index.js';
import type { Harness } from './support/fixtures.js';
import { makeClient, useStrictServer } from './support/fixtures.js';
import type { TestServer } from './support/test-server.js';
import { startTestServer } from './support/test-server.js';

let server!: TestServer;
let h: Harness | undefined;
useStrictServer((started) => (server = started));

describe('request shaping', () => {
  it('joins the path onto the base URL keeping its path, and encodes the query with repeatable keys', async () => {
    server.on('/api/v1/items.json', { body: { ok: true } });
    h = makeClient(`${server.baseUrl}/api/`, { userAgent: 'tap-test/1.0' });
    const res = await h.client.request({ path: '/v1/items.json', query: { id: [1, 2], q: 'a b&c', skip: undefined, flag: true } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    const got = server.received[0]!;
    expect(got.query.getAll('id')).toEqual(['1', '2']);
    expect(got.query.get('q')).toBe('a b&c');
    expect(got.query.has('skip')).toBe(false);
    expect(got.query.get('flag')).toBe('true');
    expect(got.headers['user-agent']).toBe('tap-test/1.0');
    expect(got.headers['accept']).toBe('application/json');
  });

  it('lets connector headers override inferred ones, and request headers override both', async () => {
    server.always('/h', (r) => ({ body: { accept: r.headers['accept'], type: r.headers['content-type'], x: r.headers['x-extra'] } }));
    h = makeClient(server.baseUrl, {
      headers: { Accept: 'application/vnd.api+json', 'content-type': 'application/json; charset=utf-8', 'x-extra': 'client' },
    });
    const a = await h.client.request({ method: 'POST', path: '/h', body: ['c1'] });
    expect(a.body).toEqual({ accept: 'application/vnd.api+json', type: 'application/json; charset=utf-8', x: 'client' });
    const b = await h.client.request({ path: '/h', headers: { 'X-Extra': 'request' } });
    expect(b.body).toMatchObject({ x: 'request' });
  });

  it('sends objects as JSON and strings as they are, and returns text or raw bodies on request', async () => {
    server.on('/echo', (r) => ({ body: { method: r.method, type: r.headers['content-type'], got: r.body } }));
    server.on('/echo', (r) => ({ body: r.body }));
    server.on('/bytes', { body: 'abc' });
    h = makeClient(server.baseUrl);
    const json = await h.client.request({ method: 'delete', path: '/echo', body: ['c1', 'c2'] });
    expect(json.body).toEqual({ method: 'DELETE', type: 'application/json', got: '["c1","c2"]' });
    const text = await h.client.request({ method: 'POST', path: '/echo', body: 'plain', expect: 'text' });
    expect(text.body).toBe('plain');
    const raw = await h.client.request<Buffer>({ path: '/bytes', expect: 'raw' });
    expect(Buffer.isBuffer(raw.body)).toBe(true);
    expect(raw.body.toString()).toBe('abc');
  });
});

describe('retries', () => {
  it('retries a burst of 5xx with jittered exponential backoff, then succeeds', async () => {
    server.on('/flaky', { status: 503 }, { status: 502 }, { status: 500 }, { body: { done: true } });
    h = makeClient(server.baseUrl, { retry: { attempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 } });
    const res = await h.client.request({ path: '/flaky' });
    expect(res.body).toEqual({ done: true });
    expect(res.attempts).toBe(4);
    // random() = 0.5 -> half of 1s, 2s, 4s
    expect(h.clock.sleeps).toEqual([500, 1000, 2000]);
    expect(h.events.map((e) => [e.status, e.attempt, e.action])).toEqual([
      [503, 1, 'retry'],
      [502, 2, 'retry'],
      [500, 3, 'retry'],
      [200, 4, 'ok'],
    ]);
  });

  it('gives up after the configured attempts with a transient HttpError', async () => {
    server.always('/down', { status: 503 });
    h = makeClient(server.baseUrl, { retry: { attempts: 3 } });
    const error = await h.client.request({ path: '/down' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ blame: 'transient', status: 503, attempts: 3, method: 'GET' });
    expect((error as Error).message).toBe('GET /down failed after 3 attempts: the server had a temporary problem (HTTP 503).');
  });

  it('does not retry an auth failure and blames the config', async () => {
    server.on('/secret', { status: 401, body: { detail: 'no' } });
    h = makeClient(server.baseUrl);
    const error = await h.client.request({ path: '/secret' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ blame: 'config', status: 401, attempts: 1 });
    expect((error as Error).message).toMatch(
      /^GET \/secret failed: the server rejected the credentials \(HTTP 401: "no"\)\. Check the credentials/,
    );
    expect(server.received).toHaveLength(1);
  });

  it('honours Retry-After in seconds on a 503', async () => {
    server.on('/busy', { status: 503, headers: { 'retry-after': '7' } }, { body: [] });
    h = makeClient(server.baseUrl);
    await h.client.request({ path: '/busy' });
    expect(h.clock.sleeps).toEqual([7000]);
  });
});

describe('bodies the client cannot trust', () => {
  it('retries a malformed JSON body, then fails with a sentence quoting its start', async () => {
    server.always('/broken', { body: '{"data": [1, 2' });
    h = makeClient(server.baseUrl, { retry: { attempts: 2 } });
    const error = await h.client.request({ path: '/broken' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).message).toMatch(
      /^GET \/broken failed after 2 attempts: the response body is not valid JSON \(.+\); it starts: "\{\\"data\\": \[1, 2"\.$/,
    );
    expect((error as HttpError).blame).toBe('transient');
  });

  describe('an HTML page answered with HTTP 200 where the API answers JSON (a login page, a proxy, the vendor’s website)', () => {
    const signIn = '<!DOCTYPE html>\n<html><head><title>Sign in – Example SSO</title></head><body><form>…</form></body></html>';

    it('is tried once more, then stops with a config error naming the base URL and the API, not a parse error', async () => {
      server.always('/portal/api/result/7', { headers: { 'content-type': 'text/html; charset=utf-8' }, body: signIn });
      h = makeClient(`${server.baseUrl}/portal`, { apiName: 'CBTHost' });
      const error = (await h.client.request({ path: '/api/result/7' }).catch((e: unknown) => e)) as HttpError;
      expect(error).toBeInstanceOf(HttpError);
      expect(error.blame).toBe('config');
      expect(error.message).toBe(
        `GET /portal/api/result/7 failed: ${server.baseUrl}/portal answered HTTP 200 with an HTML page titled "Sign in – Example SSO", not the CBTHost JSON API; check the base URL in your config: it may point at a login page, a proxy or the vendor's website instead of the API.`,
      );
      expect(server.received).toHaveLength(2);
      expect(h.lines.join('\n')).not.toContain('not valid JSON');
    });

    it('is known by its markup when the content type says otherwise, and names the API plainly without a name', async () => {
      server.always('/rows', { headers: { 'content-type': 'application/json' }, body: '\n  <html><body><h1>Welcome</h1></body></html>' });
      h = makeClient(server.baseUrl);
      await expect(h.client.request({ path: '/rows' })).rejects.toThrow(
        `${server.baseUrl} answered HTTP 200 with an HTML page (it starts: "<html><body><h1>Welcome</h1></body></html>"), not the JSON API;`,
      );
    });

    it('passes when the second try brings the JSON', async () => {
      server.on('/rows', { headers: { 'content-type': 'text/html' }, body: signIn }, { body: { rows: [] } });
      h = makeClient(server.baseUrl);
      expect((await h.client.request({ path: '/rows' })).body).toEqual({ rows: [] });
      expect(h.lines.some((l) => l.includes('the response is an HTML page titled "Sign in – Example SSO", not JSON; retry 1 of 4'))).toBe(
        true,
      );
    });
  });

  it('lets a connector classify an error sent with HTTP 200', async () => {
    server.on('/v1.json', { body: { status: 'error', error: { error_code: 'apiKeyAuthFail', error_message: 'bad key' } } });
    h = makeClient(server.baseUrl, {
      classify: byBody((body) => {
        const b = body as { status?: string; error?: { error_code?: string } };
        if (b.status === 'error' && b.error?.error_code === 'apiKeyAuthFail') {
          return {
            action: 'fail',
            blame: 'config',
            message: 'the API key was rejected (apiKeyAuthFail). Check api_key and api_secret in your config.',
          };
        }
        return undefined;
      }),
    });
    await expect(h.client.request({ path: '/v1.json' })).rejects.toThrow(
      'GET /v1.json failed: the API key was rejected (apiKeyAuthFail). Check api_key and api_secret in your config.',
    );
  });
});

describe('timeouts and dropped connections', () => {
  // undici's header timer ticks at ~0.5 s resolution, so these two tests cost about a second each.
  it('reports a headers timeout plainly', async () => {
    server.always('/slow', { delayMs: 3000, body: {} });
    h = makeClient(server.baseUrl, { timeouts: { headersMs: 50 }, retry: { attempts: 1 } });
    const error = await h.client.request({ path: '/slow' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ blame: 'transient', status: undefined, attempts: 1 });
    expect((error as Error).message).toBe('GET /slow failed after 1 attempt: timed out waiting for the response.');
    expect(h.events.map((e) => e.errorCode)).toEqual(['UND_ERR_HEADERS_TIMEOUT']);
  });

  it('retries after a timeout', async () => {
    server.on('/slow', { delayMs: 3000, body: {} }, { body: { second: true } });
    h = makeClient(server.baseUrl, { timeouts: { headersMs: 50 } });
    const res = await h.client.request({ path: '/slow' });
    expect(res.body).toEqual({ second: true });
    expect(res.attempts).toBe(2);
  });

  it('retries when the body stalls mid-way', async () => {
    server.on('/stall', { stallBodyMs: 3000, body: { items: [1, 2, 3, 4] } }, { body: { items: [1, 2, 3, 4] } });
    h = makeClient(server.baseUrl, { timeouts: { bodyMs: 50 } });
    const res = await h.client.request({ path: '/stall' });
    expect(res.body).toEqual({ items: [1, 2, 3, 4] });
    expect(h.events.map((e) => [e.errorCode, e.action])).toEqual([
      ['UND_ERR_BODY_TIMEOUT', 'retry'],
      [undefined, 'ok'],
    ]);
  });

  it('retries a dropped connection', async () => {
    server.on('/drop', { drop: true }, { body: { fine: 1 } });
    h = makeClient(server.baseUrl);
    const res = await h.client.request({ path: '/drop' });
    expect(res.body).toEqual({ fine: 1 });
    expect(res.attempts).toBe(2);
  });
});

describe('an address nobody answers', () => {
  it('says so in plain words and points at the base URL', async () => {
    const closed = await startTestServer();
    const address = closed.baseUrl;
    await closed.close();
    h = makeClient(address, { retry: { attempts: 2 } });
    const error = await h.client.request({ path: '/v1.json' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ blame: 'transient', status: undefined });
    expect((error as Error).message).toBe(
      'GET /v1.json failed after 2 attempts: the server refused the connection (ECONNREFUSED); check the base URL in your config.',
    );
  });
});
