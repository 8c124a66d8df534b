// The ClassMarker API profile: request signing, error envelopes, the hourly budget and time paging.
import { createHash } from 'node:crypto';
import {
  type Auth,
  byBody,
  type HttpClientOptions,
  type Outcome,
  type Pagination,
  type Paginator,
  successShape,
  vendorMessage,
} from '@tapline/http';
import { defineApi, type StreamContext, TapError } from '@tapline/tap-kit';
import { type ClassMarkerConfig, configSchema } from './config.js';

const HOUR_MS = 3_600_000;
/** "By default up to 200 results are returned … decrease … but not increase" [doc]. */
const MAX_PAGE_SIZE = 200;

/** The parts of a ClassMarker envelope the tap reads [doc; docs/providers/classmarker.md, "Envelopes"]. */
interface Envelope {
  status?: string;
  server_timestamp?: unknown;
  more_results_exist?: unknown;
  error?: { error_code?: string; error_message?: string; next_request_after?: unknown };
}

/** Numbers arrive as LosslessNumber, number or string; all print as their digits. */
const toNumber = (value: unknown): number => Number(String(value));

/** The server clock's lead over ours, learnt from a timeStampOutOfRange answer. */
interface ServerClock {
  skewSeconds: number;
}

/**
 * Every call carries api_key, timestamp and signature = lowercase hex hash(api_key + api_secret +
 * timestamp), computed fresh for each attempt: a signature is only valid for 5 minutes [doc].
 */
function signedQuery(config: ClassMarkerConfig, clock: ServerClock): Auth {
  return {
    secretNames: ['signature', 'api_key'],
    apply(request, ctx) {
      const timestamp = String(Math.floor(Date.now() / 1000) + clock.skewSeconds);
      const signature = createHash(config.signature_algorithm).update(`${config.api_key}${config.api_secret}${timestamp}`).digest('hex');
      ctx.addSecret(signature);
      request.url.searchParams.set('api_key', config.api_key);
      request.url.searchParams.set('signature', signature);
      request.url.searchParams.set('timestamp', timestamp);
    },
    // timeStampOutOfRange: the classifier has adopted the server's clock; apply() re-signs with it (once).
    async refresh() {},
  };
}

const fix = (blame: Outcome['blame'], message: string): Outcome => ({ action: 'fail', blame, message });

/**
 * ClassMarker answers HTTP 200 even for API errors [doc: "All ClassMarker's requests return a HTTP
 * 200 Success header even if an API system error occurs"], so the body decides. Every code in the
 * document maps to an outcome; auth/account codes say what to fix.
 */
