// Paginators: small and suspicious. Each computes the next request patch (the strategy) and
// puts its token where the API wants it (the placement); each stops on an empty page and
// fails on a repeated token instead of looping. Model: airbyte DefaultPaginator, meltano pagination.py.

import { createHash } from 'node:crypto';
import type { HttpRequest, HttpResponse } from './client.js';
import { PaginationError, TapError } from './errors.js';

/** Query values a paginator writes (scalars only, so patches fit any driver's request type). */
export type PatchQuery = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** What a paginator changes in the stream's base request. */
export interface RequestPatch {
  /** Merged over the base query (a key here replaces the base's). */
  query?: PatchQuery;
  headers?: Readonly<Record<string, string>>;
  /** Replaces path/url AND the base query: a next-link already carries its query. */
  url?: string;
  /** Shallow-merged over an object body, else replaces it. */
  body?: unknown;
}

/** The part of a response a paginator reads (any client's response fits). */
export interface ResponseView {
  status: number;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  body: unknown;
}

/**
 * What a paginator is shown after each page. Paginators derive their position from `request` (the
 * request actually sent), so a driver that never calls `first()` and puts the first page's
 * parameters in its base request works too.
 */
export interface PageView<R = unknown> {
  /** The request as sent (base + patch, before auth). */
  request: HttpRequest;
  response: ResponseView;
  records: readonly R[];
  /** Its full URL before auth, for resolving relative next-links; may hold config values placed in the path, so never log it unredacted. */
  url?: string;
  /** 0-based page number within this pagination. */
  index?: number;
}

/** One fetched page, as `client.paginate` yields it. */
export interface Page<R = unknown> extends PageView<R> {
  response: HttpResponse;
  url: string;
  index: number;
}

/** One pagination run's state machine. Create a fresh one per stream partition. */
export interface Paginator {
  /** Patch for the first request (often `{}` or the first offset). */
  first(): RequestPatch;
  /** Patch for the next request, or null when done. Throws PaginationError when the server misbehaves. */
  next(page: PageView): RequestPatch | null;
  /**
   * Shown each page's records before they are handed on; returns the records to hand on (an
   * overlapping paginator drops the record it asked for again). Absent: every record is handed on.
   */
  trim?(records: readonly unknown[]): readonly unknown[];
  /**
   * After the last page: why the pages read may not hold the whole listing (it shifted between
   * requests, or held fewer records than it said), or undefined when they do. Present only on
   * paginators that can tell (a `total` to check, or `overlap`): a full-table stream that deletes
   * what it did not see must not trust a listing nobody checked.
   */
  incomplete?(): string | undefined;
  /**
   * Shown each page when it arrives, before its records are handed on, so that a check sees the
   * last page read too, even when the reader stops there (a newest-first listing past its start).
   */
  see?(page: PageView): void;
  /**
   * Why a record still in the listing may have been missed: records went missing between two page
   * requests (the total went down, or a page lost its overlap record), so the ones after them moved
   * onto a page already read. Undefined when nothing shows it. Records added meanwhile only make a
   * record read twice, which this does not report (`incomplete` does).
   */
  lost?(): string | undefined;
}

/**
 * A reusable paging declaration (put it in an API profile). Calling it, or `start()`, gives a fresh
 * Paginator; being callable lets it stand wherever a `() => Paginator` factory is expected.
 */
export interface Pagination {
  (): Paginator;
  readonly kind: 'none' | 'offset' | 'page_number' | 'next_url' | 'body_cursor';
  start(): Paginator;
}

function pagination(kind: Pagination['kind'], start: () => Paginator): Pagination {
  return Object.assign(() => start(), { kind, start });
}

/** Where a token goes in the next request. */
export type TokenPlacement = { query: string } | { header: string } | { body: string };

/** Read a value from the response: a dotted path into the body (`meta.next`) or a function. */
export type Reader<T> = string | ((body: unknown, response: ResponseView) => T);

