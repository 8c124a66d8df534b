// The tap-side catalog: its zod types, a tolerant reader, discovery metadata, and stream/field selection.
import { z } from 'zod';
import { setOwn } from './json.js';
import type { JsonSchema } from './messages.js';

/** `"selected": "true"` appears in the getting-started examples; read such strings as booleans. */
const looseBoolean = z.preprocess((value) => (typeof value === 'string' ? value.trim().toLowerCase() === 'true' : value), z.boolean());

const replicationMethod = z.preprocess(
  (value) => (typeof value === 'string' ? value.toUpperCase() : value),
  z.enum(['FULL_TABLE', 'INCREMENTAL', 'LOG_BASED']),
);

/** A null sent for an optional key means "not set". */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => value ?? undefined, schema.optional());
}

export const replicationMethodSchema = replicationMethod;
export type ReplicationMethod = 'FULL_TABLE' | 'INCREMENTAL' | 'LOG_BASED';

export const inclusionSchema = z.enum(['available', 'automatic', 'unsupported']);
export type Inclusion = z.infer<typeof inclusionSchema>;

/** The `metadata` object of one breadcrumb. Keys we do not know are kept. */
export const metadataSchema = z.looseObject({
  inclusion: optional(inclusionSchema),
  selected: optional(looseBoolean),
  'selected-by-default': optional(looseBoolean),
  'replication-method': optional(replicationMethod),
  'replication-key': optional(z.string()),
  'valid-replication-keys': optional(z.array(z.string())),
  'forced-replication-method': optional(replicationMethod),
  'table-key-properties': optional(z.array(z.string())),
  'view-key-properties': optional(z.array(z.string())),
});
/** The `metadata` object of one breadcrumb (see the spec notes, section 4). */
export interface Metadata {
  inclusion?: Inclusion;
  selected?: boolean;
  'selected-by-default'?: boolean;
  'replication-method'?: ReplicationMethod;
  'replication-key'?: string;
  'valid-replication-keys'?: string[];
  'forced-replication-method'?: ReplicationMethod;
  'table-key-properties'?: string[];
  'view-key-properties'?: string[];
  [key: string]: unknown;
}

/** `[]` is the stream; `["properties", "a"]` a top-level field; nested fields continue the path. */
export type Breadcrumb = string[];

export const metadataEntrySchema = z.object({
  breadcrumb: z.array(z.string()),
  metadata: metadataSchema,
});
export interface MetadataEntry {
  breadcrumb: Breadcrumb;
  metadata: Metadata;
}

const jsonSchemaObject = z.record(z.string(), z.unknown());

export const catalogEntrySchema = z.looseObject({
  tap_stream_id: z.string().min(1),
  stream: z.string().min(1),
  schema: jsonSchemaObject,
  table_name: optional(z.string()),
  key_properties: optional(z.array(z.string())),
  replication_key: optional(z.string()),
  replication_method: optional(replicationMethod),
  stream_alias: optional(z.string()),
  metadata: optional(z.array(metadataEntrySchema)),
});
export interface CatalogEntry {
  tap_stream_id: string;
  stream: string;
  schema: JsonSchema;
  table_name?: string;
  key_properties?: string[];
  replication_key?: string;
  replication_method?: ReplicationMethod;
  stream_alias?: string;
  metadata?: MetadataEntry[];
  [key: string]: unknown;
}

export const catalogSchema = z.object({ streams: z.array(catalogEntrySchema) });
export interface Catalog {
  streams: CatalogEntry[];
}

/** A catalog file that cannot be used: the message names the stream and key at fault. */
export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}

/**
 * Read a catalog (or a legacy `--properties` file) from parsed JSON or JSON text. Tolerant where
 * real catalogs vary: a missing `tap_stream_id` falls back to `stream`, `selected` may be a
 * string, and legacy `selected`/`inclusion` keys inside the schema become metadata (explicit
 * metadata wins).
 */
