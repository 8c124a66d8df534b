// The drain: reads a receiver's inbox from the position the warehouse last committed, reads the
// stored bodies (the full schema read happens here, not before the acknowledgement) into Singer
// messages (SCHEMA, RECORD deduplicated by key, STATE = the new inbox position) and hands them to a
// loader that commits rows and state in one transaction. A crash at any moment replays from the
// committed position; rows are upserted by key, so nothing lands twice. A body that does not read
// is set aside whole in REJECTS_STREAM with the reason (same transaction) and read again after the
// next start, a bounded chunk per load: it never stops the drain and is never lost.
import { createHash } from 'node:crypto';
import { formatMessage, type SingerMessage } from '@tapline/singer';
import { type JsonSchema, PayloadError, type WebhookDefinition, type WebhookStream } from './definition.js';
import type { Inbox, InboxPosition } from './inbox.js';
import type { ReceiverLog } from './server.js';

/** The state a drain commits with its rows: where in the inbox the next drain starts. */
export interface DrainState {
  readonly inbox: InboxPosition;
}

export interface DrainLoader {
  /** The position committed by the last successful load, or undefined when none was. */
  readPosition(): Promise<InboxPosition | undefined>;
  /** Loads the Singer lines; must commit the rows and the closing STATE together, or nothing. */
  load(lines: readonly string[]): Promise<void>;
  /**
   * The versions stored in VERSIONS_STREAM for these keys of `stream` (none when the table does not
   * exist yet), so a late retry of an old delivery never replaces a newer row loaded earlier.
   */
  storedVersions(stream: string, keys: readonly string[]): Promise<Map<string, number>>;
  /**
   * Up to `limit` rows of REJECTS_STREAM not yet replayed whose reject_id is after `after` (all
   * when undefined), ordered by reject_id; none when the table does not exist yet.
   */
  storedRejects(after: string | undefined, limit: number): Promise<StoredReject[]>;
}

/** A delivery set aside by an earlier drain, as REJECTS_STREAM holds it. */
export interface StoredReject {
  readonly reject_id: string;
  readonly received_at: string;
  readonly body: string;
}

/** What the drain reads: an inbox entry, or a stored reject read again. */
export interface DrainEntry {
  readonly body: Buffer;
  readonly receivedAt: string;
  /** Set for a stored reject: when it reads now, its row is marked replayed. */
  readonly rejectId?: string;
}

/** The table each row's version is kept in (same schema, same transaction as the rows). */
export const VERSIONS_STREAM = '_tapline_webhook_versions';
const VERSIONS_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    stream: { type: 'string', description: 'The table the row is in.' },
    record_key: { type: 'string', description: "The row's key values as a JSON array." },
    version: { type: 'number', description: 'The version of the delivery that wrote the row (e.g. its time_finished in ms).' },
  },
  required: ['stream', 'record_key', 'version'],
};

/** Where deliveries that do not read are set aside, whole, with the reason (one table per receiver's schema). */
export const REJECTS_STREAM = '_tapline_webhook_rejects';
const REJECTS_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    reject_id: { type: 'string', description: 'SHA-256 of the body (hex): the same body set aside twice is one row.' },
    received_at: { type: 'string', format: 'date-time', description: 'When the delivery was received and acknowledged.' },
    reason: { type: 'string', description: 'Why it could not be read, in one sentence.' },
    body: { type: 'string', description: 'The body exactly as received (its signature was checked).' },
    rejected_at: { type: 'string', format: 'date-time', description: 'When the drain set it aside.' },
    replayed_at: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'When a later start read it and loaded its rows; null while it still does not read.',
    },
  },
  required: ['reject_id', 'received_at', 'reason', 'body', 'rejected_at'],
};

/** One drain's Singer lines and what it set aside or took back. */
export interface DrainBatch {
  readonly lines: string[];
  /** Deliveries set aside in REJECTS_STREAM by this batch. */
  readonly rejected: number;
  /** Stored rejects that read now and were loaded. */
  readonly replayed: number;
}

