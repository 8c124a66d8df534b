// Auth strategies over real HTTP (signed query params, headers, a JWT fetched once and refreshed once)
// and redaction of every secret from log lines and error messages.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Auth, HttpClient } from '../src/index.js';
import { byStatus, createRedactor, HttpError, headerAuth, queryAuth, tokenAuth } from '../src/index.js';
import type { Harness } from './support/fixtures.js';
import { makeClient, useStrictServer } from './support/fixtures.js';
import type { ReceivedRequest, TestServer } from './support/test-server.js';

let server!: TestServer;
let h: Harness | undefined;
useStrictServer((started) => (server = started));

const API_KEY = 'ck_live_1234567890';
const API_SECRET = 'shh-very-secret-42';

/** ClassMarker-style signing: sha256(api_key + api_secret + unix seconds), fresh for every attempt. */
function classMarkerAuth(now: () => number): Auth {
  return queryAuth(() => {
    const timestamp = String(Math.floor(now() / 1000));
    const signature = createHash('sha256')
      .update(API_KEY + API_SECRET + timestamp)
      .digest('hex');
    return { api_key: API_KEY, signature, timestamp };
  }, ['api_key', 'signature']);
}

describe('query-parameter auth', () => {
  it('signs every attempt afresh, so a retry carries a new timestamp and signature', async () => {
    server.on('/v1.json', { status: 503 }, { body: { status: 'ok' } });
    let clockNow = (): number => 0;
    h = makeClient(server.baseUrl, { auth: classMarkerAuth(() => clockNow()), retry: { baseDelayMs: 4000 } });
    clockNow = () => h!.clock.now();
    await h.client.request({ path: '/v1.json', query: { limit: 200 } });
    const [first, second] = server.received as [ReceivedRequest, ReceivedRequest];
    expect(first.query.get('api_key')).toBe(API_KEY);
    expect(Number(second.query.get('timestamp')) - Number(first.query.get('timestamp'))).toBe(2);
    expect(second.query.get('signature')).toBe(
      createHash('sha256')
        .update(API_KEY + API_SECRET + second.query.get('timestamp'))
        .digest('hex'),
    );
    expect(second.query.get('signature')).not.toBe(first.query.get('signature'));
    expect(second.query.get('limit')).toBe('200');
  });
});

describe('header auth', () => {
  it('sends static and computed headers, and redacts their values', async () => {
    server.on('/api/result', (r) => ({ body: { got: [r.headers['cbt-pass-code'], r.headers['test-id']] } }));
    h = makeClient(server.baseUrl, {
      auth: headerAuth({ 'cbt-pass-code': 'cbthost-pssi-0069', 'test-id': async () => 'exam@school.test' }),
    });
    const res = await h.client.request({ path: '/api/result' });
    expect(res.body).toEqual({ got: ['cbthost-pssi-0069', 'exam@school.test'] });
    expect(h.client.redact('pass code cbthost-pssi-0069')).toBe('pass code [REDACTED]');
  });
});

