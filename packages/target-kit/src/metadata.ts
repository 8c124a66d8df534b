// The `_sdc_*` metadata columns the kit adds to every table (Stitch / Meltano SDK naming).
import type { ColumnDef } from './dialect.js';

/** Names of the metadata columns; dialects use these for ACTIVATE_VERSION and hard deletes. */
export const META = {
  extractedAt: '_sdc_extracted_at',
  receivedAt: '_sdc_received_at',
  batchedAt: '_sdc_batched_at',
  deletedAt: '_sdc_deleted_at',
  sequence: '_sdc_sequence',
  tableVersion: '_sdc_table_version',
} as const;

/**
 * Metadata a record may carry itself, whose value then fills the column: log-based taps send
 * `_sdc_deleted_at`, and a record's own `_sdc_extracted_at` is when it was extracted. The others
 * say when and how this target loaded the row, so a record's value for them is data of its own.
 */
export const METADATA_FROM_RECORD: ReadonlySet<string> = new Set([META.extractedAt, META.deletedAt]);

/** The metadata columns, in the order they are appended after the record's own columns. */
export const METADATA_COLUMNS: readonly ColumnDef[] = [
  { name: META.extractedAt, kind: 'timestamp' },
  { name: META.receivedAt, kind: 'timestamp' },
  { name: META.batchedAt, kind: 'timestamp' },
  { name: META.deletedAt, kind: 'timestamp' },
  { name: META.sequence, kind: 'integer' },
  { name: META.tableVersion, kind: 'integer' },
];
