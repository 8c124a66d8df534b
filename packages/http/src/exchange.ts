// One attempt on the wire: undici's request under the total deadline, the body read within the size
// bound and decoded as the caller expects, and what came back (an answer or a network error) in the
// shape the classifiers read. Retrying, auth and logging are the client's (client.ts).

import { performance } from 'node:perf_hooks';
import type { Agent } from 'undici';
import type { OutgoingRequest } from './auth.js';
import type { ClassifyInput, RequestSummary } from './classify.js';
import type { Clock } from './clock.js';
import { formatMegabytes, formatSeconds, ResponseLimitError, readWithin, utf8Text } from './limits.js';

export type Expect = 'json' | 'text' | 'raw';

/** What the client settles once and every attempt reads. */
export interface ExchangeSettings {
  /** The keep-alive agent, made (and undici loaded) on first use. */
  agent(): Agent;
  timeouts: { readonly headersMs: number; readonly bodyMs: number; readonly totalMs: number };
  maxResponseBytes: number;
  /** Names of the settings that change the limits, quoted in their errors. */
  limitSettings: { totalMs?: string; maxResponseBytes?: string };
  parseJson: (text: string) => unknown;
  clock: Clock;
}

/** The parts of a shaped request an attempt sends and reads by. */
export interface ExchangeRequest {
  readonly method: string;
  readonly expect: Expect;
  /** The URL as errors name it: no auth params, secrets redacted. */
  readonly redactedUrl: string;
  readonly payload: string | Uint8Array | undefined;
}

/** What one attempt got. After an error `status` and `headers` stay set when the headers had arrived. */
export interface Exchanged {
  input: ClassifyInput;
  status: number | undefined;
  headers: Record<string, string>;
  /** Parsed JSON, text or a Buffer per `expect`; undefined when the body never arrived whole. */
  body: unknown;
  /** The error the attempt ended with (the deadline's own when it cut the attempt short). */
  cause: unknown;
  elapsedMs: number;
}

/** Send `outgoing` once and read its answer; never throws (a failure is a `network` input to classify). */
export async function exchange(
  settings: ExchangeSettings,
  request: ExchangeRequest,
  outgoing: OutgoingRequest,
  summary: RequestSummary,
): Promise<Exchanged> {
  const started = performance.now();
  const got: Omit<Exchanged, 'input' | 'elapsedMs'> = { status: undefined, headers: {}, body: undefined, cause: undefined };
  let input: ClassifyInput;
  // The whole attempt (connect, headers, body) has one deadline; aborting ends the body stream too.
  const deadline = startDeadline(settings, request.redactedUrl);
  try {
    const res = await settings.agent().request({
      origin: outgoing.url.origin,
      path: outgoing.url.pathname + outgoing.url.search,
      method: request.method as 'GET',
      headers: outgoing.headers,
      body: request.payload,
      headersTimeout: settings.timeouts.headersMs,
      bodyTimeout: settings.timeouts.bodyMs,
      signal: deadline.signal,
    });
    const status = res.statusCode;
    got.status = status;
    got.headers = normaliseHeaders(res.headers);
    const bytes = await readBounded(settings, request.redactedUrl, status, got.headers, res.body);
    const decoded = decodeBody(bytes, status, request.expect, settings.parseJson);
    got.body = decoded.body;
    input = {
      kind: 'response',
      status,
      headers: got.headers,
      body: decoded.body,
      text: decoded.text,
      ...(decoded.parseError !== undefined ? { parseError: decoded.parseError } : {}),
      request: summary,
      now: settings.clock.now(),
    };
  } catch (error) {
    // An abort by the deadline surfaces as undici's AbortError; the reason says what happened.
    got.cause = deadline.signal.aborted && !(error instanceof ResponseLimitError) ? deadline.signal.reason : error;
    input = { kind: 'network', error: got.cause as Error, code: errorCode(got.cause), request: summary, now: settings.clock.now() };
  } finally {
    deadline.clear();
  }
  return { ...got, input, elapsedMs: performance.now() - started };
}

function startDeadline(settings: ExchangeSettings, redactedUrl: string): { signal: AbortSignal; clear(): void } {
  const { totalMs } = settings.timeouts;
  const setting = settings.limitSettings.totalMs;
  const deadline = new AbortController();
  const timer = setTimeout(
    () =>
      deadline.abort(
        new ResponseLimitError(
          'REQUEST_DEADLINE',
          `the answer from ${redactedUrl} did not arrive in full within the request deadline of ${formatSeconds(totalMs)}${setting ? ` (${setting})` : ''}`,
        ),
      ),
    totalMs,
  );
  return { signal: deadline.signal, clear: () => clearTimeout(timer) };
}

type BodyStream = Parameters<typeof readWithin>[0];

/** A success body is refused past the size limit (declared or counted); an error page only needs its start for the message. */
async function readBounded(
  settings: ExchangeSettings,
  redactedUrl: string,
  status: number,
  headers: Record<string, string>,
  body: BodyStream,
): Promise<Buffer> {
  const { maxResponseBytes } = settings;
  const tooLarge = (declared?: number) =>
    new ResponseLimitError(
      'RESPONSE_TOO_LARGE',
      `the answer from ${redactedUrl} is larger than the response size limit of ${formatMegabytes(maxResponseBytes)}${declared === undefined ? '' : ` (its Content-Length says ${formatMegabytes(declared)})`}; raise ${settings.limitSettings.maxResponseBytes ?? 'the limit'} if pages this large are expected, or ask for smaller pages`,
    );
  const declared = Number(headers['content-length']);
  if (status < 300 && declared > maxResponseBytes) {
    body.destroy();
    throw tooLarge(declared);
  }
  const read = await readWithin(body, maxResponseBytes, status >= 300);
  if (read.over && status < 300) throw tooLarge();
  return read.bytes;
}

/**
 * The body per `expect`: bytes as they are, text, or JSON. An error page is parsed as JSON when it
 * can be (for the vendor's message) whatever was expected; only a success body that should be JSON
 * and is not (or is empty, outside 204/205) reports a `parseError`.
 */
function decodeBody(
  bytes: Buffer,
  status: number,
  expect: Expect,
  parseJson: (text: string) => unknown,
): { body: unknown; text: string; parseError?: string } {
  if (expect === 'raw') return { body: bytes, text: status >= 300 ? bytes.toString('utf8') : '' };
  const text = utf8Text(bytes);
  if (expect !== 'json' && status < 300) return { body: text, text };
  const jsonExpected = expect === 'json' && status < 300;
  if (text.trim() === '') {
    return jsonExpected && status !== 204 && status !== 205 ? { body: null, text, parseError: 'the body is empty' } : { body: null, text };
  }
  try {
    return { body: parseJson(text), text };
  } catch (error) {
    return jsonExpected ? { body: text, text, parseError: (error as Error).message } : { body: text, text };
  }
}

function normaliseHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
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
