// The HTTP client: one keep-alive undici Agent per connector (it pools connections per origin),
// driving auth, classification, retries, the rate budget and the request log. A request is shaped
// once, then attempted until it settles; one attempt on the wire is exchange.ts's.

import { createRequire } from 'node:module';
import type { Agent } from 'undici';
import type { Auth, AuthContext, OutgoingRequest } from './auth.js';
import type { RetryOptions } from './backoff.js';
import { backoffDelay, DEFAULT_RETRY } from './backoff.js';
import type { Classifier, ClassifyInput, Outcome, RequestSummary, SuccessShape } from './classify.js';
import { composeClassifiers, unrecognisedBody } from './classify.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { HttpError, PaginationError, RateLimitedError, TapError } from './errors.js';
import type { Exchanged, ExchangeRequest, ExchangeSettings, Expect } from './exchange.js';
import { exchange } from './exchange.js';
import { DEFAULT_MAX_RESPONSE_BYTES, limitOutcome } from './limits.js';
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

export type { Expect } from './exchange.js';

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

/** The options with their defaults, settled once per client; each part of a request reads what it needs. */
interface ClientSettings extends ExchangeSettings {
  baseUrl: string;
  apiName: string | undefined;
  random: () => number;
  retry: Required<RetryOptions>;
  onRateLimit: OnRateLimit;
  maxWaitMs: number;
  stringifyJson: (value: unknown) => string;
  redactor: Redactor;
  redact: (text: string) => string;
  log: Logger;
  classifyChain: readonly Classifier[];
  success: SuccessShape | undefined;
  auth: Auth | undefined;
  budget: RateBudget | undefined;
  /** The client's own headers (lower-case): the user agent, then the connector's. */
  defaultHeaders: Record<string, string>;
  onRequest: ((event: RequestEvent) => void) | undefined;
  closeAgent(): Promise<void>;
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const settings = settle(options);
  const send = <T>(request: HttpRequest, page?: number): Promise<HttpResponse<T>> =>
    attemptUntilSettled<T>({ settings, shaped: shapeRequest(settings, request, page), authContext, retriesUsed: 0, refreshed: false });
  const client: HttpClient = {
    baseUrl: settings.baseUrl,
    request: (request) => send(request),
    paginate: (request, pagination, selectRecords) => paginate(settings, send, request, pagination, selectRecords),
    redact: settings.redact,
    redactor: settings.redactor,
    log: settings.log,
    budget: settings.budget,
    close: settings.closeAgent,
  };
  const authContext: AuthContext = { http: client, addSecret: (value) => settings.redactor.addSecret(value) };
  return client;
}

function settle(options: HttpClientOptions): ClientSettings {
  const clock = options.clock ?? systemClock;
  const onRateLimit = options.onRateLimit ?? 'wait';
  const maxWaitMs = options.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
  const redactor = createRedactor(options.secrets);
  for (const name of options.auth?.secretNames ?? []) redactor.addSecretName(name);
  const redact = (text: string) => redactor.redact(text);
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const defaultHeaders: Record<string, string> = { 'user-agent': options.userAgent ?? DEFAULT_USER_AGENT };
  for (const [k, v] of Object.entries(options.headers ?? {})) defaultHeaders[k.toLowerCase()] = v;
  const agent = lazyAgent(options.connections ?? 4, timeouts);
  return {
    baseUrl: new URL(options.baseUrl).href.replace(/\/+$/, ''),
    apiName: options.apiName,
    clock,
    random: options.random ?? Math.random,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    onRateLimit,
    maxWaitMs,
    parseJson: options.parseJson ?? JSON.parse,
    stringifyJson: options.stringifyJson ?? ((value: unknown) => JSON.stringify(value)),
    redactor,
    redact,
    log: redactingLogger(options.logger ?? createStderrLogger(), redact),
    classifyChain: Array.isArray(options.classify) ? options.classify : options.classify ? [options.classify as Classifier] : [],
    success: options.success,
    auth: options.auth,
    budget:
      options.budget === undefined || options.budget instanceof RateBudget
        ? options.budget
        : new RateBudget(options.budget, { clock, onExceeded: onRateLimit, maxWaitMs }),
    timeouts,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    limitSettings: options.limitSettings ?? {},
    defaultHeaders,
    onRequest: options.onRequest,
    agent: agent.get,
    closeAgent: agent.close,
  };
}

