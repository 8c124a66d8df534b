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
  if (!/\b(text\/html|application\/xhtml\+xml)\b/i.test(type) && !/^\uFEFF?\s*<(!doctype\s+html|html|head|body|!--)/i.test(input.text)) return undefined;
  const title = /<title[^>]*>([^<]*)</i.exec(input.text)?.[1]?.trim();
  return title ? `an HTML page titled ${JSON.stringify(snippet(title, 80))}` : `an HTML page (it starts: ${JSON.stringify(snippet(input.text, 80))})`;
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
      message: 'the server rejected the credentials (HTTP 401). Check the credentials in your config',
    };
  }
  if (status === 403) {
    return {
      action: 'fail',
      blame: 'config',
      message: 'access was denied (HTTP 403). Check that the credentials in your config are valid and allowed to read this resource',
    };
  }
  if (status === 404) {
    return {
      action: 'fail',
      blame: 'config',
      message: 'the resource was not found (HTTP 404). Check the base URL and any ids in your config',
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