function classifyEnvelope(clock: ServerClock) {
  return byBody((body, input): Outcome | undefined => {
    const envelope = body as Envelope | null;
    if (typeof envelope !== 'object' || envelope === null) return undefined;
    // The 2012 sample's rate-limit status, superseded by rateLimitExceeded (docs/providers/classmarker.md, "Errors").
    if (envelope.status === 'request_limit_reached')
      return { action: 'rate_limited', blame: 'transient', message: 'ClassMarker reports the hourly request limit was reached' };
    if (envelope.status !== 'error') return undefined;
    const code = envelope.error?.error_code ?? '(none)';
    // The words from whichever key holds them: error.error_message as documented, else error.message, message, ...
    const words = vendorMessage(envelope.error) ?? vendorMessage(envelope);
    const said = words !== undefined ? ` ClassMarker says: "${words}"` : '';
    switch (code) {
      case 'apiKeyAuthFail':
        return fix(
          'config',
          `ClassMarker rejected the signature (apiKeyAuthFail): check api_key and api_secret, and try signature_algorithm "sha256" if you use "md5" (or the reverse)`,
        );
      case 'noApiKeyExists':
        return fix('config', 'ClassMarker knows no such API key (noApiKeyExists): copy api_key again from My Account > API/Webhooks');
      case 'apiKeyInactive':
        return fix(
          'config',
          'The ClassMarker API key is not active (apiKeyInactive): activate it, or check its start and finish dates, under My Account > API/Webhooks',
        );
      case 'accountNotUpgraded':
        return fix('config', 'The ClassMarker account is not upgraded (accountNotUpgraded): API access needs a paid plan');
      case 'apiKeyNoGroupPermission':
        return fix(
          'config',
          'The API key may not read a group or link in the request (apiKeyNoGroupPermission): grant the key access to it, or remove it from group_tests / link_tests',
        );
      case 'incorrectUrlId':
        return fix(
          'config',
          `A group, link, test or access list id in the request does not exist for this key (incorrectUrlId): check the ids in your config or command.${said}`,
        );
      case 'incorrectUrl':
      case 'incorrectUrlVersionNumber':
        return fix('config', `ClassMarker does not know this URL (${code}): check base_url in your config.${said}`);
      case 'timeStampOutOfRange': {
        const server = toNumber(input.body && (input.body as Envelope).server_timestamp);
        const skew = Number.isFinite(server) ? Math.round(server - input.now / 1000) : 0;
        clock.skewSeconds = skew;
        return {
          action: 'refresh_auth',
          blame: 'config',
          message: `ClassMarker rejected the request timestamp (timeStampOutOfRange); this machine's clock differs from ClassMarker's by about ${Math.abs(skew)} s: sync it (NTP)`,
        };
      }
      case 'rateLimitExceeded': {
        const next = toNumber(envelope.error?.next_request_after);
        const retryAfterMs = Number.isFinite(next) ? Math.max(0, next * 1000 - input.now) : HOUR_MS;
        return {
          action: 'rate_limited',
          blame: 'transient',
          message: 'ClassMarker reports the hourly request limit was reached (rateLimitExceeded)',
          retryAfterMs,
        };
      }
      case 'offlineMaintenance':
      case 'internalError100':
      case 'internalError101':
        return { action: 'retry', blame: 'transient', message: `ClassMarker is temporarily unavailable (${code})` };
      case 'finishedAfterTimestampTooEarly':
        return fix(
          'system',
          `ClassMarker refused a finishedAfterTimestamp older than 3 months (finishedAfterTimestampTooEarly), though the tap clamps it; is this machine's clock right?`,
        );
      case 'payloadValidationError':
        return fix(
          'config',
          `ClassMarker refused the codes sent (payloadValidationError): codes must be 1–255 characters, at most 100 per request and 20,000 per list.${said}`,
        );
      default:
        // incorrectRequestMethod, invalidJson, requestParamValidationError, invalidInput, … are our bugs.
        return fix('system', `ClassMarker refused the request (${code}).${said}`);
    }
  });
}

/**
 * A page (or a catalog, or an access-list answer): `status: "ok"`, or `status: "no_results"`, the
 * documented empty answer [docs/providers/classmarker.md]. Anything else is an error or an unknown shape,
 * never an empty page.
 */
export const classMarkerSuccess = successShape('a ClassMarker envelope with "status": "ok" or "no_results"', (body) => {
  const status = (body as Envelope | null)?.status;
  return typeof body === 'object' && body !== null && !Array.isArray(body) && (status === 'ok' || status === 'no_results');
});

/** HTTP settings shared by the sync and the access-codes command; `budget: false` for calls the limit does not cover. */
export function classMarkerHttp(config: ClassMarkerConfig, options: { budget?: boolean } = {}): Partial<HttpClientOptions> {
  const clock: ServerClock = { skewSeconds: 0 };
  return {
    userAgent: 'tap-classmarker (+tapline)',
    apiName: 'ClassMarker',
    // Content-type as ClassMarker's own client sends it on every call (docs/providers/classmarker.md, "Requests").
    headers: { 'content-type': 'application/json; charset=utf-8' },
    auth: signedQuery(config, clock),
    classify: classifyEnvelope(clock),
    success: classMarkerSuccess,
    onRateLimit: config.on_rate_limit,
    // next_request_after "will be within one hour" [doc]: waiting mode must accept an hour.
    maxRateLimitWaitMs: HOUR_MS + 60_000,
    ...(options.budget === false ? {} : { budget: { limit: config.requests_per_hour, intervalMs: HOUR_MS, label: 'ClassMarker' } }),
  };
}

/**
 * Recent results page forward in time: "finished after" is strict, and next_finished_after_timestamp
 * is the last result's time_finished [doc]. The document promises that following it downloads
 * nothing twice, which a server can only keep by never ending a page inside a second; but a full
 * page (exactly `limit`) gives no proof of that, and a server cutting a same-second tie there would
 * make a client following it skip the rest (docs/providers/classmarker.md, "Paging"). So after a full page the next
 * request asks for results after (last second - 1), re-reading that second, and the kit drops the
 * already-emitted ones (boundary de-duplication on the key). A page shorter or longer than `limit`
 * while more results exist was ended on a whole second by the server: paging goes on after it.
 */