export interface DrainOptions {
  readonly name: string;
  readonly inbox: Inbox;
  readonly definition: WebhookDefinition;
  readonly loader: DrainLoader;
  readonly log: ReceiverLog;
  /** Most deliveries per load (default 5,000). */
  readonly batch?: number;
  /** Most stored rejects read again per load (default 500): a large rejects table is read in chunks. */
  readonly replayChunk?: number;
  /** Longest wait after a failed load before the next try (default 30 s); it starts at 1 s and doubles. */
  readonly maxBackoffMs?: number;
  /** Called after each committed load with the number of deliveries it covered (tests, metrics). */
  readonly onLoaded?: (deliveries: number) => void;
}

export class Drainer {
  private position: InboxPosition | undefined;
  private wake: (() => void) | undefined;
  private dirty = true;
  private stopping = false;
  private failures = 0;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  /** The last stored reject read again since start; `done` once all were. */
  private replay: { after: string | undefined; read: number; done: boolean } = { after: undefined, read: 0, done: false };
  /** Deliveries committed to the warehouse since start. */
  loaded = 0;
  /** Deliveries set aside in REJECTS_STREAM since start (a stored reject that still does not read is not counted again). */
  rejected = 0;
  /** Stored rejects that read since start and were loaded. */
  replayed = 0;
  /** The last load's failure, while loads fail (e.g. a DuckDB file held by a pipeline run). */
  lastError: string | undefined;

  constructor(private readonly options: DrainOptions) {}

  start(): void {
    this.unsubscribe = this.options.inbox.onAppend(() => this.nudge());
    this.loop = this.run();
  }

