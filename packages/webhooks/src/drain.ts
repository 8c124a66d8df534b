// The drain: reads a receiver's inbox from the position the warehouse last committed, turns the
// stored bodies into Singer messages (SCHEMA, RECORD deduplicated by key, STATE = the new inbox
// position) and hands them to a loader that commits rows and state in one transaction. A crash at
// any moment replays from the committed position; rows are upserted by key, so nothing lands twice.
import { formatMessage, type SingerMessage } from '@tapline/singer';
import { type JsonSchema, PayloadError, type WebhookDefinition, type WebhookStream } from './definition.js';
import type { Inbox, InboxEntry, InboxPosition } from './inbox.js';
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

export interface DrainOptions {
  readonly name: string;
  readonly inbox: Inbox;
  readonly definition: WebhookDefinition;
  readonly loader: DrainLoader;
  readonly log: ReceiverLog;
  /** Most deliveries per load (default 5,000). */
  readonly batch?: number;
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
  /** Deliveries committed to the warehouse since start. */
  loaded = 0;
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

  /** One load of up to `batch` deliveries; 'idle' when there was nothing to load. */
  async pass(): Promise<'idle' | 'loaded'> {
    this.position ??= (await this.options.loader.readPosition()) ?? (await this.options.inbox.start());
    const entries = await this.options.inbox.read(this.position, this.options.batch ?? 5_000);
    if (entries.length === 0) return 'idle';
    const end = entries.at(-1)!.end;
    const lines = await drainMessages(this.options.definition, entries, end, this.options.log, this.options.name, (stream, keys) =>
      this.options.loader.storedVersions(stream, keys),
    );
    await this.options.loader.load(lines);
    this.position = end;
    this.loaded += entries.length;
    this.options.onLoaded?.(entries.length);
    await this.options.inbox.release(end);
    return 'loaded';
  }
}

/**
 * The Singer lines of one drain: every stream's SCHEMA, the records (one per key: the newest by the
 * stream's `version`, else the last received) and a STATE holding the inbox position after them.
 */
export async function drainMessages(
  definition: WebhookDefinition,
  entries: readonly InboxEntry[],
  end: InboxPosition,
  log: ReceiverLog,
  name: string,
  storedVersions: DrainLoader['storedVersions'],
): Promise<string[]> {
  const streams = new Map(definition.streams.map((s) => [s.name, s]));
  const latest = new Map<string, Map<string, Record<string, unknown>>>();
  for (const entry of entries) {
    let records: ReturnType<typeof definition.read>['records'];
    try {
      records = definition.read(entry.body).records;
    } catch (error) {
      // Every stored body was read once before it was acknowledged; only a changed mapping gets here.
      if (!(error instanceof PayloadError)) throw error;
      log.error(`receiver ${name}: a stored delivery (received ${entry.receivedAt}) no longer reads and is skipped: ${error.message}`);
      continue;
    }
    for (const { stream, record } of records) {
      const declared = streams.get(stream);
      if (!declared) throw new Error(`webhook ${definition.type} produced a record for undeclared stream "${stream}"`);
      const byKey = latest.get(stream) ?? new Map<string, Record<string, unknown>>();
      latest.set(stream, byKey);
      const key = JSON.stringify(declared.key.map((k) => record[k] ?? null));
      const earlier = byKey.get(key);
      if (!earlier || !isOlder(declared, record, earlier)) byKey.set(key, record);
    }
  }
  const messages: SingerMessage[] = [];
  const versions: Record<string, unknown>[] = [];
  for (const [stream, byKey] of latest) {
    const declared = streams.get(stream)!;
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
    for (const [fields, records] of groups) {
      const schema = narrowSchema(declared.schema, new Set([...fields.split(','), ...declared.key]));
      messages.push({ type: 'SCHEMA', stream, schema, key_properties: [...declared.key] } as SingerMessage);
      for (const record of records) messages.push({ type: 'RECORD', stream, record } as SingerMessage);
    }
  }
  if (versions.length > 0) {
    messages.push({
      type: 'SCHEMA',
      stream: VERSIONS_STREAM,
      schema: VERSIONS_SCHEMA,
      key_properties: ['stream', 'record_key'],
    } as SingerMessage);
    for (const record of versions) messages.push({ type: 'RECORD', stream: VERSIONS_STREAM, record } as SingerMessage);
  }
  messages.push({ type: 'STATE', value: { inbox: end } satisfies DrainState } as SingerMessage);
  return messages.map((m) => formatMessage(m));
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
