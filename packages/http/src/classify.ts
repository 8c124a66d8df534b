// Response classifier: every response or network error becomes one Outcome (action + blame + message).

import type { Blame } from './errors.js';

export type Action = 'ok' | 'retry' | 'fail' | 'skip' | 'rate_limited' | 'refresh_auth';

export interface Outcome {
  action: Action;
  blame: Blame;
  /** One sentence for the user, without the `GET /path failed:` prefix the client adds. */
  message: string;
  /** When the server said how long to wait (Retry-After, a body field). */
  retryAfterMs?: number;
}

export interface RequestSummary {
  method: string;
  /** Path without query string (never holds secrets put there by auth). */
  path: string;
  attempt: number;
  /** The 1-based page of a `paginate` run (a later page may find the listing shrunk); undefined for a lone request. */
  page: number | undefined;
  /** Scheme, host and port the request went to. */
  origin: string;
  /** The client's base URL (from the config), for sentences that send the user to check it. */
  baseUrl: string;
  /** The API's name for sentences, e.g. 'CBTHost' (`HttpClientOptions.apiName`). */
  apiName: string | undefined;
}

export interface ResponseToClassify {
  kind: 'response';
  status: number;
  headers: Readonly<Record<string, string>>;
  /** Parsed JSON (when JSON was expected or the error body parsed), else the text. */
  body: unknown;
  /** The body as text ('' for `expect: 'raw'`). */
  text: string;
  /** Set when JSON was expected and the body did not parse. */
  parseError?: string;
  request: RequestSummary;
  /** Clock time when the response arrived, for HTTP-date Retry-After and epoch-second body fields. */
  now: number;
}

export interface NetworkErrorToClassify {
  kind: 'network';
  error: Error;
  /** undici / Node error code, e.g. UND_ERR_HEADERS_TIMEOUT, ECONNREFUSED. */
  code: string | undefined;
  request: RequestSummary;
  now: number;
}

export type ClassifyInput = ResponseToClassify | NetworkErrorToClassify;

/** Return an Outcome to decide, or undefined to let the next classifier (finally the default) decide. */
export type Classifier = (input: ClassifyInput) => Outcome | undefined;

/** Parse `Retry-After` (delta seconds or HTTP-date) into milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

function snippet(text: string, max = 200): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}

function networkMessage(input: NetworkErrorToClassify): string {
  switch (input.code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timed out connecting to the server';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'timed out waiting for the response';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timed out while reading the response body';
    case 'ECONNREFUSED':
      return 'the server refused the connection (ECONNREFUSED); check the base URL in your config';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name could not be resolved (${input.code}); check the base URL in your config`;
    default:
      return `the connection failed (${input.code ?? input.error.message})`;
  }
}

/** `an HTML page titled "…"` when a body that should be JSON is a web page, else undefined. */
function htmlPage(input: ResponseToClassify): string | undefined {
  const type = input.headers['content-type'] ?? '';
  if (!/\b(text\/html|application\/xhtml\+xml)\b/i.test(type) && !/^\uFEFF?\s*<(!doctype\s+html|html|head|body|!--)/i.test(input.text))
    return undefined;
  const title = /<title[^>]*>([^<]*)</i.exec(input.text)?.[1]?.trim();
  return title
    ? `an HTML page titled ${JSON.stringify(snippet(title, 80))}`
    : `an HTML page (it starts: ${JSON.stringify(snippet(input.text, 80))})`;
}

/**
 * An API's success answer, declared per API (and per request where an endpoint differs): a 2xx JSON
 * body is a page (or a resource) only when `test` recognises it. Anything else is classified by
 * `unrecognisedBody`, never read as an empty page.
 */
export interface SuccessShape {
  /** The shape in words, for messages: e.g. 'a JSON array' or 'an object with "status": "ok"'. */
  describe: string;
  test: (body: unknown) => boolean;
}

