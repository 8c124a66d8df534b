// Settings every tap accepts: request_timeout (a run always ends, however slowly a server answers)
// and max_response_mb (a huge page is refused, never buffered whole).
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineApi, defineTap } from '../src/index.js';
import { jsonFile, runCli } from './support/run-cli.js';

const api = defineApi({
  config: z.object({ base_url: z.string(), api_key: z.string() }),
  baseUrl: (config) => config.base_url,
  // Quick retries, so the test does not sit through the default backoff.
  http: () => ({ retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 } }),
  records: 'data',
});
const items = api.stream({ name: 'items', path: '/items', key: ['id'], record: z.object({ id: z.number().int() }), pagination: null });
const tap = defineTap({ name: 'tap-limits', description: 'One stream.', version: '0.0.1', api, streams: [items] });

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server answering every request with `respond`; returns its base URL. */
async function serve(respond: (res: ServerResponse) => void): Promise<string> {
  server = createServer((_req, res) => respond(res));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Headers at once, then a byte every 100 ms, for as long as the client listens. */
function trickle(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"data": [');
  const timer = setInterval(() => res.write(' '), 100);
  res.on('close', () => clearInterval(timer));
}

/** A 3 MB page without Content-Length. */
function threeMegabytes(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(`{"data": [], "padding": "${'x'.repeat(3 * 1024 * 1024)}"}`);
}

describe('request_timeout', () => {
  it('is listed by --about with its default, like every shared setting', async () => {
    const run = await runCli(tap, ['--about', '--format', 'json']);
    const settings = JSON.parse(run.stdout).settings;
    expect(settings.properties.request_timeout).toMatchObject({ type: 'number', default: 300 });
    expect(settings.properties.request_timeout.description).toMatch(/seconds/i);
    expect(settings.properties.max_response_mb).toMatchObject({ type: 'number', default: 64 });
    // The tap's own settings come first, and only they are required.
    expect(Object.keys(settings.properties)).toEqual(['base_url', 'api_key', 'request_timeout', 'max_response_mb']);
    expect(settings.required).toEqual(['base_url', 'api_key']);
    const markdown = await runCli(tap, ['--about', '--format', 'markdown']);
    expect(markdown.stdout).toMatch(/\| request_timeout \| no \| 300 \|/);
  });

  it('ends a run whose server trickles its answer: retried, then exit 4 with one sentence naming the URL and the setting', async () => {
    const baseUrl = await serve(trickle);
    const run = await runCli(tap, ['--config', jsonFile({ base_url: baseUrl, api_key: 'key-s3cret-1234', request_timeout: 0.5 })]);
    expect(run.code).toBe(4);
    const critical = run.stderr.split('\n').filter((line) => line.includes('CRITICAL'));
    expect(critical).toHaveLength(1);
    expect(critical[0]).toContain(
      `GET /items failed after 2 attempts: the answer from ${baseUrl}/items did not arrive in full within the request deadline of 0.5 s (request_timeout).`,
    );
    expect(run.stderr).not.toContain('key-s3cret-1234');
  });

  it('can come from the environment, as a number', async () => {
    const baseUrl = await serve(trickle);
    const run = await runCli(tap, ['--config', jsonFile({ base_url: baseUrl, api_key: 'k' })], { TAP_LIMITS_REQUEST_TIMEOUT: '0.5' });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('within the request deadline of 0.5 s (request_timeout)');
  });

  it('refuses a value that is not a positive number of seconds, naming the setting', async () => {
    const run = await runCli(tap, [
      '--config',
      jsonFile({ base_url: 'http://127.0.0.1:9', api_key: 'k', request_timeout: 0, max_response_mb: 'lots' }),
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/CRITICAL Invalid config: "request_timeout" .*; "max_response_mb" is invalid: expected a number of MB\./);
  });
});

describe('max_response_mb', () => {
  it('refuses a page over the limit with exit 3 and one sentence naming the URL, the limit and the setting', async () => {
    const baseUrl = await serve(threeMegabytes);
    const run = await runCli(tap, ['--config', jsonFile({ base_url: baseUrl, api_key: 'k', max_response_mb: 1 })]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      `CRITICAL GET /items failed: the answer from ${baseUrl}/items is larger than the response size limit of 1 MB; raise max_response_mb if pages this large are expected, or ask for smaller pages.`,
    );
  });

  it('reads the same page when the limit allows it (a number written as text too)', async () => {
    const baseUrl = await serve(threeMegabytes);
    const run = await runCli(tap, ['--config', jsonFile({ base_url: baseUrl, api_key: 'k', max_response_mb: '4' })]);
    expect(run.code).toBe(0);
  });
});
