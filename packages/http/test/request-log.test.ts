// The request log: one line per attempt, METRIC lines in the Singer SDK shape, and skipped resources.

import { describe, expect, it } from 'vitest';
import type { RequestEvent } from '../src/index.js';
import { byStatus, createStderrLogger, formatRequestMetric, nextUrlPaging, tokenAuth } from '../src/index.js';
import type { Harness } from './support/fixtures.js';
import { makeClient, useStrictServer } from './support/fixtures.js';
import type { TestServer } from './support/test-server.js';

let server!: TestServer;
let h: Harness | undefined;
useStrictServer((started) => (server = started));

describe('request log', () => {
  it('writes one line per attempt with method, path and query, status, time and attempt', async () => {
    server.on('/v1/groups/recent_results.json', { status: 502 }, { body: {} });
    h = makeClient(server.baseUrl);
    await h.client.request({ path: '/v1/groups/recent_results.json', query: { limit: 200 }, endpoint: '/v1/groups/recent_results.json' });
    expect(h.lines).toHaveLength(3);
    expect(h.lines[0]).toMatch(/^warn GET \/v1\/groups\/recent_results\.json\?limit=200 502 \d+ms attempt=1 -> retry$/);
    expect(h.lines[1]).toMatch(
      /^warn GET \/v1\/groups\/recent_results\.json: the server had a temporary problem \(HTTP 502\); retry 1 of 4 in 0\.5s$/,
    );
    expect(h.lines[2]).toMatch(/^info GET \/v1\/groups\/recent_results\.json\?limit=200 200 \d+ms attempt=2$/);
  });

  it('gives the hook what a Singer SDK METRIC line needs', async () => {
    server.on('/api/v2.5/admin/attempts/12/', { body: {} });
    h = makeClient(server.baseUrl);
    await h.client.request({ path: '/api/v2.5/admin/attempts/12/', endpoint: '/api/v2.5/admin/attempts/{id}/' });
    const event = h.events[0]!;
    const line = formatRequestMetric({ ...event, elapsedMs: 123.4 }, { stream: 'attempts' });
    expect(line).toBe(
      'METRIC: {"type":"timer","metric":"http_request_duration","value":0.123,"tags":{"stream":"attempts","endpoint":"/api/v2.5/admin/attempts/{id}/","http_status_code":200,"status":"succeeded"}}',
    );
  });

  it('marks failed attempts as failed and network errors without a status', () => {
    const event: RequestEvent = {
      method: 'GET',
      endpoint: '/x',
      target: '/x',
      status: undefined,
      elapsedMs: 5,
      attempt: 2,
      action: 'retry',
      errorCode: 'ECONNRESET',
    };
    expect(JSON.parse(formatRequestMetric(event).slice('METRIC: '.length)).tags).toEqual({
      endpoint: '/x',
      http_status_code: null,
      status: 'failed',
    });
  });

  it('the stderr logger writes levelled lines and drops those below its level', () => {
    const out: string[] = [];
    const log = createStderrLogger({ level: 'info', write: (l) => void out.push(l) });
    log.debug('hidden');
    log.warn('shown');
    expect(out).toEqual(['WARN shown\n']);
  });
});

describe('skip', () => {
  it('returns a skipped response instead of throwing, and paginate yields nothing for it', async () => {
    server.always('/api/v2.2/exams/gone/attempts/', { status: 404, body: { detail: 'Not found' } });
    h = makeClient(server.baseUrl, {
      classify: byStatus({ 404: { action: 'skip', blame: 'config', message: 'the exam no longer exists' } }),
    });
    const res = await h.client.request({ path: '/api/v2.2/exams/gone/attempts/' });
    expect(res.outcome.action).toBe('skip');
    expect(res.body).toEqual({ detail: 'Not found' });
    const pages = [];
    for await (const page of h.client.paginate({ path: '/api/v2.2/exams/gone/attempts/' }, nextUrlPaging(), () => [])) pages.push(page);
    expect(pages).toEqual([]);
    expect(h.lines.at(-1)).toBe('warn GET /api/v2.2/exams/gone/attempts/: skipped: the exam no longer exists');
  });

  it('paginate returns how the listing ended: whole, skipped before any page, or cut short after some pages', async () => {
    const path = '/api/v2.2/exams/algebra/attempts/';
    const page = (n: number, next: number | null) => ({
      body: { next: next === null ? null : `${server.baseUrl}${path}?page=${next}`, results: [{ id: n }] },
    });
    server.on(path, page(1, 2), page(2, null), { status: 404, body: { detail: 'Not found' } }, page(1, 2), {
      status: 404,
      body: { detail: 'Not found' },
    });
    h = makeClient(server.baseUrl, {
      classify: byStatus({ 404: { action: 'skip', blame: 'config', message: 'the exam no longer exists' } }),
    });
    /** Reads every page and the generator's return value, which a `for await` loop would drop. */
    const drain = async () => {
      const ids: unknown[] = [];
      const pages = h!.client.paginate({ path }, nextUrlPaging(), (body) => (body as { results: unknown[] }).results);
      for (let step = await pages.next(); ; step = await pages.next()) {
        if (step.done) return { ids, end: step.value };
        ids.push(...step.value.records.map((r) => (r as { id: unknown }).id));
      }
    };

    expect(await drain()).toEqual({ ids: [1, 2], end: { pages: 2 } });
    const skipped = { status: 404, url: `${server.baseUrl}${path}`, message: 'the exam no longer exists' };
    expect(await drain()).toEqual({ ids: [], end: { pages: 0, skipped } });
    expect(await drain()).toEqual({ ids: [1], end: { pages: 1, skipped: { ...skipped, url: `${server.baseUrl}${path}?page=2` } } });
    expect(h.lines.at(-1)).toBe(`warn GET ${path}: skipped at page 2 (1 page was read before it): the exam no longer exists`);
  });
});

describe('what classifiers are told', () => {
  it('the page of a paginate run (1-based), and no page for a lone request', async () => {
    const path = '/rows';
    server.on(
      path,
      { body: { next: `${server.baseUrl}${path}?page=2`, results: [1] } },
      { body: { next: null, results: [2] } },
      { body: [] },
    );
    const pagesSeen: Array<number | undefined> = [];
    h = makeClient(server.baseUrl, { classify: (input) => void pagesSeen.push(input.request.page) as undefined });
    for await (const _ of h.client.paginate({ path }, nextUrlPaging(), (body) => (body as { results: unknown[] }).results));
    await h.client.request({ path });
    expect(pagesSeen).toEqual([1, 2, undefined]);
  });
});

describe('auth that breaks', () => {
  it('turns a token fetcher crash into a one-sentence error', async () => {
    h = makeClient(server.baseUrl, {
      auth: tokenAuth({
        fetchToken: async () => {
          throw new Error('boom');
        },
      }),
    });
    await expect(h.client.request({ path: '/x' })).rejects.toMatchObject({
      blame: 'system',
      message: 'GET /x: could not prepare authentication: boom',
    });
    expect(server.received).toHaveLength(0);
  });
});