export function parseCatalog(json: unknown, source = 'catalog'): Catalog {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new CatalogError(`${source}: invalid JSON (${(error as Error).message})`);
    }
  }
  if (typeof value === 'object' && value !== null && Array.isArray((value as { streams?: unknown }).streams)) {
    const streams = (value as { streams: unknown[] }).streams.map((entry) => {
      if (typeof entry !== 'object' || entry === null) return entry;
      const raw = entry as Record<string, unknown>;
      return raw.tap_stream_id === undefined && typeof raw.stream === 'string' ? { ...raw, tap_stream_id: raw.stream } : raw;
    });
    value = { ...value, streams };
  }
  const result = catalogSchema.safeParse(value) as z.ZodSafeParseResult<Catalog>;
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path ?? [];
    const streamIndex = path[0] === 'streams' && typeof path[1] === 'number' ? path[1] : undefined;
    const streamName =
      streamIndex === undefined
        ? undefined
        : ((value as { streams: Array<{ stream?: unknown }> }).streams[streamIndex]?.stream ?? undefined);
    const where = path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
    const streamText = typeof streamName === 'string' ? ` (stream ${JSON.stringify(streamName)})` : '';
    throw new CatalogError(`${source}${streamText}: ${where.replace(/^\./, '') || 'top level'}: ${issue?.message ?? 'invalid'}`);
  }
  for (const entry of result.data.streams) adoptLegacySelection(entry);
  return result.data;
}

/** Legacy catalogs mark selection inside the schema; express it as metadata once, on read. */
function adoptLegacySelection(entry: CatalogEntry): void {
  entry.metadata ??= [];
  const metadata = entry.metadata;
  const byPath = metadataMap(metadata);
  const adopt = (breadcrumb: Breadcrumb, schema: unknown) => {
    if (typeof schema !== 'object' || schema === null) return;
    const legacy = schema as { selected?: unknown; inclusion?: unknown };
    const found: Metadata = {};
    if (legacy.selected !== undefined) {
      const selected = looseBoolean.safeParse(legacy.selected);
      if (selected.success) found.selected = selected.data;
    }
    const inclusion = inclusionSchema.safeParse(legacy.inclusion);
    if (inclusion.success) found.inclusion = inclusion.data;
    if (Object.keys(found).length === 0) return;
    const existing = byPath.get(breadcrumbKey(breadcrumb));
    if (existing === undefined) metadata.push({ breadcrumb, metadata: found });
    else for (const [key, value] of Object.entries(found)) if (existing[key] === undefined) existing[key] = value;
  };
  adopt([], entry.schema);
  const properties = entry.schema.properties;
  if (typeof properties === 'object' && properties !== null) {
    for (const [name, schema] of Object.entries(properties)) adopt(['properties', name], schema);
  }
}

function breadcrumbKey(breadcrumb: readonly string[]): string {
  return breadcrumb.join('\u0000');
}

function metadataMap(entries: readonly MetadataEntry[]): Map<string, Metadata> {
  const map = new Map<string, Metadata>();
  for (const entry of entries) map.set(breadcrumbKey(entry.breadcrumb), entry.metadata);
  return map;
}

/** The metadata written at `breadcrumb` (the stream when omitted), or an empty object. */
export function getMetadata(entry: Pick<CatalogEntry, 'metadata'>, breadcrumb: Breadcrumb = []): Metadata {
  const key = breadcrumbKey(breadcrumb);
  return entry.metadata?.find((item) => breadcrumbKey(item.breadcrumb) === key)?.metadata ?? {};
}

export interface StreamMetadataOptions {
  schema: JsonSchema;
  keyProperties?: string[];
  /** Candidate bookmark fields; they become `automatic` like the key. */
  validReplicationKeys?: string[];
  /** The only method the stream supports. */
  forcedReplicationMethod?: ReplicationMethod;
  /** Default for `selected` when the user does not say. */
  selectedByDefault?: boolean;
  /** Top-level fields the tap can never emit. */
  unsupportedProperties?: string[];
}

/**
 * Discovery metadata for one stream, as taps write it: stream-level `inclusion: available`,
 * `table-key-properties`, `forced-replication-method`, `valid-replication-keys`,
 * `selected-by-default`; per field `automatic` for key and replication-key fields, else
 * `available` (or `unsupported`).
 */
export function buildStreamMetadata(options: StreamMetadataOptions): MetadataEntry[] {
  const keys = options.keyProperties ?? [];
  const replicationKeys = options.validReplicationKeys ?? [];
  const unsupported = new Set(options.unsupportedProperties ?? []);
  const stream: Metadata = { inclusion: 'available', 'table-key-properties': keys };
  if (options.forcedReplicationMethod !== undefined) {
    stream['forced-replication-method'] = options.forcedReplicationMethod;
  }
  if (replicationKeys.length > 0) stream['valid-replication-keys'] = replicationKeys;
  if (options.selectedByDefault !== undefined) stream['selected-by-default'] = options.selectedByDefault;
  const entries: MetadataEntry[] = [{ breadcrumb: [], metadata: stream }];
  const properties = options.schema.properties;
  if (typeof properties === 'object' && properties !== null) {
    for (const name of Object.keys(properties)) {
      const inclusion: Inclusion = unsupported.has(name)
        ? 'unsupported'
        : keys.includes(name) || replicationKeys.includes(name)
          ? 'automatic'
          : 'available';
      const field: Metadata = { inclusion };
      if (inclusion === 'available' && options.selectedByDefault !== undefined) {
        field['selected-by-default'] = options.selectedByDefault;
      }
      entries.push({ breadcrumb: ['properties', name], metadata: field });
    }
  }
  return entries;
}

