// Strict about envelopes: a 2xx body is a page only when the API's declared success shape is
// recognised; every other answer is classified (a vendor error, null, HTML, an unknown shape), never ok.

import { describe, expect, it } from 'vitest';
import { HttpError, type Paginator, successShape, vendorMessage } from '../src/index.js';
import type { Harness } from './support/fixtures.js';
import { makeClient, useStrictServer } from './support/fixtures.js';
import type { TestServer } from './support/test-server.js';

let server!: TestServer;
useStrictServer((started) => (server = started));

const okEnvelope = successShape('an object with "status": "ok"', (body) => (body as { status?: unknown } | null)?.status === 'ok');
const json = (text: string) => ({ headers: { 'content-type': 'application/json' }, body: text });

function client(): Harness {
  return makeClient(server.baseUrl, { apiName: 'Vendor', success: okEnvelope, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
}

async function failure(h: Harness, path = '/list'): Promise<HttpError> {
  const error = await h.client.request({ path }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HttpError);
  return error as HttpError;
}

describe('a declared success shape', () => {
  it('returns a recognised body as ok', async () => {
    server.on('/list', { body: { status: 'ok', results: [] } });
    const res = await client().client.request({ path: '/list' });
    expect(res.outcome.action).toBe('ok');
  });

  it.each([
    ['{"status":"error","msg": ...}', { status: 'error', msg: 'Invalid code' }, 'Invalid code'],
    ['{"error": "..."}', { error: 'Account suspended' }, 'Account suspended'],
    ['{"error": {"message": ...}}', { error: { code: 7, message: 'Key expired' } }, 'Key expired'],
    [
      'ClassMarker {"status":"error","error":{"error_message"}}',
      { status: 'error', error: { error_code: 'apiKeyAuthFail', error_message: 'Access denied.' } },
      'Access denied.',
    ],
    [
      'CBTHost {"serverstatus": 404, "message": ...} on 200',
      { serverstatus: 404, message: 'cbt pass code is invalid, or no record found' },
      'cbt pass code is invalid, or no record found',
    ],
    ['DRF {"detail": ...} on 200', { detail: 'Not found.' }, 'Not found.'],
    ['{"success": false}', { success: false }, undefined],
  ])('stops on a vendor error served with HTTP 200 (%s): fail, config, in the vendor’s words', async (_name, body, words) => {
    server.on('/list', { body });
    const h = client();
    const error = await failure(h);
    expect(error.blame).toBe('config');
    expect(error.attempts).toBe(1);
    expect(error.message).toMatch(/^GET \/list failed: Vendor answered HTTP 200 with an error/);
    if (words !== undefined) expect(error.message).toContain(JSON.stringify(words));
    expect(error.message).toContain('not an object with "status": "ok"');
  });

  it('stops on a bare JSON string, quoting it', async () => {
    server.on('/list', json('"Invalid verification code"'));
    const error = await failure(client());
    expect(error.blame).toBe('config');
    expect(error.message).toContain('"Invalid verification code"');
  });

  it('retries JSON null as a passing fault, then stops with a transient blame', async () => {
    server.on('/list', json('null'), json('null'));
    const h = client();
    const error = await failure(h);
    expect(error.blame).toBe('transient');
    expect(error.attempts).toBe(2);
    expect(error.message).toContain('Vendor answered HTTP 200 with JSON null instead of an object with "status": "ok"');
  });

  it('recovers when the retry after null is a recognised page', async () => {
    server.on('/list', json('null'), { body: { status: 'ok' } });
    const res = await client().client.request({ path: '/list' });
    expect(res.attempts).toBe(2);
  });

  it('retries an error that reports a 5xx inside, and waits out one that reports 429 inside', async () => {
    server.on('/five', { body: { serverstatus: 503, message: 'Maintenance' } }, { body: { status: 'ok' } });
    server.on('/rate', { body: { status: 'error', code: 429, message: 'Slow down' } }, { body: { status: 'ok' } });
    const h = client();
    expect((await h.client.request({ path: '/five' })).attempts).toBe(2);
    expect((await h.client.request({ path: '/rate' })).attempts).toBe(2);
    expect(h.lines.join('\n')).toContain('(serverstatus 503): "Maintenance"');
  });

  it.each([
    ['a number', '42', 'the number 42'],
    ['an array where an object is expected', '[1,2]', 'a JSON array of 2 items'],
    ['an object with no error in it', '{"items":[],"total":0}', 'an object with keys "items", "total"'],
  ])('stops with a system blame on %s: a shape the tap does not read', async (_name, text, described) => {
    server.on('/list', json(text));
    const error = await failure(client());
    expect(error.blame).toBe('system');
    expect(error.message).toContain(`Vendor answered HTTP 200 with ${described}, not an object with "status": "ok"`);
  });

  it('lets a connector classifier name a documented answer first (here: skip)', async () => {
    server.on('/list', { body: { status: 'error', message: 'No results found' } });
    const h = client();
    const res = await h.client.request({
      path: '/list',
      classify: (input) =>
        input.kind === 'response' && vendorMessage(input.body) === 'No results found'
          ? { action: 'skip', blame: 'config', message: 'none' }
          : undefined,
    });
    expect(res.outcome.action).toBe('skip');
  });

  it('takes a per-request shape, or none (null), for endpoints that answer otherwise', async () => {
    server.on('/token', { body: { token: 'abc' } });
    server.on('/raw', { body: { anything: true } });
    const h = client();
    const token = await h.client.request({
      path: '/token',
      success: successShape('a token', (b) => typeof (b as { token?: unknown })?.token === 'string'),
    });
    expect(token.body).toEqual({ token: 'abc' });
    expect((await h.client.request({ path: '/raw', success: null })).body).toEqual({ anything: true });
  });

  it('stops a paginated listing at an unrecognised page instead of reading it as the last, empty page', async () => {
    server.on('/pages', { body: { status: 'ok', items: [1], more: true } }, { body: { status: 'error', msg: 'Database busy' } });
    const h = client();
    const seen: unknown[] = [];
    const paging: Paginator = {
      first: () => ({ query: { page: 1 } }),
      next: (page) => ({ query: { page: (page.index ?? 0) + 2 } }),
    };
    const run = async () => {
      for await (const page of h.client.paginate({ path: '/pages' }, paging, (body) => (body as { items?: number[] }).items ?? []))
        seen.push(...page.records);
    };
    await expect(run()).rejects.toThrow('Vendor answered HTTP 200 with an error: "Database busy"');
    expect(seen).toEqual([1]);
  });
});

describe('without a declared shape', () => {
  it('still never reads JSON null as ok', async () => {
    server.on('/x', json('null'), json('null'), json('null'), json('null'), json('null'));
    const h = makeClient(server.baseUrl, { retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 1 } });
    const error = await failure(h, '/x');
    expect(error.blame).toBe('transient');
    expect(error.message).toContain('answered HTTP 200 with JSON null');
  });

  it('quotes the vendor’s words in a 403 or 404 JSON body', async () => {
    server.on('/gone', { status: 404, body: { detail: 'Not found.' } });
    server.on('/no', { status: 403, body: { status: 'error', error: { message: 'Plan expired' } } });
    const h = makeClient(server.baseUrl);
    expect((await failure(h, '/gone')).message).toContain('(HTTP 404: "Not found.")');
    expect((await failure(h, '/no')).message).toContain('(HTTP 403: "Plan expired")');
  });
});

describe('vendorMessage', () => {
  it('reads the words from whichever key holds them', () => {
    expect(vendorMessage({ message: 'a' })).toBe('a');
    expect(vendorMessage({ msg: 'b' })).toBe('b');
    expect(vendorMessage({ error: 'c' })).toBe('c');
    expect(vendorMessage({ error: { message: 'd' } })).toBe('d');
    expect(vendorMessage({ errors: [{ message: 'e1' }, 'e2'] })).toBe('e1; e2');
    expect(vendorMessage({ detail: 'f' })).toBe('f');
    expect(vendorMessage({ non_field_errors: ['Unable to log in.'] })).toBe('Unable to log in.');
    expect(vendorMessage({ state: ['Select a valid choice.'] })).toBe('state: Select a valid choice.');
    expect(vendorMessage({ status: 'error' })).toBeUndefined();
    expect(vendorMessage(null)).toBeUndefined();
  });
});