// undici (CommonJS, ~110 modules) loads with the first request, not with the client: --help,
// --about and --discover make none (packages/bench README, "Start-up").
function lazyAgent(connections: number, timeouts: Required<HttpTimeouts>): { get(): Agent; close(): Promise<void> } {
  let agent: Agent | undefined;
  return {
    get: () =>
      (agent ??= new (createRequire(import.meta.url)('undici') as typeof import('undici')).Agent({
        connections,
        keepAliveTimeout: 10_000,
        connect: { timeout: timeouts.connectMs },
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
      })),
    close: async () => agent?.close(),
  };
}

/** One request as each of its attempts sends it, with the names its log lines and errors use. */
interface ShapedRequest extends ExchangeRequest {
  readonly url: URL;
  readonly path: string;
  /** Path and query, redacted: the request log's `target`. */
  readonly target: string;
  /** The request's `endpoint` label, or its path. */
  readonly endpoint: string;
  /** The 1-based page when `paginate` sends it, for classifiers (`RequestSummary.page`). */
  readonly page: number | undefined;
  /** The request's classifier, the client's, the success shape's, then the default: always decides. */
  readonly classify: (input: ClassifyInput) => Outcome;
  readonly auth: Auth | undefined;
  /** Every header but the auth's. */
  readonly headers: Readonly<Record<string, string>>;
}

function shapeRequest(settings: ClientSettings, req: HttpRequest, page: number | undefined): ShapedRequest {
  const method = (req.method ?? 'GET').toUpperCase();
  const expect = req.expect ?? 'json';
  const url = resolveUrl(settings.baseUrl, req);
  setQuery(url, req.query);
  const shape = req.success === null || expect !== 'json' ? undefined : (req.success ?? settings.success);
  const body = encodeBody(req.body, settings.stringifyJson);
  // Precedence, weakest first: what the client infers, the connector's headers, this request's headers.
  const headers: Record<string, string> = {
    accept: expect === 'json' ? 'application/json' : '*/*',
    ...body.headers,
    ...settings.defaultHeaders,
  };
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  return {
    method,
    expect,
    url,
    path: url.pathname,
    target: settings.redact(url.pathname + url.search.replace(/\+/g, '%20')),
    redactedUrl: settings.redact(urlToString(url)),
    endpoint: req.endpoint ?? url.pathname,
    page,
    classify: composeClassifiers(req.classify, ...settings.classifyChain, unrecognisedBody(shape)),
    auth: req.auth === false ? undefined : settings.auth,
    payload: body.payload,
    headers,
  };
}

function resolveUrl(baseUrl: string, request: HttpRequest): URL {
  if (request.url !== undefined) return new URL(request.url, `${baseUrl}/`);
  return joinUrl(baseUrl, request.path ?? '/');
}

/** A string or bytes go as they are; anything else as JSON. */
function encodeBody(
  body: unknown,
  stringifyJson: (value: unknown) => string,
): { payload: string | Uint8Array | undefined; headers: Record<string, string> } {
  if (body === undefined) return { payload: undefined, headers: {} };
  if (typeof body === 'string' || body instanceof Uint8Array) return { payload: body, headers: {} };
  return { payload: stringifyJson(body), headers: { 'content-type': 'application/json' } };
}

/** One `send` in progress: what its attempts share, and what they have used up. */
interface Sending {
  readonly settings: ClientSettings;
  readonly shaped: ShapedRequest;
  readonly authContext: AuthContext;
  retriesUsed: number;
  refreshed: boolean;
}

type Attempt = Exchanged & { number: number };