  /** Drains what is already stored (one last pass, however long loads fail, until `deadline`) and stops. */
  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.nudge();
    await this.loop;
    while (Date.now() < deadline && (await this.pass().catch(() => 'failed')) !== 'idle') {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private nudge(): void {
    this.dirty = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (!this.dirty) await this.sleep(1_000);
      this.dirty = false;
      let outcome: 'idle' | 'loaded';
      try {
        outcome = await this.pass();
        if (this.failures > 0) this.options.log.info(`receiver ${this.options.name}: loading works again`);
        this.failures = 0;
        this.lastError = undefined;
      } catch (error) {
        this.failures += 1;
        this.lastError = (error as Error).message;
        const wait = Math.min(1_000 * 2 ** (this.failures - 1), this.options.maxBackoffMs ?? 30_000);
        // Logged on the first failure and then sparsely: the inbox keeps every delivery meanwhile.
        if ((this.failures & (this.failures - 1)) === 0) {
          this.options.log.warn(
            `receiver ${this.options.name}: cannot load yet (deliveries stay in the inbox; retrying in ${wait / 1000} s): ${this.lastError}`,
          );
        }
        this.dirty = true;
        await this.sleep(wait);
        continue;
      }
      if (outcome === 'loaded') this.dirty = true;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** Whether the stored rejects were all read again since start. */
  get replayDone(): boolean {
    return this.replay.done;
  }

  /**
   * One load of up to `batch` deliveries, after one chunk of the stored rejects while some are
   * left; 'idle' when there was nothing to load. New deliveries thus never wait behind the whole table.
   */
  async pass(): Promise<'idle' | 'loaded'> {
    this.position ??= (await this.options.loader.readPosition()) ?? (await this.options.inbox.start());
    const replaying = !this.replay.done;
    if (replaying) await this.replayRejects(this.position);
    const entries = await this.options.inbox.read(this.position, this.options.batch ?? 5_000);
    if (entries.length === 0) return replaying ? 'loaded' : 'idle';
    const end = entries.at(-1)!.end;
    const batch = await this.messages(entries, end);
    await this.options.loader.load(batch.lines);
    this.position = end;
    this.loaded += entries.length;
    this.rejected += batch.rejected;
    this.options.onLoaded?.(entries.length);
    await this.options.inbox.release(end);
    return 'loaded';
  }

  /**
   * The next chunk of stored rejects, in reject_id order after the last one read: those that read
   * with this version of the mapping are loaded (and marked replayed); the rest stay as they are and
   * are not read again until the next start.
   */
  private async replayRejects(position: InboxPosition): Promise<void> {
    const chunk = this.options.replayChunk ?? 500;
    const stored = await this.options.loader.storedRejects(this.replay.after, chunk);
    if (stored.length > 0) {
      const entries = stored.map((r) => ({ body: Buffer.from(r.body, 'utf8'), receivedAt: r.received_at, rejectId: r.reject_id }));
      const batch = await this.messages(entries, position);
      if (batch.replayed > 0) await this.options.loader.load(batch.lines);
      this.replayed += batch.replayed;
      this.replay.read += stored.length;
      this.replay.after = stored.at(-1)!.reject_id;
    }
    if (stored.length < chunk) {
      this.replay.done = true;
      if (this.replay.read > 0)
        this.options.log.info(
          `receiver ${this.options.name}: ${this.replayed} of ${this.replay.read} set-aside deliveries read now and were loaded`,
        );
    }
  }

  private messages(entries: readonly DrainEntry[], end: InboxPosition): Promise<DrainBatch> {
    return drainMessages(this.options.definition, entries, end, this.options.log, this.options.name, (stream, keys) =>
      this.options.loader.storedVersions(stream, keys),
    );
  }
}

/**
 * The Singer lines of one drain: every stream's SCHEMA, the records (one per key: the newest by the
 * stream's `version`, else the last received), the deliveries set aside, and a STATE holding the
 * inbox position after them.
 */
export async function drainMessages(
  definition: WebhookDefinition,
  entries: readonly DrainEntry[],
  end: InboxPosition,
  log: ReceiverLog,
  name: string,
  storedVersions: DrainLoader['storedVersions'],
  now = new Date(),
): Promise<DrainBatch> {
  const streams = new Map(definition.streams.map((s) => [s.name, s]));
  const read = readDeliveries(definition, streams, entries, log, name, now);
  const messages: SingerMessage[] = [];
  const versions: Record<string, unknown>[] = [];
  for (const [stream, byKey] of read.latest) {
    // A loop, not push(...): a large drain's messages would pass the engine's limit on arguments.
    for (const message of await streamMessages(streams.get(stream)!, byKey, storedVersions, versions)) messages.push(message);
  }
  for (const message of bookkeepingMessages(versions, read.rejects, read.replays)) messages.push(message);
  messages.push({ type: 'STATE', value: { inbox: end } satisfies DrainState } as SingerMessage);
  return { lines: messages.map((m) => formatMessage(m)), rejected: read.rejects.length, replayed: read.replays.length };
}

interface ReadDeliveries {
  /** Per stream, per key (JSON of the key values): the record kept. */
  latest: Map<string, Map<string, Record<string, unknown>>>;
  /** Rows for the rejects stream: deliveries that do not read. */
  rejects: Record<string, unknown>[];
  /** Stored rejects that read now: their `replayed_at`. */
  replays: Record<string, unknown>[];
}

/** Each delivery through the mapping: its records kept one per key, or the delivery set aside. */
function readDeliveries(
  definition: WebhookDefinition,
  streams: ReadonlyMap<string, WebhookStream>,
  entries: readonly DrainEntry[],
  log: ReceiverLog,
  name: string,
  now: Date,
): ReadDeliveries {
  const read: ReadDeliveries = { latest: new Map(), rejects: [], replays: [] };
  for (const entry of entries) {
    let records: ReturnType<typeof definition.read>['records'];
    try {
      const delivery = definition.read(entry.body);
      records = delivery.sample ? [] : delivery.records;
      for (const { stream } of records) {
        if (!streams.has(stream)) throw new Error(`the mapping produced a record for undeclared stream "${stream}"`);
      }
    } catch (error) {
      // Any failure, a bug of the mapping included, sets this one delivery aside: the rest load.
      const reason = error instanceof PayloadError ? error.message : `the mapping failed: ${(error as Error).message}`;
      if (entry.rejectId !== undefined) continue; // still does not read: its row stays as it is
      read.rejects.push(setAside(entry, reason, log, name, now));
      continue;
    }
    if (entry.rejectId !== undefined) read.replays.push({ reject_id: entry.rejectId, replayed_at: now.toISOString() });
    for (const { stream, record } of records) {
      const declared = streams.get(stream)!;
      const byKey = read.latest.get(stream) ?? new Map<string, Record<string, unknown>>();
      read.latest.set(stream, byKey);
      const key = JSON.stringify(declared.key.map((k) => record[k] ?? null));
      const earlier = byKey.get(key);
      if (!earlier || !isOlder(declared, record, earlier)) byKey.set(key, record);
    }
  }
  return read;
}

/** The rejects-stream row of a delivery that does not read, logged with its reason. */
function setAside(entry: DrainEntry, reason: string, log: ReceiverLog, name: string, now: Date): Record<string, unknown> {
  const reject_id = createHash('sha256').update(entry.body).digest('hex');
  log.error(
    `receiver ${name}: a delivery received ${entry.receivedAt} does not read; set aside in ${REJECTS_STREAM} (reject_id ${reject_id.slice(0, 12)}…): ${reason}`,
  );
  return {
    reject_id,
    received_at: entry.receivedAt,
    reason,
    body: entry.body.toString('utf8'),
    rejected_at: now.toISOString(),
    replayed_at: null,
  };
}

/**
 * One stream's SCHEMA and RECORD messages. A versioned stream drops the records older than the
 * stored version of their key, and adds the versions it keeps to `versions`.
 */
async function streamMessages(
  declared: WebhookStream,
  byKey: Map<string, Record<string, unknown>>,
  storedVersions: DrainLoader['storedVersions'],
  versions: Record<string, unknown>[],
): Promise<SingerMessage[]> {
  const stream = declared.name;
  if (declared.version) {
    const stored = await storedVersions(stream, [...byKey.keys()]);
    for (const [key, record] of byKey) {
      const version = declared.version(record);
      if (version < (stored.get(key) ?? -Infinity)) byKey.delete(key);
      else versions.push({ stream, record_key: key, version });
    }
  }
  // Each SCHEMA names only the fields its records carry: columns a delivery does not send (those
  // only the polling tap reads) keep their values when its row is merged.
  const groups = new Map<string, Record<string, unknown>[]>();
  for (const record of byKey.values()) {
    const fields = Object.keys(record)
      .filter((name) => record[name] !== undefined)
      .sort()
      .join(',');
    groups.set(fields, [...(groups.get(fields) ?? []), record]);
  }
  const messages: SingerMessage[] = [];
  for (const [fields, records] of groups) {
    const schema = narrowSchema(declared.schema, new Set([...fields.split(','), ...declared.key]));
    messages.push({ type: 'SCHEMA', stream, schema, key_properties: [...declared.key] } as SingerMessage);
    for (const record of records) messages.push({ type: 'RECORD', stream, record } as SingerMessage);
  }
  return messages;
}

/** The receiver's own streams: the versions kept, the deliveries set aside and the stored rejects replayed. */
function bookkeepingMessages(
  versions: readonly Record<string, unknown>[],
  rejects: readonly Record<string, unknown>[],
  replays: readonly Record<string, unknown>[],
): SingerMessage[] {
  const messages: SingerMessage[] = [];
  if (versions.length > 0) {
    messages.push({
      type: 'SCHEMA',
      stream: VERSIONS_STREAM,
      schema: VERSIONS_SCHEMA,
      key_properties: ['stream', 'record_key'],
    } as SingerMessage);
    for (const record of versions) messages.push({ type: 'RECORD', stream: VERSIONS_STREAM, record } as SingerMessage);
  }
  // A replayed reject's row keeps its body and reason; only replayed_at is written (a narrowed SCHEMA).
  for (const [rows, schema] of [
    [rejects, REJECTS_SCHEMA],
    [replays, narrowSchema(REJECTS_SCHEMA, new Set(['reject_id', 'replayed_at']))],
  ] as const) {
    if (rows.length === 0) continue;
    messages.push({ type: 'SCHEMA', stream: REJECTS_STREAM, schema, key_properties: ['reject_id'] } as SingerMessage);
    for (const record of rows) messages.push({ type: 'RECORD', stream: REJECTS_STREAM, record } as SingerMessage);
  }
  return messages;
}

/** The schema with only `names` among its properties (and in `required`). */
function narrowSchema(schema: JsonSchema, names: ReadonlySet<string>): JsonSchema {
  const properties = Object.fromEntries(
    Object.entries((schema.properties ?? {}) as Record<string, unknown>).filter(([name]) => names.has(name)),
  );
  const required = Array.isArray(schema.required) ? (schema.required as string[]).filter((name) => names.has(name)) : undefined;
  return { ...schema, properties, ...(required ? { required } : {}) };
}

const isOlder = (stream: WebhookStream, record: Record<string, unknown>, than: Record<string, unknown>): boolean =>
  stream.version !== undefined && stream.version(record) < stream.version(than);