/**
 * Whether `breadcrumb` is selected, resolved as the Meltano SDK does: a catalog entry without
 * metadata selects everything; under a deselected parent nothing is selected; `unsupported` is
 * never and `automatic` always selected; otherwise `selected`, then `selected-by-default`, then
 * the parent's value (false for a stream that says nothing).
 */
export function isBreadcrumbSelected(entry: Pick<CatalogEntry, 'metadata'>, breadcrumb: Breadcrumb): boolean {
  if (entry.metadata === undefined || entry.metadata.length === 0) return true;
  return resolveSelected(metadataMap(entry.metadata), breadcrumb);
}

function resolveSelected(map: Map<string, Metadata>, breadcrumb: Breadcrumb): boolean {
  let parent: boolean | undefined;
  if (breadcrumb.length > 0) {
    parent = resolveSelected(map, breadcrumb.slice(0, -2));
    if (!parent) return false;
  }
  const metadata = map.get(breadcrumbKey(breadcrumb)) ?? {};
  if (metadata.inclusion === 'unsupported') return false;
  if (metadata.inclusion === 'automatic') return true;
  if (metadata.selected !== undefined) return metadata.selected;
  if (metadata['selected-by-default'] !== undefined) return metadata['selected-by-default'];
  return parent ?? false;
}

export function isStreamSelected(entry: Pick<CatalogEntry, 'metadata'>): boolean {
  return isBreadcrumbSelected(entry, []);
}

/**
 * The selected top-level properties of a stream, or 'all' when its entry carries no metadata.
 * An unselected stream selects nothing.
 */
export function selectedProperties(entry: Pick<CatalogEntry, 'metadata' | 'schema'>): Set<string> | 'all' {
  if (entry.metadata === undefined || entry.metadata.length === 0) return 'all';
  const map = metadataMap(entry.metadata);
  const selected = new Set<string>();
  if (!resolveSelected(map, [])) return selected;
  const properties = entry.schema.properties;
  if (typeof properties === 'object' && properties !== null) {
    for (const name of Object.keys(properties)) {
      if (resolveSelected(map, ['properties', name])) selected.add(name);
    }
  }
  return selected;
}

/** The record with only the selected top-level properties (the record itself for 'all'). */
export function selectRecordProperties<T extends Record<string, unknown>>(record: T, selected: Set<string> | 'all'): Partial<T> {
  if (selected === 'all') return record;
  const result: Record<string, unknown> = {};
  for (const key in record) if (selected.has(key)) setOwn(result, key, record[key]);
  return result as Partial<T>;
}

/** The stream schema with only the selected top-level properties (and `required` trimmed to match). */
export function selectSchemaProperties(schema: JsonSchema, selected: Set<string> | 'all'): JsonSchema {
  if (selected === 'all') return schema;
  const properties = schema.properties;
  if (typeof properties !== 'object' || properties === null) return schema;
  const kept: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) if (selected.has(name)) setOwn(kept, name, property);
  const result: JsonSchema = { ...schema, properties: kept };
  if (Array.isArray(schema.required)) result.required = schema.required.filter((name) => selected.has(String(name)));
  return result;
}

/** The stream's replication method: user metadata, then the tap's forced method, then the entry field. */
export function replicationMethodOf(entry: CatalogEntry): ReplicationMethod | undefined {
  const metadata = getMetadata(entry);
  return metadata['replication-method'] ?? metadata['forced-replication-method'] ?? entry.replication_method;
}

/** The stream's replication key: user metadata, then the entry field. */
export function replicationKeyOf(entry: CatalogEntry): string | undefined {
  return getMetadata(entry)['replication-key'] ?? entry.replication_key;
}

/** The stream's key: `table-key-properties` (or `view-key-properties`) metadata, then the entry field; [] when none. */
export function keyPropertiesOf(entry: CatalogEntry): string[] {
  const metadata = getMetadata(entry);
  return metadata['table-key-properties'] ?? metadata['view-key-properties'] ?? entry.key_properties ?? [];
}