describe('token auth (Testpress JWT)', () => {
  const username = 'admin';
  const password = 'correct horse battery staple';

  function testpressAuth(calls: { count: number }): Auth {
    return tokenAuth({
      scheme: 'JWT',
      fetchToken: async ({ http }) => {
        calls.count++;
        const res = await http.request<{ token: string }>({
          method: 'POST',
          path: '/api/v2.5/auth-token/',
          body: { username, password },
          auth: false,
          classify: byStatus({
            400: {
              action: 'fail',
              blame: 'config',
              message: 'Testpress rejected the username or password. Check username and password in your config',
            },
          }),
        });
        return res.body.token;
      },
    });
  }
  // Testpress answers an expired token with 403 on older versions (docs/providers/testpress.md).
  const expiredTokenIs403 = byStatus({
    403: (r) =>
      /expired|signature/i.test(r.text)
        ? { action: 'refresh_auth', blame: 'config', message: 'the Testpress token was refused' }
        : undefined,
  });

  it('fetches the token once and reuses it', async () => {
    let n = 0;
    server.always('/api/v2.5/auth-token/', () => ({ body: { token: `tok-${++n}-abcdef` } }));
    server.always('/api/v2.5/admin/attempts/', (r) => ({ body: { auth: r.headers['authorization'] } }));
    const calls = { count: 0 };
    h = makeClient(server.baseUrl, { auth: testpressAuth(calls) });
    const a = await h.client.request({ path: '/api/v2.5/admin/attempts/' });
    const b = await h.client.request({ path: '/api/v2.5/admin/attempts/' });
    expect(a.body).toEqual({ auth: 'JWT tok-1-abcdef' });
    expect(b.body).toEqual({ auth: 'JWT tok-1-abcdef' });
    expect(calls.count).toBe(1);
    expect(JSON.parse(server.received[0]!.body)).toEqual({ username, password });
  });

  it('re-authenticates once on 401 and retries with the new token', async () => {
    let n = 0;
    server.always('/api/v2.5/auth-token/', () => ({ body: { token: `tok-${++n}-abcdef` } }));
    server.on('/api/v2.5/admin/attempts/', { status: 401, body: { detail: 'Signature has expired.' } }, (r) => ({
      body: { auth: r.headers['authorization'] },
    }));
    const calls = { count: 0 };
    h = makeClient(server.baseUrl, { auth: testpressAuth(calls) });
    const res = await h.client.request({ path: '/api/v2.5/admin/attempts/' });
    expect(res.body).toEqual({ auth: 'JWT tok-2-abcdef' });
    expect(calls.count).toBe(2);
  });

  it('treats an expired-token 403 the same way when the connector says so', async () => {
    let n = 0;
    server.always('/api/v2.5/auth-token/', () => ({ body: { token: `tok-${++n}-abcdef` } }));
    server.on('/api/v2.1/exams/', { status: 403, body: { detail: 'Signature has expired.' } }, { body: { results: [] } });
    h = makeClient(server.baseUrl, { auth: testpressAuth({ count: 0 }), classify: expiredTokenIs403 });
    await expect(h.client.request({ path: '/api/v2.1/exams/' })).resolves.toMatchObject({ status: 200 });
  });

  it('fails with a clear config error when the new token is refused too', async () => {
    let n = 0;
    server.always('/api/v2.5/auth-token/', () => ({ body: { token: `tok-${++n}-abcdef` } }));
    server.always('/api/v2.5/admin/attempts/', { status: 401, body: { detail: 'Invalid signature.' } });
    h = makeClient(server.baseUrl, { auth: testpressAuth({ count: 0 }) });
    const error = (await h.client.request({ path: '/api/v2.5/admin/attempts/' }).catch((e: unknown) => e)) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.blame).toBe('config');
    expect(error.message).toBe(
      'GET /api/v2.5/admin/attempts/ failed: the server rejected the credentials (HTTP 401: "Invalid signature."). Check the credentials in your config (still rejected after signing in again).',
    );
    expect(server.received.filter((r) => r.path === '/api/v2.5/admin/attempts/')).toHaveLength(2);
  });

  it('reports wrong credentials at the token endpoint as a config error, without the password', async () => {
    server.always('/api/v2.5/auth-token/', { status: 400, body: { non_field_errors: ['Unable to log in with provided credentials.'] } });
    h = makeClient(server.baseUrl, { auth: testpressAuth({ count: 0 }), secrets: { values: [password] } });
    const error = (await h.client.request({ path: '/api/v2.5/admin/attempts/' }).catch((e: unknown) => e)) as HttpError;
    expect(error.blame).toBe('config');
    expect(error.message).toBe(
      'POST /api/v2.5/auth-token/ failed: Testpress rejected the username or password. Check username and password in your config.',
    );
  });

  it('shares one re-authentication between concurrent requests', async () => {
    let n = 0;
    server.always('/api/v2.5/auth-token/', () => ({ body: { token: `tok-${++n}-abcdef` } }));
    server.always('/a', (r) => (r.headers['authorization'] === 'JWT tok-1-abcdef' ? { status: 401 } : { body: {} }));
    const calls = { count: 0 };
    h = makeClient(server.baseUrl, { auth: testpressAuth(calls) });
    await h.client.request({ path: '/a' }); // warm the cache with tok-1
    await Promise.all([h.client.request({ path: '/a' }), h.client.request({ path: '/a' }), h.client.request({ path: '/a' })]);
    expect(calls.count).toBe(2);
  });
});

