// The warehouse's data dictionary: each table's and column's comment, from the SCHEMA's descriptions and the kit's own columns.
import type { JsonSchema } from '@tapline/singer';
import type { DialectSession, ExistingTable, TableRef } from './dialect.js';
import { META } from './metadata.js';
import { commentWithOwner } from './table-owner.js';

/** What the metadata columns the kit adds hold (README, "Metadata columns"). */
export const METADATA_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [META.extractedAt]: "When the tap read the record from the source (the record's time_extracted).",
  [META.receivedAt]: 'When the target received the record.',
  [META.batchedAt]: 'When the target wrote the batch holding the row.',
  [META.deletedAt]:
    "When the row was found deleted at the source (ACTIVATE_VERSION or the tap's own _sdc_deleted_at); NULL while it exists.",
  [META.sequence]:
    'Order of the record in the load (nanoseconds since the epoch, then its place): the highest is the latest version of a key.',
  [META.tableVersion]: 'The ACTIVATE_VERSION of the full sync that last wrote the row; rows of older versions are marked deleted.',
};

/** A schema's `description` as comment text (trimmed), or null when it has none. */
export function descriptionOf(schema: JsonSchema | boolean | undefined): string | null {
  if (typeof schema !== 'object' || schema === null) return null;
  const text = (schema as { description?: unknown }).description;
  return typeof text === 'string' && text.trim() !== '' ? text.trim() : null;
}

/**
 * Write the comments a SCHEMA asks for that the table does not have yet: the table's (the schema's
 * `description`, with the owner line of table-owner.ts) and each column's. Only differences are
 * written, so a repeated SCHEMA changes nothing. A column without a description keeps any comment
 * it has (one an analyst wrote).
 */
export async function applyComments(
  session: DialectSession,
  table: TableRef,
  stream: string,
  existing: ExistingTable | null,
  tableDescription: string | null,
  columnDescriptions: readonly (readonly [column: string, description: string])[],
): Promise<void> {
  const currentTable = existing?.comment ?? null;
  const wantedTable = commentWithOwner(currentTable, stream, tableDescription);
  if (wantedTable !== currentTable) await session.setTableComment(table, wantedTable);
  const current = new Map((existing?.columns ?? []).map((column) => [column.name, column.comment ?? null]));
  for (const [column, description] of columnDescriptions) {
    if (current.get(column) !== description) await session.setColumnComment(table, column, description);
  }
}
