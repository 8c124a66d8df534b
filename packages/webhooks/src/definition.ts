// What a vendor's webhook declares (its signature check and payload -> records mapping), and the
// helpers every signature check shares. No vendor names here: each connector declares its own.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** A JSON Schema as a plain object (the shape SCHEMA messages carry). */
export type JsonSchema = { [key: string]: unknown };

/** One table a webhook fills: its Singer stream name, key and record schema. */
export interface WebhookStream {
  readonly name: string;
  readonly key: readonly string[];
  readonly schema: JsonSchema;
  /**
   * Which of two records with the same key is the newer (a larger answer wins; ties go to the one
   * received later). Without it, the one received later wins. Lets a late retry of an old delivery
   * lose to a newer one that arrived first.
   */
  readonly version?: (record: Record<string, unknown>) => number;
}

/** The secrets a receiver is configured with (tapline.yml); never logged. */
export interface ReceiverSecrets {
  readonly secret: string;
  /** Testpress: the institute's public key, checked against the payload's `key` when given. */
  readonly public_key?: string | undefined;
}

export type Verification =
  | { readonly ok: true }
  /** 400: the body cannot be read at all; 401: the signature is missing or wrong. */
  | { readonly ok: false; readonly status: 400 | 401; readonly reason: string };

/** What one delivery holds: records per stream, or a vendor's test sample that is acknowledged and not loaded. */
export interface Delivery {
  readonly sample: boolean;
  /** Names the delivery in logs (e.g. `link_result_id 22455`); never holds personal data or secrets. */
  readonly label: string;
  readonly records: readonly { readonly stream: string; readonly record: Record<string, unknown> }[];
}

/**
 * What a delivery is at a glance, before it is acknowledged: cheap (no schema read), so the
 * acknowledge path stays an fsync. A vendor's test sample is acknowledged and not stored; a body
 * that is not the vendor's envelope at all gets 400. Everything else is stored and read in the drain.
 */
export type Triage = { readonly ok: true; readonly sample: boolean } | { readonly ok: false; readonly reason: string };

/** A body that was signed correctly but cannot be read as the vendor's payload (the drain sets it aside with the reason). */
export class PayloadError extends Error {
  override name = 'PayloadError';
}

export interface WebhookDefinition {
  /** The receiver type in tapline.yml (`classmarker`). */
  readonly type: string;
  readonly streams: readonly WebhookStream[];
  /** Checks the delivery's signature over the exact bytes received. */
  verify(body: Buffer, headers: IncomingHttpHeaders, secrets: ReceiverSecrets): Verification;
  /** The glance before the acknowledgement (default: every verified body is stored). */
  triage?(body: Buffer): Triage;
  /** Reads a stored body into records (in the drain); throws PayloadError when it cannot. Pure: a replay reads it again. */
  read(body: Buffer): Delivery;
}

/**
 * The first value of a header: Node joins a repeated header with ", ", and a proxy may join a
 * duplicated one as `sig,sig` (ClassMarker's Python sample, docs/providers/classmarker.md).
 */
export function firstHeaderValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers[name.toLowerCase()];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  const first = value.split(',')[0]!.trim();
  return first === '' ? undefined : first;
}

/** Compares two signatures as text in constant time (for equal lengths; the length itself is not secret). */
export function signaturesMatch(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
