// The HTTP client: one keep-alive undici Agent per connector (it pools connections per origin),
// driving auth, classification, retries, the rate budget and the request log.

import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { Agent } from 'undici';
import type { Auth, AuthContext } from './auth.js';
import type { RetryOptions } from './backoff.js';
import { backoffDelay, DEFAULT_RETRY } from './backoff.js';
import type { Classifier, ClassifyInput, Outcome, RequestSummary, SuccessShape } from './classify.js';
import { composeClassifiers, unrecognisedBody } from './classify.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { HttpError, PaginationError, RateLimitedError, TapError } from './errors.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  formatMegabytes,
  formatSeconds,
  limitOutcome,
  ResponseLimitError,
  readWithin,
  utf8Text,
} from './limits.js';
import type { Page, Pagination, Paginator, RequestPatch } from './paginators.js';
import { applyPatch } from './paginators.js';
import type { OnRateLimit, RateBudgetOptions } from './rate-budget.js';
import { DEFAULT_MAX_RATE_LIMIT_WAIT_MS, RateBudget } from './rate-budget.js';
import type { Redactor, RedactorOptions } from './redact.js';
import { createRedactor } from './redact.js';
import type { Logger, RequestEvent } from './request-log.js';
import { createStderrLogger, formatRequestLine, redactingLogger } from './request-log.js';
import type { Query } from './url.js';
import { joinUrl, setQuery, urlToString } from './url.js';

export type Expect = 'json' | 'text' | 'raw';

export interface HttpRequest {
  /** Default GET. */
  method?: string;
  /** Path appended to the base URL (the base's own path is kept). */
  path?: string;
  /** Absolute URL, or relative to the base URL; takes precedence over `path` (used for next-links). */
  url?: string;
  /** Query params; a key here replaces the same key already in `url`. */
  query?: Query;
  headers?: Readonly<Record<string, string>>;
  /** A string or bytes are sent as is; anything else as JSON with `content-type: application/json`. */
  body?: unknown;
  /** How to read the body; default 'json'. */
  expect?: Expect;
  /** Label for logs and metrics, e.g. the path template `/v1/groups/{group_id}/recent_results.json`. */
  endpoint?: string;
  /** Consulted before the client's classifiers, for one endpoint's quirks. */
  classify?: Classifier;
  /** This endpoint's success shape, instead of the client's `success`; null accepts any JSON (the caller checks it). */
  success?: SuccessShape | null;
  /** `false` sends without the client's auth (the token endpoint itself). */
  auth?: false;
}

export interface HttpResponse<T = unknown> {
  status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** Parsed JSON, text, or a Buffer per `expect`. */
  body: T;
  /** The request URL without auth params, secrets redacted. */
  url: string;
  elapsedMs: number;
  /** Attempts it took (1 = first try). */
  attempts: number;
  /** 'ok', or 'skip' when the classifier said to skip this resource (the body is then the error body). */
  outcome: Outcome;
}

/**
 * How a `paginate` run ended: the generator's return value (`const end = yield* http.paginate(...)`;
 * a `for await` loop never sees it, so callers that do not care are unchanged).
 */
export interface PaginateEnd {
  /** Pages yielded. */
  pages: number;
  /**
   * The response the classifier said to skip, which ended the pagination. After pages were read
   * (`pages > 0`) it cut the listing short: the pages after it were never asked for.
   */
  skipped?: { status: number; url: string; message: string };
}

export interface HttpTimeouts {
  /** TCP/TLS connect; default 10 s. */
  connectMs?: number;
  /** Until response headers arrive; default 60 s. */
  headersMs?: number;
  /** Max idle time between body chunks; default 120 s. */
  bodyMs?: number;
  /**
   * Total time one attempt may take, from sending to the last byte of the body; default 300 s.
   * The idle timers above never fire on a server that trickles its answer; this one does.
   */
  totalMs?: number;
}

export const DEFAULT_TIMEOUTS: Readonly<Required<HttpTimeouts>> = {
  connectMs: 10_000,
  headersMs: 60_000,
  bodyMs: 120_000,
  totalMs: 300_000,
};

