// Quoting for DuckDB identifiers and string literals.
import type { TableRef } from '@tapline/target-kit';

/** A quoted identifier; names arrive final from the kit, so they are never re-cased. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function tableName(table: TableRef): string {
  return `${ident(table.schema)}.${ident(table.table)}`;
}

export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