/** Declares a success shape: `successShape('a JSON array', Array.isArray)`. */
export function successShape(describe: string, test: (body: unknown) => boolean): SuccessShape {
  return { describe, test };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Keys vendors put their error's words under, most specific first (ClassMarker `error.error_message`, CBTHost `message`, DRF `detail`, PHP `msg`...). */
const MESSAGE_KEYS = [
  'error_message',
  'message',
  'msg',
  'detail',
  'error_description',
  'description',
  'error',
  'errors',
  'non_field_errors',
  'reason',
] as const;

/**
 * The vendor's own words in an error body, from whichever key holds them (`message`, `msg`, `error`,
 * `error.message`, `errors[0]`, `detail`, ...), on one line and at most 200 characters; undefined when none.
 */
export function vendorMessage(body: unknown, depth = 0): string | undefined {
  if (typeof body === 'string') return body.trim() === '' ? undefined : snippet(body);
  if (depth > 3) return undefined;
  if (Array.isArray(body)) {
    const words = body.map((item) => vendorMessage(item, depth + 1)).filter((w): w is string => w !== undefined);
    return words.length > 0 ? snippet(words.join('; ')) : undefined;
  }
  if (!isRecord(body)) return undefined;
  for (const key of MESSAGE_KEYS) {
    const words = vendorMessage(body[key], depth + 1);
    if (words !== undefined) return words;
  }
  // DRF field errors: {"state": ["Select a valid choice."]}.
  const fields = Object.entries(body).filter(
    ([, value]) => Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'),
  );
  if (fields.length > 0) return snippet(fields.map(([key, value]) => `${key}: ${(value as string[]).join(' ')}`).join('; '));
  return undefined;
}

/** A status a body reports about itself (`serverstatus: 404`, `code: 500`, `status: "429"`), when it is an HTTP status. */
function embeddedStatus(body: Record<string, unknown>): { key: string; status: number } | undefined {
  for (const key of ['serverstatus', 'status_code', 'statusCode', 'status', 'code']) {
    const raw = body[key];
    const status = typeof raw === 'number' || (typeof raw === 'string' && /^\d{3}$/.test(raw)) ? Number(raw) : Number.NaN;
    if (Number.isInteger(status) && status >= 100 && status <= 599) return { key, status };
  }
  return undefined;
}

const ERROR_STATUS = /^(error|errors|fail|failed|failure|ko|denied|invalid)$/i;

/** Whether an object says it is an error: `status: "error"`, an `error(s)` key, `success: false`, an error status inside, or words under a message key. */
function isErrorBody(body: Record<string, unknown>): boolean {
  if (typeof body.status === 'string' && ERROR_STATUS.test(body.status.trim())) return true;
  if (body.success === false || body.ok === false) return true;
  for (const key of ['error', 'errors', 'error_code', 'error_message']) {
    const value = body[key];
    if (value !== undefined && value !== null && value !== false && value !== '' && !(Array.isArray(value) && value.length === 0))
      return true;
  }
  const inside = embeddedStatus(body);
  if (inside !== undefined && inside.status >= 400) return true;
  return vendorMessage(body) !== undefined;
}

/** A body in a few words: `an object with keys "a", "b"`, `a JSON array of 3 items`, `the number 1`. */
function describeBody(body: unknown): string {
  if (Array.isArray(body)) return `a JSON array of ${body.length} item${body.length === 1 ? '' : 's'}`;
  if (isRecord(body)) {
    const keys = Object.keys(body);
    if (keys.length === 0) return 'an empty object';
    const listed = keys
      .slice(0, 8)
      .map((k) => JSON.stringify(k))
      .join(', ');
    return `an object with keys ${listed}${keys.length > 8 ? ', …' : ''}`;
  }
  return `the ${typeof body} ${snippet(String(body), 40)}`;
}

/**
 * For a 2xx JSON body that is not the declared success shape, what it is and what to do about it:
 * - a vendor error (`{"status":"error",...}`, `{"error": ...}`, `{"serverstatus": 404, "message": ...}`,
 *   a bare JSON string): fail, config, quoting the vendor's words (the vendor refused, and running
 *   again will not change that); rate_limited when it reports 429 inside, retry (transient) on 5xx inside;
 * - JSON `null`: retry, transient (a server that failed while answering); after the retries the run stops, transient;
 * - anything else (a number, an array where an object is expected, an object with no error in it):
 *   fail, system: the API answered in a shape the tap does not read.
 * Never `ok`: an unrecognised answer is never an empty page. Connectors' own classifiers run first
 * and may name documented answers more precisely (e.g. skip a partition that has no results).
 */
export function unrecognisedBody(shape: SuccessShape | undefined): Classifier {
  return (input) => {
    if (shape === undefined || input.kind !== 'response' || input.status < 200 || input.status >= 300 || input.parseError !== undefined)
      return undefined;
    if (input.status === 204 || input.status === 205 || shape.test(input.body)) return undefined;
    return classifyUnrecognised(input, shape.describe);
  };
}

function classifyUnrecognised(input: ResponseToClassify, expected: string): Outcome {
  const { body, status } = input;
  const answered = `${input.request.apiName ?? 'the server'} answered HTTP ${status} with`;
  if (body === null) return { action: 'retry', blame: 'transient', message: `${answered} JSON null instead of ${expected}` };
  if (typeof body === 'string' || (isRecord(body) && isErrorBody(body))) {
    const words = vendorMessage(body);
    const inside = isRecord(body) ? embeddedStatus(body) : undefined;
    const code = inside !== undefined && inside.status !== status ? ` (${inside.key} ${inside.status})` : '';
    const said = `${answered} an error${code}${words !== undefined ? `: ${JSON.stringify(words)}` : ` (${describeBody(body)})`}`;
    if (inside?.status === 429) return { action: 'rate_limited', blame: 'transient', message: said };
    if (inside !== undefined && inside.status >= 500) return { action: 'retry', blame: 'transient', message: said };
    return { action: 'fail', blame: 'config', message: `${said}, not ${expected}; check the credentials and ids in your config` };
  }
  return {
    action: 'fail',
    blame: 'system',
    message: `${answered} ${describeBody(body)}, not ${expected}; the API may have changed the shape of its answer, which this tap does not read`,
  };
}

/** `: "the vendor's words"` from a JSON error body (not from an HTML page or plain text), else ''. */
function vendorWords(input: ResponseToClassify): string {
  const words = typeof input.body === 'object' ? vendorMessage(input.body) : undefined;
  return words === undefined ? '' : `: ${JSON.stringify(words)}`;
}

/** The house default: 2xx ok (an HTML page instead of JSON: retried once, then a config failure); 401 refresh_auth (becomes a config failure when auth cannot refresh); 403/404 fail; 408/425/5xx retry; 429 rate_limited. */
export const defaultClassifier = (input: ClassifyInput): Outcome => {
  if (input.kind === 'network') {
    return { action: 'retry', blame: 'transient', message: networkMessage(input) };
  }
  const { status, headers, now } = input;
  const retryAfterMs = parseRetryAfter(headers['retry-after'], now);
  const withRetryAfter = (o: Outcome): Outcome => (retryAfterMs === undefined ? o : { ...o, retryAfterMs });
  if (status >= 200 && status < 300) {
    const html = input.parseError === undefined ? undefined : htmlPage(input);
    if (html !== undefined) {
      // A web page with a success status is rarely a passing fault (a proxy's error page comes with
      // a 5xx): a login page, a proxy or the vendor's website answers at the configured address. One
      // retry rides out a blip; a second page is the config's to fix, not a parse error to retry.
      if (input.request.attempt < 2) return { action: 'retry', blame: 'transient', message: `the response is ${html}, not JSON` };
      const { origin, baseUrl, apiName } = input.request;
      return {
        action: 'fail',
        blame: 'config',
        message: `${new URL(baseUrl).origin === origin ? baseUrl : origin} answered HTTP ${status} with ${html}, not the ${apiName === undefined ? '' : `${apiName} `}JSON API; check the base URL in your config: it may point at a login page, a proxy or the vendor's website instead of the API`,
      };
    }
    if (input.parseError !== undefined) {
      // A truncated body; usually passes on retry.
      return {
        action: 'retry',
        blame: 'transient',
        message: `the response body is not valid JSON (${input.parseError}); it starts: ${JSON.stringify(snippet(input.text, 120))}`,
      };
    }
    // JSON null is never a page, declared shape or not (e.g. a PHP backend that failed while answering).
    if (input.body === null && input.text.trim() !== '' && status !== 204 && status !== 205)
      return classifyUnrecognised(input, 'a JSON body');
    return { action: 'ok', blame: 'transient', message: 'ok' };
  }
  if (status >= 300 && status < 400) {
    return {
      action: 'fail',
      blame: 'config',
      message: `the server redirected to ${headers['location'] ?? 'another address'} (HTTP ${status}); check the base URL in your config`,
    };
  }
  if (status === 401) {
    return {
      action: 'refresh_auth',
      blame: 'config',
      message: `the server rejected the credentials (HTTP 401${vendorWords(input)}). Check the credentials in your config`,
    };
  }
  if (status === 403) {
    return {
      action: 'fail',
      blame: 'config',
      message: `access was denied (HTTP 403${vendorWords(input)}). Check that the credentials in your config are valid and allowed to read this resource`,
    };
  }
  if (status === 404) {
    return {
      action: 'fail',
      blame: 'config',
      message: `the resource was not found (HTTP 404${vendorWords(input)}). Check the base URL and any ids in your config`,
    };
  }
  if (status === 429) {
    return withRetryAfter({ action: 'rate_limited', blame: 'transient', message: 'the server rate limit was reached (HTTP 429)' });
  }
  if (status === 408 || status === 425 || status >= 500) {
    return withRetryAfter({ action: 'retry', blame: 'transient', message: `the server had a temporary problem (HTTP ${status})` });
  }
  const detail = input.text ? `: ${snippet(input.text)}` : '';
  return { action: 'fail', blame: 'system', message: `the server rejected the request (HTTP ${status})${detail}` };
};

/** Run `classifiers` in order; the first that returns an Outcome wins; the default decides last. */
export function composeClassifiers(...classifiers: ReadonlyArray<Classifier | undefined>): (input: ClassifyInput) => Outcome {
  const chain = classifiers.filter((c): c is Classifier => c !== undefined);
  return (input) => {
    for (const classify of chain) {
      const outcome = classify(input);
      if (outcome) return outcome;
    }
    return defaultClassifier(input);
  };
}

/** Override the outcome for given statuses, e.g. `byStatus({ 404: { action: 'skip', blame: 'config', message: 'no such exam' } })`. */
export function byStatus(table: Readonly<Record<number, Outcome | ((input: ResponseToClassify) => Outcome | undefined)>>): Classifier {
  return (input) => {
    if (input.kind !== 'response') return undefined;
    const entry = table[input.status];
    if (entry === undefined) return undefined;
    return typeof entry === 'function' ? entry(input) : entry;
  };
}

/** Classify by the parsed body, for APIs that report errors inside HTTP 200 (or any) responses. */
export function byBody(inspect: (body: unknown, input: ResponseToClassify) => Outcome | undefined): Classifier {
  return (input) => {
    if (input.kind !== 'response' || input.parseError !== undefined) return undefined;
    return inspect(input.body, input);
  };
}