export interface HttpClientOptions {
  baseUrl: string;
  /** Default `tapline-http/<version>`; connectors pass e.g. `tap-classmarker/0.1.0 (+tapline)`. */
  userAgent?: string;
  /** The API's name in sentences for the user, e.g. 'CBTHost' ("not the CBTHost JSON API"). */
  apiName?: string;
  /** Sent on every request (lower-cased). */
  headers?: Readonly<Record<string, string>>;
  auth?: Auth;
  /** Connector classifiers, consulted in order before the default. */
  classify?: Classifier | readonly Classifier[];
  /**
   * The API's success shape: a 2xx JSON body it does not recognise is classified (`unrecognisedBody`:
   * a vendor error, null, an unknown shape) after `classify` and never returned as ok.
   */
  success?: SuccessShape;
  retry?: RetryOptions;
  /** On a rate-limit signal or an exhausted budget: 'wait' (default) up to `maxRateLimitWaitMs`, or 'stop' (throw RateLimitedError). */
  onRateLimit?: OnRateLimit;
  /** Longest single wait accepted in 'wait' mode; default 15 minutes. */
  maxRateLimitWaitMs?: number;
  /** Proactive budget: options (built with this client's clock and mode) or a shared RateBudget. */
  budget?: RateBudget | RateBudgetOptions;
  timeouts?: HttpTimeouts;
  /** Largest response body read, in bytes; default 64 MB. A larger 2xx answer fails (blame config); a larger error page is cut there. */
  maxResponseBytes?: number;
  /** Names of the settings that change the limits, quoted in their errors (tap-kit: `request_timeout`, `max_response_mb`). */
  limitSettings?: { totalMs?: string; maxResponseBytes?: string };
  /** Keep-alive connections per origin; default 4. */
  connections?: number;
  /** Secret values (from config) and names (query/header/body keys) to redact everywhere. */
  secrets?: RedactorOptions;
  /** Default: a stderr logger at info. Every line is redacted before it reaches this logger. */
  logger?: Logger;
  clock?: Clock;
  /** Source of jitter; default Math.random. */
  random?: () => number;
  /** Called after every attempt (e.g. to print METRIC lines with `formatRequestMetric`). */
  onRequest?: (event: RequestEvent) => void;
  /** JSON parser, e.g. a lossless one for big integers; default JSON.parse. */
  parseJson?: (text: string) => unknown;
  /** JSON writer for request bodies (pair it with `parseJson` to send big numbers back exactly); default JSON.stringify. */
  stringifyJson?: (value: unknown) => string;
}

export interface HttpClient {
  readonly baseUrl: string;
  /** Send one request through auth, budget, classification and retries; throws HttpError / RateLimitedError. */
  request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>>;
  /**
   * Drive a paginator: send `request` patched by the paginator, select the records of each page,
   * yield the page, then ask the paginator for the next patch. Stops on a skipped response, and
   * returns how it ended (whether a skip cut the listing short after some pages).
   */
  paginate<R = unknown>(
    request: HttpRequest,
    pagination: Pagination | Paginator,
    selectRecords: (body: unknown, response: HttpResponse) => readonly R[],
  ): AsyncGenerator<Page<R>, PaginateEnd, undefined>;
  redact(text: string): string;
  readonly redactor: Redactor;
  /** Logger that redacts; give it to streams as `ctx.log`. */
  readonly log: Logger;
  readonly budget: RateBudget | undefined;
  close(): Promise<void>;
}

const ownVersion = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
export const DEFAULT_USER_AGENT = `tapline-http/${ownVersion}`;

function normaliseHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const baseUrl = new URL(options.baseUrl).href.replace(/\/+$/, '');
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const onRateLimit = options.onRateLimit ?? 'wait';
  const maxWaitMs = options.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
  const parseJson = options.parseJson ?? JSON.parse;
  const stringifyJson = options.stringifyJson ?? ((value: unknown) => JSON.stringify(value));
  const redactor = createRedactor(options.secrets);
  for (const name of options.auth?.secretNames ?? []) redactor.addSecretName(name);
  const redact = (text: string) => redactor.redact(text);
  const log = redactingLogger(options.logger ?? createStderrLogger(), redact);
  const classifyChain = Array.isArray(options.classify) ? options.classify : options.classify ? [options.classify as Classifier] : [];
  const budget =
    options.budget === undefined
      ? undefined
      : options.budget instanceof RateBudget
        ? options.budget
        : new RateBudget(options.budget, { clock, onExceeded: onRateLimit, maxWaitMs });
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const deadlineSetting = options.limitSettings?.totalMs;
  const sizeSetting = options.limitSettings?.maxResponseBytes;
  // undici (CommonJS, ~110 modules) loads with the first request, not with the client: --help,
  // --about and --discover make none (packages/bench README, "Start-up").
  let agent: Agent | undefined;
  const agentForRequests = (): Agent =>
    (agent ??= new (createRequire(import.meta.url)('undici') as typeof import('undici')).Agent({
      connections: options.connections ?? 4,
      keepAliveTimeout: 10_000,
      connect: { timeout: timeouts.connectMs },
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    }));
  const defaultHeaders: Record<string, string> = { 'user-agent': options.userAgent ?? DEFAULT_USER_AGENT };
  for (const [k, v] of Object.entries(options.headers ?? {})) defaultHeaders[k.toLowerCase()] = v;

  const resolveUrl = (request: HttpRequest): URL => {
    if (request.url !== undefined) return new URL(request.url, `${baseUrl}/`);
    return joinUrl(baseUrl, request.path ?? '/');
  };

  /**
   * The answer's bytes as `expect` asks: raw bytes, text, or parsed JSON. An error page is parsed
   * when it can be, for its message; a success that is not the JSON asked for carries `parseError`.
   */
  function decodeAnswer(bytes: Buffer, status: number, expect: Expect): { body: unknown; text: string; parseError?: string } {
    if (expect === 'raw') return { body: bytes, text: status >= 300 ? bytes.toString('utf8') : '' };
    const text = utf8Text(bytes);
    if (expect !== 'json' && status < 300) return { body: text, text };
    if (text.trim() === '') {
      const emptySuccess = expect === 'json' && status < 300 && status !== 204 && status !== 205;
      return { body: null, text, ...(emptySuccess ? { parseError: 'the body is empty' } : {}) };
    }
    try {
      return { body: parseJson(text), text };
    } catch (error) {
      return { body: text, text, ...(expect === 'json' && status < 300 ? { parseError: (error as Error).message } : {}) };
    }
  }

  /**
   * One attempt on the wire: the request under one deadline (connect, headers, body), and the answer
   * read within the size limit and parsed as `expect` asks, as the input the classifiers judge.
   */
  async function exchange(
    outgoing: { method: string; url: URL; headers: Record<string, string> },
    payload: string | Uint8Array | undefined,
    expect: Expect,
    redactedUrl: string,
    summary: RequestSummary,
  ): Promise<{ input: ClassifyInput; status: number | undefined; headers: Record<string, string>; body: unknown; cause: unknown }> {
    const { method } = outgoing;
    let input: ClassifyInput;
    let status: number | undefined;
    let headers: Record<string, string> = {};
    let body: unknown;
    let cause: unknown;
    // The whole attempt (connect, headers, body) has one deadline; aborting ends the body stream too.
    const deadline = new AbortController();
    const deadlineTimer = setTimeout(
      () =>
        deadline.abort(
          new ResponseLimitError(
            'REQUEST_DEADLINE',
            `the answer from ${redactedUrl} did not arrive in full within the request deadline of ${formatSeconds(timeouts.totalMs)}${deadlineSetting ? ` (${deadlineSetting})` : ''}`,
          ),
        ),
      timeouts.totalMs,
    );
    try {
      const res = await agentForRequests().request({
        origin: outgoing.url.origin,
        path: outgoing.url.pathname + outgoing.url.search,
        method: method as 'GET',
        headers: outgoing.headers,
        body: payload,
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
        signal: deadline.signal,
      });
      status = res.statusCode;
      headers = normaliseHeaders(res.headers);
      const tooLarge = (declared?: number) =>
        new ResponseLimitError(
          'RESPONSE_TOO_LARGE',
          `the answer from ${redactedUrl} is larger than the response size limit of ${formatMegabytes(maxResponseBytes)}${declared === undefined ? '' : ` (its Content-Length says ${formatMegabytes(declared)})`}; raise ${sizeSetting ?? 'the limit'} if pages this large are expected, or ask for smaller pages`,
        );
      // A success body is refused past the limit; an error page only needs its start for the message.
      const declared = Number(headers['content-length']);
      if (status < 300 && declared > maxResponseBytes) {
        res.body.destroy();
        throw tooLarge(declared);
      }
      const read = await readWithin(res.body, maxResponseBytes, status >= 300);
      if (read.over && status < 300) throw tooLarge();
      const decoded = decodeAnswer(read.bytes, status, expect);
      body = decoded.body;
      const { text, parseError } = decoded;
      input = {
        kind: 'response',
        status,
        headers,
        body,
        text,
        ...(parseError !== undefined ? { parseError } : {}),
        request: summary,
        now: clock.now(),
      };
    } catch (error) {
      // An abort by the deadline surfaces as undici's AbortError; the reason says what happened.
      cause = deadline.signal.aborted && !(error instanceof ResponseLimitError) ? deadline.signal.reason : error;
      const code = errorCode(cause);
      input = { kind: 'network', error: cause as Error, code, request: summary, now: clock.now() };
    } finally {
      clearTimeout(deadlineTimer);
    }
    return { input, status, headers, body, cause };
  }

  /** `page`: the 1-based page when `paginate` sends it, for classifiers (`RequestSummary.page`). */
  async function send<T>(req: HttpRequest, page?: number): Promise<HttpResponse<T>> {
    const method = (req.method ?? 'GET').toUpperCase();
    const expect = req.expect ?? 'json';
    const url = resolveUrl(req);
    setQuery(url, req.query);
    const path = url.pathname;
    const target = redact(url.pathname + url.search.replace(/\+/g, '%20'));
    const redactedUrl = redact(urlToString(url));
    const endpoint = req.endpoint ?? path;
    const shape = req.success === null || expect !== 'json' ? undefined : (req.success ?? options.success);
    const classify = composeClassifiers(req.classify, ...classifyChain, unrecognisedBody(shape));
    const useAuth = req.auth === false ? undefined : options.auth;

    let payload: string | Uint8Array | undefined;
    const bodyHeaders: Record<string, string> = {};
    if (req.body !== undefined) {
      if (typeof req.body === 'string' || req.body instanceof Uint8Array) payload = req.body;
      else {
        payload = stringifyJson(req.body);
        bodyHeaders['content-type'] = 'application/json';
      }
    }
    const accept = expect === 'json' ? 'application/json' : '*/*';

    const fail = (outcome: Outcome, status: number | undefined, attempts: number, cause?: unknown, afterRetries = false): HttpError =>
      new HttpError({
        message: redact(
          `${method} ${path} failed${afterRetries ? ` after ${attempts} attempt${attempts === 1 ? '' : 's'}` : ''}: ${sentence(outcome.message)}`,
        ),
        blame: outcome.blame,
        status,
        method,
        url: redactedUrl,
        attempts,
        cause,
      });

    let retriesUsed = 0;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      if (budget) await budget.acquire();
      // Precedence, weakest first: what the client infers, the connector's headers, this request's headers.
      const outgoing = { method, url: new URL(url.href), headers: { accept, ...bodyHeaders, ...defaultHeaders } as Record<string, string> };
      for (const [k, v] of Object.entries(req.headers ?? {})) outgoing.headers[k.toLowerCase()] = v;
      if (useAuth) {
        try {
          await useAuth.apply(outgoing, authContext);
        } catch (error) {
          if (error instanceof TapError) throw error;
          throw new TapError(redact(`${method} ${path}: could not prepare authentication: ${(error as Error).message}`), 'system', {
            cause: error,
          });
        }
      }

      const summary: RequestSummary = { method, path, attempt, page, origin: outgoing.url.origin, baseUrl, apiName: options.apiName };
      const started = performance.now();
      const { input, status, headers, body, cause } = await exchange(outgoing, payload, expect, redactedUrl, summary);
      const elapsedMs = performance.now() - started;
      // The client's own limits are decided here, whatever the classifiers say about network errors.
      const outcome = (input.kind === 'network' ? limitOutcome(input.error) : undefined) ?? classify(input);

      const event: RequestEvent = {
        method,
        endpoint: redact(endpoint),
        target,
        status,
        elapsedMs,
        attempt,
        action: outcome.action,
        ...(input.kind === 'network' && input.code !== undefined ? { errorCode: input.code } : {}),
      };
      (outcome.action === 'ok' ? log.info : log.warn)(formatRequestLine(event));
      options.onRequest?.(event);

      switch (outcome.action) {
        case 'ok':
        case 'skip':
          return { status: status as number, headers, body: body as T, url: redactedUrl, elapsedMs, attempts: attempt, outcome };
        case 'fail':
          throw fail(outcome, status, attempt, cause);
        case 'refresh_auth': {
          if (!useAuth?.refresh || refreshed) {
            const again = refreshed ? { ...outcome, message: `${outcome.message} (still rejected after signing in again)` } : outcome;
            throw fail({ ...again, blame: outcome.blame === 'transient' ? 'config' : outcome.blame }, status, attempt, cause);
          }
          refreshed = true;
          log.info(`${method} ${path}: credentials rejected; signing in again once`);
          try {
            await useAuth.refresh(authContext);
          } catch (error) {
            if (error instanceof TapError) throw error;
            throw new TapError(redact(`${method} ${path}: could not sign in again: ${(error as Error).message}`), 'system', {
              cause: error,
            });
          }
          continue;
        }
        case 'rate_limited': {
          const told = outcome.retryAfterMs !== undefined;
          const waitMs = outcome.retryAfterMs ?? backoffDelay(retriesUsed + 1, retry, random);
          if (told) budget?.blockUntil(clock.now() + waitMs);
          if (onRateLimit === 'stop' || waitMs > maxWaitMs) {
            // Without a server hint, "try again" after the longest backoff step rather than a made-up instant.
            const retryAt = clock.now() + (told ? waitMs : retry.maxDelayMs);
            const when = told
              ? `the next request is allowed at ${new Date(retryAt).toISOString()}`
              : 'the server did not say when to try again';
            throw new RateLimitedError(redact(`${method} ${path}: ${outcome.message}; ${when}`), new Date(retryAt));
          }
          if (attempt >= retry.attempts) throw fail(outcome, status, attempt, cause, true);
          retriesUsed++;
          log.warn(`${method} ${path}: ${outcome.message}; waiting ${Math.ceil(waitMs / 1000)}s`);
          await clock.sleep(waitMs);
          continue;
        }
        case 'retry': {
          if (attempt >= retry.attempts) throw fail(outcome, status, attempt, cause, true);
          retriesUsed++;
          const waitMs =
            outcome.retryAfterMs !== undefined ? Math.min(outcome.retryAfterMs, maxWaitMs) : backoffDelay(retriesUsed, retry, random);
          log.warn(
            `${method} ${path}: ${outcome.message}; retry ${retriesUsed} of ${retry.attempts - 1} in ${(waitMs / 1000).toFixed(1)}s`,
          );
          await clock.sleep(waitMs);
          continue;
        }
      }
    }
  }

  async function* paginate<R>(
    base: HttpRequest,
    pagination: Pagination | Paginator,
    selectRecords: (body: unknown, response: HttpResponse) => readonly R[],
  ): AsyncGenerator<Page<R>, PaginateEnd, undefined> {
    const paginator = typeof pagination === 'function' ? pagination() : pagination;
    let patch: RequestPatch | null = paginator.first();
    let index = 0;
    for (; patch !== null; index++) {
      const sent = applyPatch(base, patch);
      const url = resolveUrl(sent);
      setQuery(url, sent.query);
      const response = await send(sent, index + 1);
      if (response.outcome.action === 'skip') {
        const at = index === 0 ? '' : ` at page ${index + 1} (${index} page${index === 1 ? ' was' : 's were'} read before it)`;
        log.warn(`${sent.method ?? 'GET'} ${new URL(response.url).pathname}: skipped${at}: ${response.outcome.message}`);
        return { pages: index, skipped: { status: response.status, url: response.url, message: response.outcome.message } };
      }
      const selected = selectRecords(response.body, response);
      if (!Array.isArray(selected)) {
        throw new TapError(
          redact(`${sent.method ?? 'GET'} ${new URL(response.url).pathname}: the records selector did not return an array`),
          'system',
        );
      }
      paginator.see?.({ index, request: sent, url: urlToString(url), response, records: selected });
      const records = (paginator.trim ? paginator.trim(selected) : selected) as readonly R[];
      const page: Page<R> = { index, request: sent, url: urlToString(url), response, records };
      yield page;
      try {
        patch = paginator.next(page);
      } catch (error) {
        if (error instanceof PaginationError) {
          throw new PaginationError(redact(`${sent.method ?? 'GET'} ${url.pathname}: ${error.message}`));
        }
        // A paginator's own refusal (e.g. a next link to another host) names the page it came from too.
        if (error instanceof TapError && !(error instanceof RateLimitedError)) {
          throw new TapError(redact(`${sent.method ?? 'GET'} ${url.pathname}: ${error.message}`), error.blame, { cause: error });
        }
        throw error;
      }
    }
    return { pages: index };
  }

  const client: HttpClient = {
    baseUrl,
    request: (req) => send(req),
    paginate,
    redact,
    redactor,
    log,
    budget,
    close: async () => agent?.close(),
  };
  const authContext: AuthContext = { http: client, addSecret: (value) => redactor.addSecret(value) };
  return client;
}