/** The attempt loop: wait for the rate budget, sign, exchange, classify, log; then return, fail, or try again. */
async function attemptUntilSettled<T>(sending: Sending): Promise<HttpResponse<T>> {
  const { settings, shaped } = sending;
  for (let number = 1; ; number++) {
    if (settings.budget) await settings.budget.acquire();
    const outgoing = await authorise(sending);
    const summary: RequestSummary = {
      method: shaped.method,
      path: shaped.path,
      attempt: number,
      page: shaped.page,
      origin: outgoing.url.origin,
      baseUrl: settings.baseUrl,
      apiName: settings.apiName,
    };
    const attempt: Attempt = { ...(await exchange(settings, shaped, outgoing, summary)), number };
    // The client's own limits are decided here, whatever the classifiers say about network errors.
    const outcome = (attempt.input.kind === 'network' ? limitOutcome(attempt.input.error) : undefined) ?? shaped.classify(attempt.input);
    logAttempt(sending, attempt, outcome);
    if (outcome.action === 'ok' || outcome.action === 'skip') {
      const { status, headers, body, elapsedMs } = attempt;
      return { status: status as number, headers, body: body as T, url: shaped.redactedUrl, elapsedMs, attempts: number, outcome };
    }
    await prepareNextAttempt(sending, outcome, attempt);
  }
}

/** The attempt's own copy of the shaped request, signed by the auth (which may set headers and query params). */
async function authorise(sending: Sending): Promise<OutgoingRequest> {
  const { shaped } = sending;
  const outgoing = { method: shaped.method, url: new URL(shaped.url.href), headers: { ...shaped.headers } };
  if (shaped.auth) {
    try {
      await shaped.auth.apply(outgoing, sending.authContext);
    } catch (error) {
      throw authFailure(sending, 'could not prepare authentication', error);
    }
  }
  return outgoing;
}

/** One line per attempt (info when ok, warn otherwise), secrets redacted, and the `onRequest` hook. */
function logAttempt({ settings, shaped }: Sending, attempt: Attempt, outcome: Outcome): void {
  const { input } = attempt;
  const event: RequestEvent = {
    method: shaped.method,
    endpoint: settings.redact(shaped.endpoint),
    target: shaped.target,
    status: attempt.status,
    elapsedMs: attempt.elapsedMs,
    attempt: attempt.number,
    action: outcome.action,
    ...(input.kind === 'network' && input.code !== undefined ? { errorCode: input.code } : {}),
  };
  (outcome.action === 'ok' ? settings.log.info : settings.log.warn)(formatRequestLine(event));
  settings.onRequest?.(event);
}

/** After an attempt that did not settle the request: throw when it cannot go on, else wait (or sign in again) for the next. */
async function prepareNextAttempt(sending: Sending, outcome: Outcome, attempt: Attempt): Promise<void> {
  switch (outcome.action) {
    case 'fail':
      throw failure(sending, outcome, attempt);
    case 'refresh_auth':
      return signInAgain(sending, outcome, attempt);
    case 'rate_limited':
      return waitOutRateLimit(sending, outcome, attempt);
    case 'retry':
      return backOff(sending, outcome, attempt);
  }
}

/** Rejected credentials: sign in again once per request; still rejected (or no way to sign in) is the config's to fix. */
async function signInAgain(sending: Sending, outcome: Outcome, attempt: Attempt): Promise<void> {
  const { shaped } = sending;
  const auth = shaped.auth;
  if (!auth?.refresh || sending.refreshed) {
    const again = sending.refreshed ? { ...outcome, message: `${outcome.message} (still rejected after signing in again)` } : outcome;
    throw failure(sending, { ...again, blame: outcome.blame === 'transient' ? 'config' : outcome.blame }, attempt);
  }
  sending.refreshed = true;
  sending.settings.log.info(`${shaped.method} ${shaped.path}: credentials rejected; signing in again once`);
  try {
    await auth.refresh(sending.authContext);
  } catch (error) {
    throw authFailure(sending, 'could not sign in again', error);
  }
}

