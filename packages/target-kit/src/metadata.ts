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

/** The metadata columns, in the order they are appended after the record's own columns. */
export const METADATA_COLUMNS: readonly ColumnDef[] = [
  { name: META.extractedAt, kind: 'timestamp' },
  { name: META.receivedAt, kind: 'timestamp' },
  { name: META.batchedAt, kind: 'timestamp' },
  { name: META.deletedAt, kind: 'timestamp' },
  { name: META.sequence, kind: 'integer' },
  { name: META.tableVersion, kind: 'integer' },
];
