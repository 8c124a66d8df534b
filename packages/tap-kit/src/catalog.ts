// Discovery (the catalog a tap prints) and selection (what a given catalog asks to sync).
import { buildStreamMetadata, isBreadcrumbSelected, type MetadataEntry } from '@tapline/singer';
import type { StreamDefinition } from './declare.js';
import { TapError } from './errors.js';
import type { JsonSchema } from './json-schema.js';
import { EXTRA_FIELD, REJECTS_KEY, REJECTS_SCHEMA, REJECTS_STREAM, streamJsonSchema } from './record-reader.js';

export type ReplicationMethod = 'FULL_TABLE' | 'INCREMENTAL';

export interface CatalogEntry {
  tap_stream_id: string;
  stream: string;
  schema: JsonSchema;
  key_properties: string[];
  replication_method: ReplicationMethod;
  replication_key?: string;
  metadata: MetadataEntry[];
}

export interface Catalog {
  streams: CatalogEntry[];
}

/** Fields always emitted whatever the selection says: the key and the cursor. */
export function automaticFields(stream: StreamDefinition): Set<string> {
  const fields = new Set<string>(stream.key);
  if (stream.incremental) fields.add(stream.incremental.cursor);
  return fields;
}

/**
 * The catalog `--discover` prints: every stream selected, with Singer and Meltano metadata, and
 * last `_sdc_rejected_records`, where records that cannot be read are set aside.
 */
export function discoverCatalog(streams: readonly StreamDefinition[]): Catalog {
  return {
    streams: [...streams.map(streamEntry), rejectsEntry()],
  };
}

function rejectsEntry(): CatalogEntry {
  const metadata = buildStreamMetadata({
    schema: REJECTS_SCHEMA,
    keyProperties: [...REJECTS_KEY],
    validReplicationKeys: [],
    forcedReplicationMethod: 'FULL_TABLE',
    selectedByDefault: true,
  });
  (metadata[0]!.metadata as Record<string, unknown>).selected = true;
  const key = metadata.find((m) => m.breadcrumb[0] === 'properties' && m.breadcrumb[1] === REJECTS_KEY[0]);
  if (key) key.metadata.inclusion = 'automatic';
  return {
    tap_stream_id: REJECTS_STREAM,
    stream: REJECTS_STREAM,
    schema: REJECTS_SCHEMA,
    key_properties: [...REJECTS_KEY],
    replication_method: 'FULL_TABLE',
    metadata,
  };
}

function streamEntry(stream: StreamDefinition): CatalogEntry {
  const schema = streamJsonSchema(stream);
  const automatic = automaticFields(stream);
  const method: ReplicationMethod = stream.incremental ? 'INCREMENTAL' : 'FULL_TABLE';
  const metadata = buildStreamMetadata({
    schema,
    keyProperties: [...stream.key],
    validReplicationKeys: stream.incremental ? [stream.incremental.cursor] : [],
    forcedReplicationMethod: method,
    selectedByDefault: true,
  });
  // Selected outright too, so tools that only read `selected` sync everything by default.
  const top = metadata[0]!.metadata as Record<string, unknown>;
  top.selected = true;
  if (stream.incremental) top['replication-key'] = stream.incremental.cursor;
  if (stream.parent) top['parent-tap-stream-id'] = stream.parent.stream.name;
  for (const name of automatic) {
    const field = metadata.find((m) => m.breadcrumb[0] === 'properties' && m.breadcrumb[1] === name);
    if (field) field.metadata.inclusion = 'automatic';
  }
  return {
    tap_stream_id: stream.name,
    stream: stream.name,
    schema,
    key_properties: [...stream.key],
    replication_method: method,
    ...(stream.incremental ? { replication_key: stream.incremental.cursor } : {}),
    metadata,
  };
}

/** What the user asked for, per stream. */
export interface StreamSelection {
  selected: boolean;
  /** Top-level fields to emit; undefined means all. */
  fields: Set<string> | undefined;
  /** FULL_TABLE when the catalog turns an incremental stream into a full re-read. */
  replicationMethod: ReplicationMethod;
}