describe('redaction', () => {
  function classMarkerClient(extra: Parameters<typeof makeClient>[1] = {}): Harness {
    return makeClient(server.baseUrl, {
      auth: classMarkerAuth(() => Date.now()),
      secrets: { values: [API_KEY, API_SECRET] },
      retry: { attempts: 2 },
      ...extra,
    });
  }
  const allSecrets = (r: ReceivedRequest) => [API_KEY, API_SECRET, r.query.get('signature')!];

  it('keeps keys, secrets and signatures out of every log line and error, even when the server echoes them', async () => {
    server.always('/v1/links/recent_results.json', (r) => ({
      status: 500,
      body: `internal error for ${r.url} with secret ${API_SECRET}`,
    }));
    h = classMarkerClient();
    const error = (await h.client
      .request({ path: '/v1/links/recent_results.json', query: { limit: 200 } })
      .catch((e: unknown) => e)) as HttpError;
    h.client.log.info(`debugging ${API_SECRET} and api_key=${API_KEY}`);
    const everything = [error.message, error.url, ...h.lines, ...h.events.map((e) => JSON.stringify(e))].join('\n');
    for (const r of server.received) for (const secret of allSecrets(r)) expect(everything).not.toContain(secret);
    expect(everything).toContain('[REDACTED]');
    expect(h.lines[0]).toMatch(/^warn GET \/v1\/links\/recent_results\.json\?limit=200 500 \d+ms attempt=1 -> retry$/);
  });

  it('redacts server error bodies quoted in a final error', async () => {
    server.always('/v1.json', (r) => ({ status: 400, body: `bad request: ${r.url}` }));
    h = classMarkerClient();
    const error = (await h.client.request({ path: '/v1.json' }).catch((e: unknown) => e)) as HttpError;
    expect(error.message).toMatch(
      /^GET \/v1\.json failed: the server rejected the request \(HTTP 400\): bad request: \/v1\.json\?api_key=\[REDACTED\]&signature=\[REDACTED\]&timestamp=\d+\.$/,
    );
  });
});

describe('createRedactor', () => {
  const r = createRedactor({ values: ['p@ss word!', 'ab'], names: ['code'] });
  it('redacts raw and URL-encoded values', () => {
    expect(r.redact('pw=p@ss word! or p%40ss%20word! or p%40ss+word!')).toBe('pw=[REDACTED] or [REDACTED] or [REDACTED]');
  });
  it('ignores values too short to be secrets', () => expect(r.redact('about')).toBe('about'));
  it('redacts values of secret names in queries, JSON and headers', () => {
    expect(r.redact('/index.php?task=api.queryResults&code=XYZ123&eid=4')).toBe('/index.php?task=api.queryResults&code=[REDACTED]&eid=4');
    expect(r.redact('{"username":"admin","password":"hunter22"}')).toBe('{"username":"admin","password":"[REDACTED]"}');
    expect(r.redact('Authorization: JWT eyJhbGciOi.x.y')).toBe('Authorization: [REDACTED]');
    expect(r.redact('token=abc 200 12ms')).toBe('token=[REDACTED] 200 12ms');
  });
  it('redacts single-quoted values and secrets as they appear inside JSON strings', () => {
    expect(r.redact("{'password': 'hunter22'}")).toBe("{'password': '[REDACTED]'}");
    const quoted = createRedactor({ values: ['a"b\\c-secret'] });
    expect(quoted.redact(JSON.stringify({ echo: 'a"b\\c-secret' }))).toBe('{"echo":"[REDACTED]"}');
  });
  it('learns secrets at run time', () => {
    const late = createRedactor();
    late.addSecret('fresh-token-value');
    expect(late.redact('got fresh-token-value')).toBe('got [REDACTED]');
  });
});

// Keep the HttpClient type in use so the import documents what `fetchToken` receives.
export type { HttpClient };
