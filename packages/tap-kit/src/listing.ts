// Reads one partition's listing page by page and returns its verdict: how many pages, and why the
// listing may be incomplete (cut short by a skipped response, records lost between pages, a
// paginator that cannot tell, "not found").

import {
  type HttpClient,
  type HttpRequest,
  type HttpResponse,
  noPaging,
  type Page,
  type PaginateEnd,
  type Pagination,
  type Paginator,
  type QueryValue,
} from '@tapline/http';
import { normaliseIsoDateTime } from './coerce.js';
import type { StreamContext, StreamDefinition, StreamEndpoint } from './declare.js';
import type { CursorKind } from './json-schema.js';
import { fillPath, selectRecords } from './records.js';
import type { CursorValue } from './state.js';
import type { StreamRun } from './stream-run.js';

/** What a partition's paging showed about its listing's completeness. */
export interface ListingVerdict {
  pages: number;
  /** The paginator can tell whether the pages shifted (it declares `incomplete`). */
  checked: boolean;
  /** The paginator's doubt about a listing read to its end (`Paginator.incomplete`). */
  doubt: string | undefined;
  /** A skipped response ended the listing after pages were read: the pages after it are unread. */
  cutShort: { pages: number; message: string } | undefined;
  /** The paginator saw records go missing between pages (`Paginator.lost`): one may have slid onto a page already read. */
  lost: string | undefined;
  /** The partition's first response was skipped ("not found / no results"): the classifier's sentence, with the vendor's words. */
  notFound: string | undefined;
}

/** Pages of one listing; its return value is the verdict. */
export type Listing = AsyncGenerator<readonly unknown[], ListingVerdict, undefined>;

function freshVerdict(checked: boolean): ListingVerdict {
  return { pages: 0, checked, doubt: undefined, cutShort: undefined, lost: undefined, notFound: undefined };
}

/** Notes a pagination's skipped response: "not found" before any page, a listing cut short after some. */
function noteSkip(verdict: ListingVerdict, end: PaginateEnd): void {
  if (end.skipped === undefined) return;
  if (end.pages > 0) verdict.cutShort ??= { pages: end.pages, message: end.skipped.message };
  else verdict.notFound ??= end.skipped.message;
}

/**
 * Why records of this listing may be unread: it stopped at a skipped response, or records went
 * missing between two pages, so the ones after them moved onto a page already read.
 */
export function unreadReason(verdict: ListingVerdict): string | undefined {
  const cutShort = verdict.cutShort;
  if (cutShort !== undefined) {
    const pages = `${cutShort.pages} page${cutShort.pages === 1 ? '' : 's'}`;
    return `the listing stopped at a skipped response after ${pages}, so the records on the pages after it were not read`;
  }
  return verdict.lost === undefined ? undefined : `${verdict.lost}; one of those may not have been read`;
}

/** Why ACTIVATE_VERSION (which removes downstream whatever this run did not emit) must wait: only a listing known whole sends it. */
export function activationDoubt(verdict: ListingVerdict): string | undefined {
  const cutShort = verdict.cutShort;
  if (cutShort !== undefined) {
    return `its listing stopped at a skipped response after ${cutShort.pages} page${cutShort.pages === 1 ? '' : 's'} (${cutShort.message})`;
  }
  if (verdict.doubt !== undefined) return verdict.doubt;
  return verdict.pages > 1 && !verdict.checked
    ? `its ${verdict.pages} pages were read by a paginator that cannot tell whether records moved between them (declare its total or overlap)`
    : undefined;
}

/**
 * The listing the kit requests itself: the stream's path (or the URL its parent handed over), query,
 * request hooks and pagination. `stop` is asked after each page is read (newest first, past the start).
 */
export async function* requestedListing(
  run: StreamRun,
  ctx: StreamContext<unknown>,
  url: string | undefined,
  stop: () => boolean,
): Listing {
  const def = run.def;
  const paginator = (def.pagination === null ? noPaging() : (def.pagination ?? def.api.pagination ?? noPaging())).start();
  const verdict = freshVerdict(typeof paginator.incomplete === 'function');
  const selector = def.records ?? def.api.records;
  const pages = ctx.http.paginate(requestFor(run, ctx, url), paginator, (body) => selectRecords(body, selector));
  let end: PaginateEnd | undefined;
  try {
    for (let step = await pages.next(); ; step = await pages.next()) {
      if (step.done) {
        end = step.value;
        break;
      }
      verdict.pages += 1;
      yield step.value.records;
      if (stop()) break;
    }
  } finally {
    if (end === undefined) await pages.return({ pages: verdict.pages });
    // Also when the reader stops early (newest first, past its start): the pages read count.
    verdict.lost = paginator.lost?.();
  }
  if (end === undefined) return verdict;
  // Read to its end: the pagination says itself whether a skipped response ended it.
  noteSkip(verdict, end);
  verdict.doubt = paginator.incomplete?.();
  return verdict;
}

/**
 * The request for a partition's first page: the stream's path (or the URL its parent handed over, or
 * the endpoint it chose for this partition), query and classifier, then its and the API's `request` hooks.
 */
