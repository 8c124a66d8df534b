// Paginators over real HTTP: each walks the pages, stops on an empty or short page, and fails on a repeated token.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HttpRequest, PageView, Pagination, Paginator } from '../src/index.js';
import {
  bodyCursorPaging,
  linkHeaderNext,
  nextUrlPaging,
  noPaging,
  offsetPaging,
  PaginationError,
  pageNumberPaging,
} from '../src/index.js';
import type { Harness } from './support/fixtures.js';
import { makeClient } from './support/fixtures.js';
import type { ReceivedRequest, TestServer } from './support/test-server.js';
import { startTestServer } from './support/test-server.js';

let server: TestServer;
let h: Harness;
beforeEach(async () => {
  server = await startTestServer();
  h = makeClient(server.baseUrl);
});
afterEach(async () => {
  await h.client.close();
  expect(server.unexpected).toEqual([]);
  await server.close();
});

const ROWS = Array.from({ length: 25 }, (_, i) => ({ id: i + 1 }));

/** A bare-array endpoint paged by `start`/`limit`, like OnlineExamMaker's legacy API. */
function serveOffsetRows(r: ReceivedRequest, rows = ROWS) {
  const start = Number(r.query.get('start') ?? 0);
  const limit = Number(r.query.get('limit') ?? 30);
  return { body: rows.slice(start, start + limit) };
}

async function collect(request: HttpRequest, pagination: Pagination | Paginator, select = (b: unknown) => b as unknown[]) {
  const ids: unknown[] = [];
  for await (const page of h.client.paginate(request, pagination, select)) ids.push(...page.records.map((r) => (r as { id: unknown }).id));
  return ids;
}

