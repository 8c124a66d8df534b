// The two limits that make every request end: a total deadline per attempt and a bound on the bytes
// of one response, read while the body streams so a huge page is never buffered whole.
import type { Outcome } from './classify.js';

/** Largest response body read, in bytes (64 MB); beyond it a 2xx answer is refused. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** `code` of the error an attempt ends with when it passes a limit (seen in the request log and `RequestEvent.errorCode`). */
export type LimitCode = 'REQUEST_DEADLINE' | 'RESPONSE_TOO_LARGE';

/** An attempt that passed one of the client's own limits; `message` is the outcome's sentence. */
export class ResponseLimitError extends Error {
  readonly code: LimitCode;
  constructor(code: LimitCode, message: string) {
    super(message);
    this.name = 'ResponseLimitError';
    this.code = code;
  }
}

/** A deadline passed is transient (the usual retry); a body over the size limit will be as big next time: the config's to fix. */
export function limitOutcome(error: unknown): Outcome | undefined {
  if (!(error instanceof ResponseLimitError)) return undefined;
  return error.code === 'REQUEST_DEADLINE'
    ? { action: 'retry', blame: 'transient', message: error.message }
    : { action: 'fail', blame: 'config', message: error.message };
}

/** 1048576 -> "1 MB", 1572864 -> "1.5 MB" (MB = 2^20 bytes, as `max_response_mb` counts them). */
export function formatMegabytes(bytes: number): string {
  return `${Number((bytes / (1024 * 1024)).toFixed(1))} MB`;
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

interface BodyStream extends AsyncIterable<Buffer> {
  destroy(error?: Error): unknown;
}

/**
 * Reads a body up to `maxBytes`. Past it the stream is destroyed (the connection closes, the server
 * stops sending) and `over` is true; `keepStart` keeps what fit (an error page's start, for its
 * message), otherwise nothing is kept.
 */
export async function readWithin(body: BodyStream, maxBytes: number, keepStart: boolean): Promise<{ bytes: Buffer; over: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    if (length + chunk.length > maxBytes) {
      if (keepStart) chunks.push(chunk.subarray(0, maxBytes - length));
      body.destroy();
      return { bytes: keepStart ? Buffer.concat(chunks) : Buffer.alloc(0), over: true };
    }
    chunks.push(chunk);
    length += chunk.length;
  }
  return { bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length), over: false };
}

/** UTF-8 text of a body, without a byte-order mark (as undici's `text()` reads it). */
export function utf8Text(bytes: Buffer): string {
  const start = bytes.length > 2 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return bytes.toString('utf8', start);
}