/** Metadata with "true"/"false" strings read as booleans (the getting-started examples write strings). */
function normaliseFlags(entries: MetadataEntry[]): MetadataEntry[] {
  return entries
    .filter((m) => Array.isArray(m?.breadcrumb) && typeof m.metadata === 'object' && m.metadata !== null)
    .map((m) => {
      const metadata = { ...m.metadata } as Record<string, unknown>;
      for (const key of ['selected', 'selected-by-default']) {
        const value = flag(metadata[key]);
        if (value === undefined) delete metadata[key];
        else metadata[key] = value;
      }
      return { breadcrumb: m.breadcrumb, metadata } as MetadataEntry;
    });
}

/** Singer catalogs in the wild write booleans as strings ("true"); read both. */
function flag(value: unknown): boolean | undefined {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return undefined;
}

/**
 * Resolves selection the way the Meltano SDK does: `unsupported` never, `automatic` always, then an
 * explicit `selected`, then `selected-by-default`. A stream absent from the catalog is not synced.
 * Without a catalog everything is selected.
 */
export function resolveSelection(streams: readonly StreamDefinition[], catalog: unknown, source = 'catalog'): Map<string, StreamSelection> {
  const result = new Map<string, StreamSelection>();
  const ownMethod = (stream: StreamDefinition): ReplicationMethod => (stream.incremental ? 'INCREMENTAL' : 'FULL_TABLE');
  if (catalog === undefined) {
    for (const stream of streams) result.set(stream.name, { selected: true, fields: undefined, replicationMethod: ownMethod(stream) });
    return result;
  }
  const entries = (catalog as { streams?: unknown } | null)?.streams;
  if (!Array.isArray(entries)) throw new TapError(`The ${source} has no "streams" list.`, 'config');
  for (const stream of streams) {
    const entry = entries.find((e) => e?.tap_stream_id === stream.name || (e?.tap_stream_id === undefined && e?.stream === stream.name)) as
      | { metadata?: unknown; schema?: { selected?: unknown }; replication_method?: unknown }
      | undefined;
    if (!entry) {
      result.set(stream.name, { selected: false, fields: undefined, replicationMethod: ownMethod(stream) });
      continue;
    }
    const metadata = Array.isArray(entry.metadata) ? normaliseFlags(entry.metadata as MetadataEntry[]) : [];
    const view = { metadata };
    const legacy = flag(entry.schema?.selected);
    const selected = metadata.length === 0 && legacy !== undefined ? legacy : isBreadcrumbSelected(view, []);
    const automatic = automaticFields(stream);
    const fields = new Set<string>();
    for (const name of [...Object.keys(stream.record.shape), EXTRA_FIELD]) {
      // The key and cursor are always emitted, whatever the catalog says about them.
      if (automatic.has(name) || metadata.length === 0 || isBreadcrumbSelected(view, ['properties', name])) fields.add(name);
    }
    const top = metadata.find((m) => Array.isArray(m.breadcrumb) && m.breadcrumb.length === 0)?.metadata ?? {};
    const requested = top['replication-method'] ?? entry.replication_method;
    const replicationMethod: ReplicationMethod = requested === 'FULL_TABLE' ? 'FULL_TABLE' : ownMethod(stream);
    result.set(stream.name, { selected, fields, replicationMethod });
  }
  return result;
}

/**
 * Whether `_sdc_rejected_records` is synced, and which of its fields: selected unless a catalog
 * deselects it, so a catalog saved before the stream existed still keeps what cannot be read.
 */
export function resolveRejectsSelection(catalog: unknown): StreamSelection {
  const all: StreamSelection = { selected: true, fields: undefined, replicationMethod: 'FULL_TABLE' };
  const entries = (catalog as { streams?: unknown } | null | undefined)?.streams;
  if (!Array.isArray(entries)) return all;
  const entry = entries.find(
    (e) => e?.tap_stream_id === REJECTS_STREAM || (e?.tap_stream_id === undefined && e?.stream === REJECTS_STREAM),
  ) as { metadata?: unknown; schema?: { selected?: unknown } } | undefined;
  if (!entry) return all;
  const metadata = Array.isArray(entry.metadata) ? normaliseFlags(entry.metadata as MetadataEntry[]) : [];
  const view = { metadata };
  const legacy = flag(entry.schema?.selected);
  const selected = metadata.length === 0 ? legacy !== false : isBreadcrumbSelected(view, []);
  const fields = new Set<string>();
  for (const name of Object.keys(REJECTS_SCHEMA.properties as object)) {
    if (name === REJECTS_KEY[0] || metadata.length === 0 || isBreadcrumbSelected(view, ['properties', name])) fields.add(name);
  }
  return { selected, fields, replicationMethod: 'FULL_TABLE' };
}