describe('offsetPaging', () => {
  it('walks start/limit pages and stops on the short last page without an extra request', async () => {
    server.always('/rows', (r) => serveOffsetRows(r));
    const ids = await collect({ path: '/rows' }, offsetPaging({ limit: 10, offsetParam: 'start' }));
    expect(ids).toEqual(ROWS.map((r) => r.id));
    expect(server.received.map((r) => r.query.toString())).toEqual(['start=0&limit=10', 'start=10&limit=10', 'start=20&limit=10']);
  });

  it('stops on an empty page when the row count is a multiple of the limit', async () => {
    server.always('/rows', (r) => serveOffsetRows(r, ROWS.slice(0, 20)));
    const ids = await collect({ path: '/rows' }, offsetPaging({ limit: 10, offsetParam: 'start' }));
    expect(ids).toHaveLength(20);
    expect(server.received).toHaveLength(3);
  });

  it('advances by the rows received, so a server that caps the page size loses nothing', async () => {
    // Server caps at 7 whatever we ask: with stopOnShortPage off, paging ends on the empty page.
    server.always('/rows', (r) => {
      const start = Number(r.query.get('offset'));
      return { body: ROWS.slice(start, start + 7) };
    });
    const ids = await collect({ path: '/rows' }, offsetPaging({ limit: 10, stopOnShortPage: false }));
    expect(ids).toEqual(ROWS.map((r) => r.id));
  });

  it('fails instead of looping when the server ignores the offset', async () => {
    server.always('/rows', { body: ROWS.slice(0, 10) });
    const error = await collect({ path: '/rows' }, offsetPaging({ limit: 10 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaginationError);
    expect((error as Error).message).toMatch(/^GET \/rows: the server returned the same page twice while paging by offset\/limit/);
    expect(server.received).toHaveLength(2);
  });

  it('works for a driver that never calls first() and puts the first page in its base query', () => {
    const paginator = offsetPaging({ limit: 10, offsetParam: 'start' })();
    const page = (start: number, n: number): PageView => ({
      request: { method: 'GET', path: '/rows', query: { start, limit: 10 } },
      response: { status: 200, headers: {}, body: [] },
      records: ROWS.slice(start, start + n),
    });
    expect(paginator.next(page(0, 10))).toEqual({ query: { start: 10, limit: 10 } });
    expect(paginator.next(page(10, 4))).toBeNull();
  });

  it('does not treat a page as short against a limit it never sent', () => {
    const paginator = offsetPaging({ limit: 100 })();
    const next = paginator.next({
      request: { path: '/rows' },
      response: { status: 200, headers: {}, body: [] },
      records: ROWS.slice(0, 20),
    });
    expect(next).toEqual({ query: { offset: 20, limit: 100 } });
  });
});

describe('a listing that shifts while it is read (a full table must not delete what it skipped)', () => {
  /** 25 rows paged by start/limit; `remove(id)` deletes one between two requests, as an admin would. */
  function liveRows() {
    const rows = ROWS.map((r) => ({ ...r }));
    server.always('/rows', (r) => ({ body: { count: rows.length, results: serveOffsetRows(r, rows).body } }));
    return {
      remove: (id: number) =>
        rows.splice(
          rows.findIndex((r) => r.id === id),
          1,
        ),
    };
  }
  const results = (b: unknown) => (b as { results: unknown[] }).results;

  it('offset paging with overlap asks for each page from the last record seen, drops the repeat and vouches for an unchanged listing', async () => {
    liveRows();
    const paginator = offsetPaging({ limit: 10, offsetParam: 'start', overlap: true }).start();
    expect(await collect({ path: '/rows' }, paginator, results)).toEqual(ROWS.map((r) => r.id));
    expect(server.received.map((r) => r.query.toString())).toEqual(['start=0&limit=10', 'start=9&limit=10', 'start=18&limit=10']);
    expect(paginator.incomplete!()).toBeUndefined();
  });

  it('offset paging with overlap notices records removed before the page edge: the record that slid back is not lost silently', async () => {
    const rows = liveRows();
    const paginator = offsetPaging({ limit: 10, offsetParam: 'start', overlap: true }).start();
    const ids: unknown[] = [];
    for await (const page of h.client.paginate({ path: '/rows' }, paginator, results)) {
      ids.push(...page.records.map((r) => (r as { id: unknown }).id));
      if (page.index === 0) [3, 4].forEach(rows.remove);
    }
    expect(ids).not.toContain(11); // slid onto the first page after it was read
    expect(paginator.incomplete!()).toMatch(/records were added or removed while the listing was read/);
    expect(paginator.lost!()).toMatch(/the record at a page edge was gone from the next page/);
  });

  it('says a record may have been missed only when records went missing between pages, not when records were added', async () => {
    const added = (() => {
      const rows = ROWS.map((r) => ({ ...r }));
      server.always('/rows', (r) => ({ body: { count: rows.length, results: serveOffsetRows(r, rows).body } }));
      return { addFirst: () => rows.unshift({ ...ROWS[0]!, id: 1000 + rows.length }) };
    })();
    const grown = offsetPaging({ limit: 10, offsetParam: 'start', overlap: true, total: 'count' }).start();
    for await (const page of h.client.paginate({ path: '/rows' }, grown, results)) if (page.index === 0) added.addFirst();
    expect(grown.incomplete!()).toMatch(/records were added or removed/); // the edge record came back later: read twice, nothing missed
    expect(grown.lost!()).toBeUndefined();

    const rows = liveRows();
    const shrunk = offsetPaging({ limit: 10, offsetParam: 'start', total: 'count' }).start();
    for await (const page of h.client.paginate({ path: '/rows' }, shrunk, results)) if (page.index === 0) rows.remove(3);
    expect(shrunk.lost!()).toBe(
      "the listing's total went down from 25 to 24 between two pages, so records after the ones removed moved onto pages already read",
    );
  });

  it('checks the total of the last page read even when the reader stops there', async () => {
    const rows = liveRows();
    const paginator = offsetPaging({ limit: 10, offsetParam: 'start', total: 'count' }).start();
    for await (const page of h.client.paginate({ path: '/rows' }, paginator, results)) {
      if (page.index === 0) rows.remove(3);
      if (page.index === 1) break; // e.g. newest first, past the start
    }
    expect(paginator.lost!()).toMatch(/went down from 25 to 24/);
  });

  it('a listing with a total (DRF count) vouches for itself only when every page says the same total and all of it arrived', async () => {
    const whole = pageNumberPaging({ pageSize: 10, total: 'count' }).start();
    server.always('/exams', (r) => {
      const page = Number(r.query.get('page'));
      return { body: { count: 25, results: ROWS.slice((page - 1) * 10, page * 10) } };
    });
    expect(await collect({ path: '/exams' }, whole, results)).toHaveLength(25);
    expect(whole.incomplete!()).toBeUndefined();

    const rows = liveRows();
    const shifted = offsetPaging({ limit: 10, offsetParam: 'start', total: 'count' }).start();
    for await (const page of h.client.paginate({ path: '/rows' }, shifted, results)) if (page.index === 0) rows.remove(3);
    expect(shifted.incomplete!()).toBe("the listing's total changed from 25 to 24 while it was read, so its pages shifted");
  });

  it('paginators without a total or overlap cannot vouch for a listing', () => {
    expect(offsetPaging({ limit: 10 }).start().incomplete).toBeUndefined();
    expect(nextUrlPaging().start().incomplete).toBeUndefined();
    expect(nextUrlPaging({ total: 'count' }).start().incomplete).toBeTypeOf('function');
  });
});

describe('pageNumberPaging', () => {
  it('walks ?page=N with a page size and stops on the short page', async () => {
    server.always('/exams', (r) => {
      const page = Number(r.query.get('page'));
      return { body: { results: ROWS.slice((page - 1) * 10, page * 10) } };
    });
    const ids = await collect(
      { path: '/exams' },
      pageNumberPaging({ pageSize: 10, pageSizeParam: 'per_page' }),
      (b) => (b as { results: unknown[] }).results,
    );
    expect(ids).toHaveLength(25);
    expect(server.received.map((r) => r.query.toString())).toEqual(['page=1&per_page=10', 'page=2&per_page=10', 'page=3&per_page=10']);
  });

  it('fails when the server ignores the page number', async () => {
    server.always('/exams', { body: { results: ROWS.slice(0, 3) } });
    await expect(collect({ path: '/exams' }, pageNumberPaging(), (b) => (b as { results: unknown[] }).results)).rejects.toThrow(
      /same page twice while paging by page/,
    );
  });
});

describe('nextUrlPaging', () => {
  /** Django REST framework envelope, like Testpress: absolute `next` links carrying the query. */
  function drf(r: ReceivedRequest, base: string, relative = false) {
    const page = Number(r.query.get('page') ?? 1);
    const results = ROWS.slice((page - 1) * 10, page * 10);
    const nextPath = `/api/v2.5/admin/attempts/?page=${page + 1}&state=1`;
    const next = page * 10 < ROWS.length ? (relative ? nextPath : `${base}${nextPath}`) : null;
    return { body: { count: ROWS.length, next, previous: null, per_page: 10, results } };
  }

  it('follows absolute next links until null, without re-sending the base query twice', async () => {
    server.always('/api/v2.5/admin/attempts/', (r) => drf(r, server.baseUrl));
    const ids = await collect(
      { path: '/api/v2.5/admin/attempts/', query: { state: 1 } },
      nextUrlPaging(),
      (b) => (b as { results: unknown[] }).results,
    );
    expect(ids).toHaveLength(25);
    expect(server.received.map((r) => r.url)).toEqual([
      '/api/v2.5/admin/attempts/?state=1',
      '/api/v2.5/admin/attempts/?page=2&state=1',
      '/api/v2.5/admin/attempts/?page=3&state=1',
    ]);
  });

  it('resolves relative next links against the page URL', async () => {
    server.always('/api/v2.5/admin/attempts/', (r) => drf(r, server.baseUrl, true));
    const ids = await collect({ path: '/api/v2.5/admin/attempts/' }, nextUrlPaging(), (b) => (b as { results: unknown[] }).results);
    expect(ids).toHaveLength(25);
  });

  it('fails on a repeated next link', async () => {
    server.always('/list', { body: { next: '/list?page=2', results: [{ id: 1 }] } });
    const error = await collect({ path: '/list' }, nextUrlPaging(), (b) => (b as { results: unknown[] }).results).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaginationError);
    expect((error as Error).message).toMatch(/same next-page link twice/);
    expect(server.received).toHaveLength(2);
  });

  it('stops on an empty page even when a next link is present', async () => {
    server.on('/list', { body: { next: '/list?page=2', results: [] } });
    expect(await collect({ path: '/list' }, nextUrlPaging(), (b) => (b as { results: unknown[] }).results)).toEqual([]);
    expect(server.received).toHaveLength(1);
  });

  it("re-bases a next link written with http:// or another port onto the page's scheme and port (a TLS proxy in front of the API)", async () => {
    const port = new URL(server.baseUrl).port;
    const elsewhere = port === '1' ? '2' : '1';
    server.on('/list', { body: { next: `https://127.0.0.1:${elsewhere}/list?page=2`, results: [{ id: 1 }] } });
    server.on('/list', { body: { next: null, results: [{ id: 2 }] } });
    expect(await collect({ path: '/list' }, nextUrlPaging(), (b) => (b as { results: unknown[] }).results)).toEqual([1, 2]);
    expect(server.received.map((r) => r.url)).toEqual(['/list', '/list?page=2']);
  });

  it('never follows a next link to another host: a config error naming both hosts, and no request goes there', async () => {
    const other = await startTestServer();
    try {
      const otherHost = `http://localhost:${new URL(other.baseUrl).port}`;
      server.on('/list', { body: { next: `${otherHost}/list?page=2`, results: [{ id: 1 }] } });
      const error = await collect(
        { path: '/list', headers: { authorization: 'JWT secret-token' } },
        nextUrlPaging(),
        (b) => (b as { results: unknown[] }).results,
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ blame: 'config' });
      expect((error as Error).message).toMatch(
        /^GET \/list: the next-page link points to localhost, not to 127\.0\.0\.1 where the pages come from; credentials are never sent to another host/,
      );
      expect(other.received).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('reads RFC 8288 Link headers', async () => {
    server.on('/gh', {
      headers: { link: `<${server.baseUrl}/gh?page=2>; rel="next", <${server.baseUrl}/gh?page=9>; rel="last"` },
      body: [{ id: 1 }],
    });
    server.on('/gh', { body: [{ id: 2 }] });
    expect(await collect({ path: '/gh' }, nextUrlPaging({ next: linkHeaderNext }))).toEqual([1, 2]);
  });
});

describe('bodyCursorPaging', () => {
  /** ClassMarker recent_results: `finishedAfterTimestamp` <- `next_finished_after_timestamp` while `more_results_exist`. */
  const classMarkerPaging = bodyCursorPaging({
    token: 'next_finished_after_timestamp',
    more: 'more_results_exist',
    send: { query: 'finishedAfterTimestamp' },
  });
  const results = (b: unknown) => ((b as { results?: Array<{ result: unknown }> }).results ?? []).map((r) => r.result);

  it('follows the cursor while more results exist', async () => {
    server.on(
      '/v1/links/recent_results.json',
      {
        body: {
          status: 'ok',
          results: [{ result: { id: 1 } }, { result: { id: 2 } }],
          more_results_exist: true,
          next_finished_after_timestamp: 1700000100,
        },
      },
      { body: { status: 'ok', results: [{ result: { id: 3 } }], more_results_exist: false, next_finished_after_timestamp: 1700000200 } },
    );
    const ids = await collect(
      { path: '/v1/links/recent_results.json', query: { finishedAfterTimestamp: 1700000000, limit: 200 } },
      classMarkerPaging,
      results,
    );
    expect(ids).toEqual([1, 2, 3]);
    expect(server.received.map((r) => r.query.get('finishedAfterTimestamp'))).toEqual(['1700000000', '1700000100']);
    expect(server.received[1]!.query.get('limit')).toBe('200');
  });

  it('stops on a no_results page', async () => {
    server.on('/v1/links/recent_results.json', { body: { status: 'no_results', server_timestamp: 1700000000 } });
    expect(
      await collect({ path: '/v1/links/recent_results.json', query: { finishedAfterTimestamp: 1 } }, classMarkerPaging, results),
    ).toEqual([]);
  });

  it('fails when the next token equals the one just sent', async () => {
    server.on('/v1/links/recent_results.json', {
      body: { status: 'ok', results: [{ result: { id: 1 } }], more_results_exist: true, next_finished_after_timestamp: 1700000000 },
    });
    const error = await collect(
      { path: '/v1/links/recent_results.json', query: { finishedAfterTimestamp: 1700000000 } },
      classMarkerPaging,
      results,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaginationError);
    expect((error as Error).message).toBe(
      'GET /v1/links/recent_results.json: the server returned a next-page token that was already used (1700000000); paging stopped instead of looping',
    );
  });

  it('fails when a token comes back after other pages', async () => {
    const page = (token: number) => ({
      body: { results: [{ result: { id: token } }], more_results_exist: true, next_finished_after_timestamp: token },
    });
    server.on('/c', page(2), page(3), page(2));
    await expect(collect({ path: '/c', query: { finishedAfterTimestamp: 1 } }, classMarkerPaging, results)).rejects.toThrow(
      /already used \(2\)/,
    );
    expect(server.received).toHaveLength(3);
  });

  it('can send the token in a header', () => {
    const paginator = bodyCursorPaging({ token: 'meta.cursor', send: { header: 'X-Cursor' } })();
    const next = paginator.next({ request: {}, response: { status: 200, headers: {}, body: { meta: { cursor: 'abc' } } }, records: [1] });
    expect(next).toEqual({ headers: { 'X-Cursor': 'abc' } });
  });
});

describe('noPaging', () => {
  it('makes exactly one request', async () => {
    server.on('/v1.json', { body: [{ id: 1 }] });
    expect(await collect({ path: '/v1.json' }, noPaging())).toEqual([1]);
  });
});

describe('tokens from a lossless JSON parser', () => {
  it('accepts big-number objects and bigints as cursor tokens, keeping their digits', () => {
    const paginator = bodyCursorPaging({ token: 'next', send: { query: 'after' } })();
    const lossless = { value: '12345678901234567890', isLosslessNumber: true, toString: () => '12345678901234567890' };
    const view = (body: unknown, after?: string): PageView => ({
      request: { query: after === undefined ? {} : { after } },
      response: { status: 200, headers: {}, body },
      records: [1],
    });
    expect(paginator.next(view({ next: lossless }))).toEqual({ query: { after: '12345678901234567890' } });
    expect(paginator.next(view({ next: 98765432109876543210n }, '12345678901234567890'))).toEqual({
      query: { after: '98765432109876543210' },
    });
    expect(() => paginator.next(view({ next: lossless }, '98765432109876543210'))).toThrow(PaginationError);
  });
});