function finishedAfterPaginator(): Paginator {
  return {
    first: () => ({}),
    next({ request, response, records }) {
      const body = response.body as Envelope;
      if (body?.status !== 'ok' || body.more_results_exist !== true || records.length === 0) return null;
      const times = records.map((record) => toNumber((record as { time_finished?: unknown }).time_finished));
      const last = Math.max(...times);
      const sent = toNumber(request.query?.finishedAfterTimestamp);
      const limit = toNumber(request.query?.limit);
      if (Number.isFinite(limit) && records.length !== limit) return { query: { finishedAfterTimestamp: last } };
      if (last - 1 <= sent) {
        // A whole page inside one second: strict "after" cannot page within a second. The remedy is
        // the user's (a bigger page_size, or pairs), so it is a config error that says which.
        const limit = toNumber(request.query?.limit);
        const at = new Date(last * 1000).toISOString();
        throw new TapError(
          Number.isFinite(limit) && limit < MAX_PAGE_SIZE
            ? `ClassMarker returned a full page of ${records.length} results all finished at ${at}, and its API cannot page inside one second, so the rest of that second would be lost: raise page_size (now ${limit}) to ${MAX_PAGE_SIZE} so one page holds the whole second, or read those results per pair with group_tests / link_tests.`
            : `ClassMarker returned a full page of ${records.length} results all finished at ${at}, more than page_size's maximum of ${MAX_PAGE_SIZE}, and its API cannot page inside one second: read those results per pair with group_tests / link_tests so each pair's page holds its part of that second.`,
          'config',
        );
      }
      return { query: { finishedAfterTimestamp: last - 1 } };
    },
  };
}

export const finishedAfterPaging: Pagination = Object.assign(finishedAfterPaginator, {
  kind: 'body_cursor' as const,
  start: finishedAfterPaginator,
});

export const classmarker = defineApi<ClassMarkerConfig>({
  config: configSchema,
  baseUrl: (config) => config.base_url,
  http: (config) => classMarkerHttp(config),
  records: 'results[*].result',
  pagination: finishedAfterPaging,
  test: { path: 'v1.json' },
});

/** v1.json lists groups, links and their tests; the three catalog streams share one request per run. */
const catalogs = new WeakMap<object, Promise<Record<string, unknown>>>();
function catalogOf(ctx: StreamContext<ClassMarkerConfig>): Promise<Record<string, unknown>> {
  let body = catalogs.get(ctx.http);
  if (!body) {
    body = ctx.http.request({ method: 'GET', path: 'v1.json' }).then((response) => response.body as Record<string, unknown>);
    catalogs.set(ctx.http, body);
  }
  return body;
}

/** Unwraps `[{"group": {...}}]` items [doc]. */
const unwrap = (list: unknown, item: string): Record<string, unknown>[] =>
  Array.isArray(list)
    ? list
        .map((entry) => (entry as Record<string, Record<string, unknown>>)[item])
        .filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null)
    : [];

/** A `fetch` for the groups or links in v1.json (one page). */
export function catalogList(list: 'groups' | 'links') {
  const item = list === 'groups' ? 'group' : 'link';
  return async function* (ctx: StreamContext<ClassMarkerConfig>): AsyncIterable<readonly unknown[]> {
    yield unwrap((await catalogOf(ctx))[list], item);
  };
}

/** A `fetch` for every test assigned to a group or link in v1.json, each once. */
export async function* catalogTests(ctx: StreamContext<ClassMarkerConfig>): AsyncIterable<readonly unknown[]> {
  const body = await catalogOf(ctx);
  const tests = new Map<string, Record<string, unknown>>();
  for (const owner of [...unwrap(body.groups, 'group'), ...unwrap(body.links, 'link')]) {
    for (const test of unwrap(owner.assigned_tests, 'test')) tests.set(String(test.test_id), test);
  }
  yield [...tests.values()];
}

/** `[{"test": {"test_id": 1}}]` -> [1]: the ids of a group's or link's assigned tests. */
export function assignedTestIds(raw: Record<string, unknown>): unknown[] {
  return unwrap(raw.assigned_tests, 'test').map((test) => test.test_id);
}
