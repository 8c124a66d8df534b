// Reading one vendor record: transform, validate, keep the fields the stream does not declare in
// `_sdc_extra`, or set the record aside whole in `_sdc_rejected_records` when it cannot be read.
import { createHash } from 'node:crypto';
import { stringifyJson } from '@tapline/singer';
import type { z } from 'zod';
import type { Context, StreamContext, StreamDefinition } from './declare.js';
import { TapError } from './errors.js';
import { type JsonSchema, recordJsonSchema } from './json-schema.js';
import type { Logger } from './log.js';
import type { CursorValue } from './state.js';

/** The column holding, as one JSON object, every vendor field a stream does not declare. */
export const EXTRA_FIELD = '_sdc_extra';

/** The stream records that cannot be read are set aside in, whole, with the reason. */
export const REJECTS_STREAM = '_sdc_rejected_records';

/** `_sdc_extra` in a stream's JSON Schema: an object of whatever the vendor sent, or null. */
export const EXTRA_FIELD_SCHEMA: JsonSchema = {
  type: ['object', 'null'],
  description: 'Fields the vendor sent that the stream does not declare, as sent; absent (NULL) when there were none.',
};

/** The rejects stream's record schema; every column a plain type every Singer target reads. */
export const REJECTS_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'Records the tap could not read, set aside whole with the reason, to be read again (replay) once the tap reads them.',
  properties: {
    reject_id: {
      type: 'string',
      description: 'SHA-256 of stream, partition and record_json: a record read again lands on its earlier row.',
    },
    stream: { type: 'string', description: 'The stream the record was read for.' },
    partition: {
      type: ['object', 'null'],
      description: 'The partition (context) it was read in, e.g. {"exam_id": 7}; null for a stream without partitions.',
    },
    record_json: { type: 'string', description: 'The record exactly as the vendor sent it (JSON text, before any transform).' },
    reason: { type: 'string', description: 'Why it could not be read, in one sentence.' },
    field: { type: ['string', 'null'], description: 'The field that failed, when one did.' },
    rejected_at: { type: 'string', format: 'date-time', description: 'When it was read and set aside.' },
  },
  required: ['reject_id', 'stream', 'record_json', 'reason', 'rejected_at'],
};
export const REJECTS_KEY = ['reject_id'] as const;

/** One row of `_sdc_rejected_records`. */
export interface RejectedRecord {
  reject_id: string;
  stream: string;
  partition: Context | null;
  record_json: string;
  reason: string;
  field: string | null;
  rejected_at: string;
}

export type ReadOutcome =
  | { kind: 'record'; record: Record<string, unknown> }
  /** The transform returned null: the stream does not want it. */
  | { kind: 'skipped' }
  /**
   * `cursor`: the record's cursor when that field alone is readable, so the bookmark can move past it.
   * `pending`: the stream's `pending` says yes of what could be read, so the bookmark must wait for its final form.
   */
  | { kind: 'rejected'; reject: RejectedRecord; cursor: CursorValue | undefined; pending: boolean };

/** Reads one stream's records for one run; it remembers which undeclared fields it has named already. */
export class RecordReader {
  private readonly declared: ReadonlySet<string>;
  private readonly consumed: ReadonlySet<string>;
  private readonly announced = new Set<string>();

  /**
   * `onUndeclared`: told each undeclared field name once, when it first appears (the run summary
   * lists them). The first of a stream is a WARN, the later ones INFO: one warning per stream per run.
   */
  constructor(
    private readonly def: StreamDefinition<z.ZodObject, unknown>,
    private readonly log: Logger,
    private readonly onUndeclared: (field: string) => void = () => {},
  ) {
    this.declared = new Set(Object.keys(def.record.shape));
    this.consumed = new Set(def.consumes ?? []);
  }

  read(raw: unknown, ctx: StreamContext<unknown>, rejectedAt: string): ReadOutcome {
    const def = this.def;
    let transformed: unknown;
    try {
      transformed = def.transform ? def.transform(raw, ctx) : raw;
    } catch (error) {
      // A TapError is the connector stopping the run on purpose; anything else is this record's oddity.
      if (error instanceof TapError) throw error;
      return this.reject(raw, ctx, `the stream's transform failed on it: ${(error as Error).message}`, null, raw, rejectedAt);
    }
    if (transformed === null || transformed === undefined) return { kind: 'skipped' };
    const input = withContext(transformed, ctx.context, def.record.shape);
    const parsed = def.record.safeParse(input);
    if (!parsed.success) {
      const { field, reason } = describeIssue(parsed.error, input);
      return this.reject(raw, ctx, reason, field, input, rejectedAt);
    }
    const record = parsed.data as Record<string, unknown>;
    const extra = this.extraFields(raw, transformed);
    if (extra !== undefined) record[EXTRA_FIELD] = extra;
    return { kind: 'record', record };
  }

  /**
   * The vendor's fields the stream neither declares nor maps (`consumes`): first those of the raw
   * record (so a field the transform drops is kept), then those the transform added. A raw field a
   * transform reads into a declared field of another name is listed in `consumes`, so it is not kept twice.
   */
  private extraFields(raw: unknown, transformed: unknown): Record<string, unknown> | undefined {
    let extra: Record<string, unknown> | undefined;
    for (const source of [raw, transformed]) {
      if (!isPlainRecord(source)) continue;
      for (const [name, value] of Object.entries(source)) {
        if (value === undefined || this.declared.has(name) || this.consumed.has(name) || name === EXTRA_FIELD) continue;
        extra ??= {};
        if (Object.hasOwn(extra, name)) continue;
        extra[name] = value;
        if (!this.announced.has(name)) this.announce(name);
      }
    }
    return extra;
  }