function requestFor(run: StreamRun, ctx: StreamContext<unknown>, url: string | undefined): HttpRequest {
  const def = run.def;
  const endpoint = def.endpoint?.(ctx);
  const query: Record<string, QueryValue> =
    endpoint?.query !== undefined ? { ...endpoint.query } : typeof def.query === 'function' ? def.query(ctx) : { ...(def.query ?? {}) };
  const send = def.incremental?.send;
  if (send && ctx.start !== undefined && run.incremental) {
    const spec = typeof send === 'string' ? { query: send.slice('query:'.length) } : send;
    query[spec.query] = formatStart(ctx.start, spec.format, spec.exclusive === true, run.kind!);
  }
  const classify = def.classify?.(ctx);
  let request: HttpRequest = {
    method: def.method ?? 'GET',
    ...whereTo(def, ctx, url, endpoint),
    query,
    ...(endpoint?.headers !== undefined ? { headers: endpoint.headers } : {}),
    ...(endpoint?.success !== undefined ? { success: endpoint.success } : {}),
    ...(classify !== undefined ? { classify } : {}),
  };
  if (def.request) request = def.request(request, ctx);
  if (def.api.request) request = def.api.request(request, ctx);
  return request;
}

/** The URL or path a partition reads, and its label for logs and metrics. */
function whereTo(
  def: StreamRun['def'],
  ctx: StreamContext<unknown>,
  followed: string | undefined,
  endpoint: StreamEndpoint | undefined,
): Pick<HttpRequest, 'url' | 'path' | 'endpoint'> {
  // A followed URL is read as sent; its label names where it came from (e.g. exams.attempts_url).
  const label = followed !== undefined ? `${def.parent!.stream.name}.${def.parent!.follow!}` : def.path!;
  if (endpoint?.url !== undefined) return { url: endpoint.url, endpoint: endpoint.path ?? label };
  if (endpoint?.path !== undefined) return { path: fillPath(endpoint.path, ctx.context, def.name), endpoint: endpoint.path };
  if (followed !== undefined) return { url: followed, endpoint: label };
  return { path: fillPath(def.path!, ctx.context, def.name), endpoint: label };
}

/**
 * The run's one client for streams' hooks (connectors may key per-run caches on `ctx.http`), whose
 * paginations tell the custom `fetch` stepping them when a skipped response ended them, so a custom
 * `fetch` is watched as the kit's own listing is.
 */
export class FetchWatch {
  readonly http: HttpClient;
  /** The verdict of the custom fetch being stepped right now, if any. */
  private stepping: ListingVerdict | undefined;

  constructor(http: HttpClient) {
    const watch = this;
    this.http = {
      ...http,
      async *paginate<R>(
        request: HttpRequest,
        pagination: Pagination | Paginator,
        select: (body: unknown, response: HttpResponse) => readonly R[],
      ): AsyncGenerator<Page<R>, PaginateEnd, undefined> {
        const verdict = watch.stepping; // the fetch whose step started this pagination
        const end = yield* http.paginate(request, pagination, select);
        if (verdict !== undefined) noteSkip(verdict, end);
        return end;
      },
    };
  }

  /** A custom fetch's pages as a listing; `stop` is asked after each page is read. */
  async *listing(pages: AsyncIterable<readonly unknown[]>, stop: () => boolean): Listing {
    const verdict = freshVerdict(false);
    const iterator = pages[Symbol.asyncIterator]();
    let done = false;
    try {
      for (;;) {
        const step = await this.step(verdict, () => iterator.next());
        if (step.done) {
          done = true;
          break;
        }
        verdict.pages += 1;
        yield step.value;
        if (stop()) break;
      }
    } finally {
      if (!done) await this.step(verdict, async () => iterator.return?.());
    }
    return verdict;
  }

  private async step<T>(verdict: ListingVerdict, next: () => Promise<T>): Promise<T> {
    const outer = this.stepping;
    this.stepping = verdict;
    try {
      return await next();
    } finally {
      this.stepping = outer;
    }
  }
}

/** Writes a start value the way the API wants it; `exclusive` steps back one unit to keep the boundary. */
export function formatStart(
  start: CursorValue,
  format: NonNullable<Exclude<IncrementalSend, string>['format']> | undefined,
  exclusive: boolean,
  kind: CursorKind,
): string {
  if (typeof format === 'function') return format(start);
  if (kind !== 'datetime') return String(exclusive && typeof start === 'number' ? start - 1 : start);
  const ms = Date.parse(normaliseIsoDateTime(String(start)) ?? String(start));
  switch (format ?? 'iso') {
    case 'unix':
      return String(Math.floor(ms / 1000) - (exclusive ? 1 : 0));
    case 'unix-ms':
      return String(ms - (exclusive ? 1 : 0));
    case 'date':
      return new Date(ms - (exclusive ? 86_400_000 : 0)).toISOString().slice(0, 10);
    default:
      return exclusive ? new Date(ms - 1).toISOString() : String(start);
  }
}

type IncrementalSend = NonNullable<NonNullable<StreamDefinition['incremental']>['send']>;