export function readPath(body: unknown, path: string): unknown {
  let value: unknown = body;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function read<T>(reader: Reader<T>, response: ResponseView): T | unknown {
  return typeof reader === 'string' ? readPath(response.body, reader) : reader(response.body, response);
}

export function applyPatch(base: HttpRequest, patch: RequestPatch): HttpRequest {
  const out: HttpRequest = { ...base };
  if (patch.url !== undefined) {
    out.url = patch.url;
    delete out.path;
    if (patch.query !== undefined) out.query = patch.query;
    else delete out.query;
  } else if (patch.query !== undefined) {
    out.query = { ...base.query, ...patch.query };
  }
  if (patch.headers !== undefined) out.headers = { ...base.headers, ...patch.headers };
  if (patch.body !== undefined) {
    const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
    out.body = isObject(base.body) && isObject(patch.body) ? { ...base.body, ...patch.body } : patch.body;
  }
  return out;
}

function place(placement: TokenPlacement, value: string | number): RequestPatch {
  if ('query' in placement) return { query: { [placement.query]: value } };
  if ('header' in placement) return { headers: { [placement.header]: String(value) } };
  return { body: { [placement.body]: value } };
}

function placedValue(placement: TokenPlacement, request: HttpRequest): unknown {
  if ('query' in placement) return request.query?.[placement.query];
  if ('header' in placement) {
    const wanted = placement.header.toLowerCase();
    return Object.entries(request.headers ?? {}).find(([k]) => k.toLowerCase() === wanted)?.[1];
  }
  const body = request.body;
  return body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[placement.body] : undefined;
}

/** A numeric query value the request carried, or undefined. */
function sentNumber(request: HttpRequest, name: string): number | undefined {
  const value = request.query?.[name];
  if (value === null || value === undefined || Array.isArray(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** A "more pages" flag: true, "true", 1 or "1" (APIs and their XML forms differ); anything else is false. */
function isTrue(value: unknown): boolean {
  return value === true || value === 1 || value === 'true' || value === '1';
}

function fingerprint(records: readonly unknown[]): string {
  const text = JSON.stringify(records, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
  return createHash('sha1').update(text).digest('hex');
}

/**
 * A token as a scalar, or undefined if it is not one. Lossless JSON parsers hand big numbers over as
 * objects (lossless-json's LosslessNumber, `isLosslessNumber: true`) or bigints: keep their exact digits.
 */
function tokenScalar(token: unknown): string | number | undefined {
  if (typeof token === 'string' || typeof token === 'number') return token;
  if (typeof token === 'bigint') return token.toString();
  if (token !== null && typeof token === 'object' && (token as { isLosslessNumber?: unknown }).isLosslessNumber === true)
    return String(token);
  return undefined;
}

/** Guards offset and page-number paging against a server that ignores the paging parameter. */
function samePageGuard(what: string): (records: readonly unknown[]) => void {
  let previous: string | undefined;
  return (records) => {
    const current = fingerprint(records);
    if (current === previous) {
      throw new PaginationError(
        `the server returned the same page twice while paging by ${what}; it may be ignoring the parameter, so paging stopped instead of looping`,
      );
    }
    previous = current;
  };
}

/**
 * Checks a listing against the total its pages report (DRF's `count`, Testpress): every page must
 * report the same total, and the distinct records read must number exactly that. A record deleted or
 * added between two page requests shifts the pages (one record is skipped or read twice), and
 * either the total moves or the distinct records fall short of it.
 */
function totalCheck(reader: Reader<unknown> | undefined) {
  if (reader === undefined) return undefined;
  let total: number | undefined;
  let last: number | undefined;
  let problem: string | undefined;
  let lost: string | undefined;
  const seen = new Set<string>();
  return {
    see({ records, response }: PageView): void {
      const raw = read(reader, response);
      const said = typeof raw === 'number' || (typeof raw === 'string' && raw.trim() !== '') ? Number(raw) : Number.NaN;
      if (!Number.isInteger(said)) problem ??= `a page did not report the listing's total (got ${JSON.stringify(raw)})`;
      else if (total === undefined) total = said;
      else if (said !== total) problem ??= `the listing's total changed from ${total} to ${said} while it was read, so its pages shifted`;
      if (Number.isInteger(said) && last !== undefined && said < last) {
        lost ??= `the listing's total went down from ${last} to ${said} between two pages, so records after the ones removed moved onto pages already read`;
      }
      if (Number.isInteger(said)) last = said;
      for (const record of records) seen.add(fingerprint([record]));
    },
    lost: () => lost,
    incomplete(): string | undefined {
      if (problem !== undefined) return problem;
      if (total !== undefined && seen.size !== total)
        return `${seen.size} distinct records were read of the ${total} the listing reported, so its pages shifted`;
      return undefined;
    },
  };
}

/** A single request. */
export function noPaging(): Pagination {
  return pagination('none', () => ({ first: () => ({}), next: () => null }));
}

export interface OffsetPagingOptions {
  /** Page size sent in `limitParam`. */
  limit: number;
  /** Default 'offset' (OnlineExamMaker: 'start'). */
  offsetParam?: string;
  /** Default 'limit'. */
  limitParam?: string;
  /** First offset; default 0. */
  startAt?: number;
  /**
   * Stop when a page holds fewer than `limit` records (default true: saves a request).
   * Set false when the server may cap the page size below `limit`; paging then ends on an empty page.
   */
  stopOnShortPage?: boolean;
  /**
   * Ask for each page from the previous page's last record, and check it comes back first: if it
   * does not, a record was added or removed before it meanwhile and the pages shifted (`incomplete()`
   * says so). The repeated record is dropped. For listings with no total to check (OnlineExamMaker).
   */
  overlap?: boolean;
  /** Where each page reports the listing's total, checked by `incomplete()` (see pageNumberPaging). */
  total?: Reader<unknown>;
}

/**
 * `?offset=0&limit=100`, then the offset advanced by the records received; stops on an empty page, or
 * a short one (fewer records than the `limit` the request carried).
 */
export function offsetPaging(options: OffsetPagingOptions): Pagination {
  const offsetParam = options.offsetParam ?? 'offset';
  const limitParam = options.limitParam ?? 'limit';
  const startAt = options.startAt ?? 0;
  const stopOnShortPage = options.stopOnShortPage ?? true;
  if (!(options.limit >= 1)) throw new RangeError(`offsetPaging needs limit >= 1 (got ${options.limit})`);
  const overlap = options.overlap === true;
  if (overlap && options.limit < 2) throw new RangeError(`offsetPaging with overlap needs limit >= 2 (got ${options.limit})`);
  return pagination('offset', () => {
    const guard = samePageGuard(`${offsetParam}/${limitParam}`);
    const totals = totalCheck(options.total);
    // With overlap: the last record of the previous page, which the next page must start with.
    let edge: string | undefined;
    let received = 0;
    let shifted: string | undefined;
    let lost: string | undefined;
    return {
      first: () => ({ query: { [offsetParam]: startAt, [limitParam]: options.limit } }),
      ...(overlap
        ? {
            trim(records: readonly unknown[]): readonly unknown[] {
              received = records.length;
              const expected = edge;
              edge = records.length > 0 ? fingerprint([records[records.length - 1]]) : undefined;
              if (expected === undefined) return records;
              if (records.length > 0 && fingerprint([records[0]]) === expected) return records.slice(1);
              shifted ??= `the record at a page edge had moved by the time the next page was read, so records were added or removed while the listing was read`;
              // Found further on, records were added before it (read twice, none missed); gone, records were removed.
              if (!records.some((record) => fingerprint([record]) === expected)) {
                lost ??= `the record at a page edge was gone from the next page, so records removed meanwhile may have moved others onto the page already read`;
              }
              return records;
            },
          }
        : {}),
      next: ({ records, request }) => {
        if (records.length === 0) return null;
        const arrived = overlap ? received : records.length;
        // A page is short only against a limit we actually sent; the server's default is unknown, so never guess.
        const sentLimit = sentNumber(request, limitParam);
        if (stopOnShortPage && sentLimit !== undefined && arrived < sentLimit) return null;
        guard(records);
        // Advance by what arrived, not by `limit`: a server that caps the page size must not make us
        // skip rows. With overlap, the next page starts at this page's last record.
        const offset = (sentNumber(request, offsetParam) ?? startAt) + arrived - (overlap ? 1 : 0);
        return { query: { [offsetParam]: offset, [limitParam]: options.limit } };
      },
      ...(totals ? { see: totals.see } : {}),
      ...(overlap || totals ? { incomplete: () => shifted ?? totals?.incomplete(), lost: () => lost ?? totals?.lost() } : {}),
    };
  });
}

export interface PageNumberPagingOptions {
  /** Default 'page'. */
  pageParam?: string;
  /** First page number; default 1. */
  startAt?: number;
  /** Page size, sent in `pageSizeParam` when that is given; enables the short-page stop. */
  pageSize?: number;
  pageSizeParam?: string;
  /** Default true when `pageSize` is known. */
  stopOnShortPage?: boolean;
  /** Optional "are there more pages" reader, e.g. `body => body.page < body.total_pages`. */
  hasMore?: Reader<boolean>;
  /**
   * Where each page reports the listing's total (DRF's `count`): `incomplete()` then says when the
   * total moved between pages or the distinct records read do not match it (the pages shifted).
   */
  total?: Reader<unknown>;
}

/** `?page=1`, `?page=2`, … ; stops on an empty page, a short page, or `hasMore` false. */
export function pageNumberPaging(options: PageNumberPagingOptions = {}): Pagination {
  const pageParam = options.pageParam ?? 'page';
  const startAt = options.startAt ?? 1;
  const stopOnShortPage = options.stopOnShortPage ?? options.pageSize !== undefined;
  const sizeQuery =
    options.pageSizeParam !== undefined && options.pageSize !== undefined ? { [options.pageSizeParam]: options.pageSize } : {};
  return pagination('page_number', () => {
    const guard = samePageGuard(pageParam);
    const totals = totalCheck(options.total);
    return {
      first: () => ({ query: { [pageParam]: startAt, ...sizeQuery } }),
      ...(totals ? { see: totals.see, incomplete: totals.incomplete, lost: totals.lost } : {}),
      next: ({ records, response, request }) => {
        if (records.length === 0) return null;
        if (stopOnShortPage && options.pageSize !== undefined && records.length < options.pageSize) return null;
        if (options.hasMore !== undefined && !isTrue(read(options.hasMore, response))) return null;
        guard(records);
        const page = (sentNumber(request, pageParam) ?? startAt) + 1;
        return { query: { [pageParam]: page, ...sizeQuery } };
      },
    };
  });
}

export interface NextUrlPagingOptions {
  /** Where the next link is; default the body's `next` (Django REST framework, Testpress). Use `linkHeaderNext` for RFC 8288 headers. */
  next?: Reader<unknown>;
  /** Where each page reports the listing's total (DRF's `count`), checked by `incomplete()` (see pageNumberPaging). */
  total?: Reader<unknown>;
}

/** Reads `Link: <…>; rel="next"` (RFC 8288). */
export function linkHeaderNext(_body: unknown, response: ResponseView): string | undefined {
  const raw = response.headers['link'] ?? response.headers['Link'];
  const link = Array.isArray(raw) ? raw.join(', ') : (raw as string | undefined);
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (match && /\brel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?/i.test(match[2] ?? '')) return match[1];
  }
  return undefined;
}

function isAbsolute(url: string | undefined): url is string {
  return url !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(url);
}

/**
 * A next link on the host of the page that returned it, re-based onto that page's scheme and port:
 * vendors behind TLS proxies write `http://` links for an `https://` API (Testpress, inferred from
 * testpress-api.md), and a link to another host must never receive the request's credentials.
 */
function sameHostLink(link: string, current: string): string {
  let target: URL;
  try {
    target = new URL(link, current);
  } catch {
    throw new PaginationError(`the next-page link is not a URL (got ${JSON.stringify(link.slice(0, 200))})`);
  }
  const page = new URL(current);
  if (target.hostname !== page.hostname) {
    throw new TapError(
      `the next-page link points to ${target.hostname}, not to ${page.hostname} where the pages come from; credentials are never sent to another host, so paging stopped (check base_url).`,
      'config',
    );
  }
  return `${page.origin}${target.pathname}${target.search}`;
}

/**
 * Follow a next link (absolute or relative to the page's URL) until it is null; fails if a link
 * repeats. Links stay on the page's host, scheme and port (see `sameHostLink`).
 */
export function nextUrlPaging(options: NextUrlPagingOptions = {}): Pagination {
  const reader = options.next ?? 'next';
  return pagination('next_url', () => {
    const seen = new Set<string>();
    const totals = totalCheck(options.total);
    return {
      first: () => ({}),
      ...(totals ? { see: totals.see, incomplete: totals.incomplete, lost: totals.lost } : {}),
      next: ({ records, response, request, url }) => {
        const current = isAbsolute(url) ? url : isAbsolute(request.url) ? request.url : undefined;
        if (current !== undefined) seen.add(new URL(current).href);
        if (records.length === 0) return null;
        const link = read(reader, response);
        if (link === null || link === undefined || link === '') return null;
        if (typeof link !== 'string') {
          throw new PaginationError(`the next-page link is not a string (got ${JSON.stringify(link)})`);
        }
        // Relative links resolve against the URL that returned them; with no page URL known there is
        // no host to hold the link to, so only a relative link (resolved on the client's base URL) goes.
        if (current === undefined && isAbsolute(link)) {
          throw new PaginationError(
            `the next-page link ${JSON.stringify(link.slice(0, 200))} is absolute, but the page's own URL is unknown, so its host cannot be checked`,
          );
        }
        const resolved = current !== undefined ? sameHostLink(link, current) : link;
        if (seen.has(resolved)) {
          throw new PaginationError(`the server returned the same next-page link twice (${resolved}); paging stopped instead of looping`);
        }
        seen.add(resolved);
        return { url: resolved };
      },
    };
  });
}

export interface BodyCursorPagingOptions {
  /** The next token, e.g. ClassMarker `next_finished_after_timestamp`. */
  token: Reader<unknown>;
  /** Optional "more pages" flag, e.g. ClassMarker `more_results_exist`; false stops paging. */
  more?: Reader<unknown>;
  /** Where the token goes, e.g. `{ query: 'finishedAfterTimestamp' }`. */
  send: TokenPlacement;
}

/**
 * A cursor read from each response and sent with the next request. Stops on an empty page, a false
 * `more` flag or a missing token; fails when the token equals one already sent (including the
 * value the first request carried), because the server would return the same page forever.
 */
export function bodyCursorPaging(options: BodyCursorPagingOptions): Pagination {
  return pagination('body_cursor', () => {
    const sent = new Set<string>();
    return {
      first: () => ({}),
      next: ({ records, response, request }) => {
        const before = tokenScalar(placedValue(options.send, request));
        if (before !== undefined) sent.add(String(before));
        if (records.length === 0) return null;
        if (options.more !== undefined && !isTrue(read(options.more, response))) return null;
        const token = read(options.token, response);
        if (token === null || token === undefined || token === '') return null;
        const scalar = tokenScalar(token);
        if (scalar === undefined) {
          throw new PaginationError(`the next-page token is not a string or number (got ${JSON.stringify(token)})`);
        }
        const key = String(scalar);
        if (sent.has(key)) {
          throw new PaginationError(
            `the server returned a next-page token that was already used (${key}); paging stopped instead of looping`,
          );
        }
        sent.add(key);
        return place(options.send, scalar);
      },
    };
  });
}