  private announce(name: string): void {
    const first = this.announced.size === 0;
    this.announced.add(name);
    this.onUndeclared(name);
    if (first) {
      this.log.warn(
        `stream ${this.def.name}: the vendor sends the field "${name}", which the stream does not declare; it is kept in ${EXTRA_FIELD}, and the run's SUMMARY lists it (with any others of this stream) under undeclared_fields.`,
      );
    } else {
      this.log.info(`stream ${this.def.name}: the vendor also sends the undeclared field "${name}"; it is kept in ${EXTRA_FIELD}.`);
    }
  }

  /** The cursor of a record that failed as a whole, when the cursor field itself reads. */
  private cursorOf(input: unknown, context: Context): CursorValue | undefined {
    const cursor = this.def.incremental?.cursor;
    if (cursor === undefined || !isPlainRecord(input)) return undefined;
    const field = this.def.record.shape[cursor] as z.ZodType | undefined;
    const parsed = field?.safeParse((withContext(input, context, this.def.record.shape) as Record<string, unknown>)[cursor]);
    const value = parsed?.success ? (parsed.data as unknown) : undefined;
    return typeof value === 'string' || typeof value === 'number' ? value : undefined;
  }

  /** Whether the stream's `pending` holds for the readable part of a record set aside (false when it cannot tell). */
  private pendingOf(input: unknown, config: unknown): boolean {
    const pending = this.def.incremental?.pending;
    if (pending === undefined || !isPlainRecord(input)) return false;
    try {
      return pending(input, config) === true;
    } catch {
      return false;
    }
  }

  private reject(
    raw: unknown,
    ctx: StreamContext<unknown>,
    reason: string,
    field: string | null,
    input: unknown,
    rejectedAt: string,
  ): ReadOutcome {
    const context = ctx.context;
    const stream = this.def.name;
    const partition = Object.keys(context).length > 0 ? context : null;
    const recordJson = stringifyJson(raw === undefined ? null : raw);
    // The id is the record's content, so a record set aside again is the same row; volatile fields do not count.
    const volatile = this.def.volatileFields ?? [];
    const identity = volatile.length > 0 && isPlainRecord(raw) ? stringifyJson(withoutFields(raw, volatile)) : recordJson;
    const rejectId = createHash('sha256')
      .update(`${stream}\n${stringifyJson(partition)}\n${identity}`)
      .digest('hex');
    const reject = { reject_id: rejectId, stream, partition, record_json: recordJson, reason, field, rejected_at: rejectedAt };
    return { kind: 'rejected', reject, cursor: this.cursorOf(input, context), pending: this.pendingOf(input, ctx.config) };
  }
}

/** A copy of `record` without `fields` (top-level). */
function withoutFields(record: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const copy = { ...record };
  for (const field of fields) delete copy[field];
  return copy;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Context fields the record schema declares and the record lacks are copied in (e.g. exam_id). */
export function withContext(record: unknown, context: Context, shape: Record<string, unknown>): unknown {
  if (!isPlainRecord(record)) return record;
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(context)) {
    if (Object.hasOwn(shape, key) && record[key] === undefined) {
      out ??= { ...record };
      out[key] = value;
    }
  }
  return out ?? record;
}

/** The first failing field and a sentence about it, naming the value that failed. */
function describeIssue(error: z.ZodError, input: unknown): { field: string | null; reason: string } {
  const issue = error.issues[0]!;
  const field = issue.path.length ? issue.path.join('.') : null;
  let got: unknown = input;
  for (const part of issue.path) got = (got as Record<PropertyKey, unknown> | undefined)?.[part as PropertyKey];
  const shown = got === undefined ? 'nothing (the field is missing)' : (stringifyJson(got)?.slice(0, 80) ?? String(got));
  // Coercions already quote the value in their message; zod's own checks do not.
  const lossless = (got as { isLosslessNumber?: unknown } | null)?.isLosslessNumber === true;
  const detail =
    issue.code === 'custom'
      ? issue.message
      : lossless
        ? `the number ${String((got as { value: unknown }).value)} has more digits than a float holds; declare the field with coerce.decimal()`
        : `${issue.message} (got ${shown})`;
  return { field, reason: field === null ? `the record does not match the declared schema: ${detail}` : `field "${field}": ${detail}` };
}

/**
 * A stream's JSON Schema as SCHEMA messages and the catalog carry it: its record schema plus
 * `_sdc_extra`, and the stream's description (a target's table comment: the data dictionary).
 */
export function streamJsonSchema(def: { readonly record: z.ZodObject; readonly description?: string }): JsonSchema {
  const schema = recordJsonSchema(def.record);
  if (def.description !== undefined && schema.description === undefined) schema.description = def.description;
  schema.properties = { ...(schema.properties as Record<string, JsonSchema>), [EXTRA_FIELD]: EXTRA_FIELD_SCHEMA };
  return schema;
}

/**
 * Reads one record outside a sync (a webhook's payload mapped to a stream's fields): the stream's
 * schema coerces it, and undeclared fields (other than `consumes`) go to `_sdc_extra` as a sync
 * would put them. A record that does not read is a sentence naming the field.
 */
export function readStreamRecord(
  def: { readonly record: z.ZodObject },
  raw: Record<string, unknown>,
  consumes: readonly string[] = [],
): { ok: true; record: Record<string, unknown> } | { ok: false; reason: string } {
  const parsed = def.record.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: describeIssue(parsed.error, raw).reason };
  const record = parsed.data as Record<string, unknown>;
  const declared = def.record.shape;
  const extra = Object.fromEntries(
    Object.entries(raw).filter(([name, value]) => value !== undefined && !Object.hasOwn(declared, name) && !consumes.includes(name)),
  );
  record[EXTRA_FIELD] = Object.keys(extra).length > 0 ? extra : null;
  return { ok: true, record };
}