/**
 * A rate limit: wait for the server's Retry-After (shared with the budget) or a backoff step, unless
 * the client is told to stop or the wait is longer than it accepts: then a RateLimitedError saying when.
 */
async function waitOutRateLimit(sending: Sending, outcome: Outcome, attempt: Attempt): Promise<void> {
  const { settings, shaped } = sending;
  const { clock, retry } = settings;
  const told = outcome.retryAfterMs !== undefined;
  const waitMs = outcome.retryAfterMs ?? backoffDelay(sending.retriesUsed + 1, retry, settings.random);
  if (told) settings.budget?.blockUntil(clock.now() + waitMs);
  if (settings.onRateLimit === 'stop' || waitMs > settings.maxWaitMs) {
    // Without a server hint, "try again" after the longest backoff step rather than a made-up instant.
    const retryAt = clock.now() + (told ? waitMs : retry.maxDelayMs);
    const when = told ? `the next request is allowed at ${new Date(retryAt).toISOString()}` : 'the server did not say when to try again';
    throw new RateLimitedError(settings.redact(`${shaped.method} ${shaped.path}: ${outcome.message}; ${when}`), new Date(retryAt));
  }
  if (attempt.number >= retry.attempts) throw failure(sending, outcome, attempt, true);
  sending.retriesUsed++;
  settings.log.warn(`${shaped.method} ${shaped.path}: ${outcome.message}; waiting ${Math.ceil(waitMs / 1000)}s`);
  await clock.sleep(waitMs);
}

/** A transient failure: the next backoff step (or the server's Retry-After, capped), while attempts are left. */
async function backOff(sending: Sending, outcome: Outcome, attempt: Attempt): Promise<void> {
  const { settings, shaped } = sending;
  const { retry } = settings;
  if (attempt.number >= retry.attempts) throw failure(sending, outcome, attempt, true);
  sending.retriesUsed++;
  const waitMs =
    outcome.retryAfterMs !== undefined
      ? Math.min(outcome.retryAfterMs, settings.maxWaitMs)
      : backoffDelay(sending.retriesUsed, retry, settings.random);
  settings.log.warn(
    `${shaped.method} ${shaped.path}: ${outcome.message}; retry ${sending.retriesUsed} of ${retry.attempts - 1} in ${(waitMs / 1000).toFixed(1)}s`,
  );
  await settings.clock.sleep(waitMs);
}

function failure({ settings, shaped }: Sending, outcome: Outcome, attempt: Attempt, afterRetries = false): HttpError {
  const { method, path } = shaped;
  const attempts = attempt.number;
  const tries = afterRetries ? ` after ${attempts} attempt${attempts === 1 ? '' : 's'}` : '';
  return new HttpError({
    message: settings.redact(`${method} ${path} failed${tries}: ${sentence(outcome.message)}`),
    blame: outcome.blame,
    status: attempt.status,
    method,
    url: shaped.redactedUrl,
    attempts,
    cause: attempt.cause,
  });
}

/** An auth that throws a TapError said what is wrong; anything else it throws is our bug, named with the request. */
function authFailure({ settings, shaped }: Sending, doing: string, error: unknown): TapError {
  if (error instanceof TapError) return error;
  return new TapError(settings.redact(`${shaped.method} ${shaped.path}: ${doing}: ${(error as Error).message}`), 'system', {
    cause: error,
  });
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

async function* paginate<R>(
  settings: ClientSettings,
  send: (request: HttpRequest, page: number) => Promise<HttpResponse>,
  base: HttpRequest,
  pagination: Pagination | Paginator,
  selectRecords: (body: unknown, response: HttpResponse) => readonly R[],
): AsyncGenerator<Page<R>, PaginateEnd, undefined> {
  const { log, redact } = settings;
  const paginator = typeof pagination === 'function' ? pagination() : pagination;
  let patch: RequestPatch | null = paginator.first();
  let index = 0;
  for (; patch !== null; index++) {
    const sent = applyPatch(base, patch);
    const url = resolveUrl(settings.baseUrl, sent);
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
