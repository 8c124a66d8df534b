// Schema diff -> column plan: which columns to add and which to widen; nothing is ever dropped or narrowed.
import type { ColumnDef, ColumnKind } from './dialect.js';

const numeric: ReadonlySet<ColumnKind> = new Set(['integer', 'decimal', 'number']);
const temporal: ReadonlySet<ColumnKind> = new Set(['date', 'timestamp']);

/**
 * The narrowest kind that holds every value of both kinds exactly (README, "Type changes"):
 * integer/number/decimal mix -> decimal; date + timestamp -> timestamp; json + any scalar -> json;
 * `string` holds everything (JSON as its text, bytes as their hex), so it is the top; any other
 * mix (bytes with anything else too) -> string.
 */
export function widenKind(a: ColumnKind, b: ColumnKind): ColumnKind {
  if (a === b) return a;
  if (a === 'string' || b === 'string' || a === 'bytes' || b === 'bytes') return 'string';
  if (a === 'json' || b === 'json') return 'json';
  if (numeric.has(a) && numeric.has(b)) return 'decimal';
  if (temporal.has(a) && temporal.has(b)) return 'timestamp';
  return 'string';
}

export interface ColumnPlan {
  /** Columns to add (new properties), in schema order. */
  readonly add: readonly ColumnDef[];
  /** Columns whose type must widen to hold the new schema's values. */
  readonly widen: readonly { readonly column: ColumnDef; readonly from: ColumnKind }[];
}

/**
 * Compare the columns a table has with the columns a schema wants. An existing column whose
 * kind is null (a type we do not map) is left alone. A wanted kind narrower than the existing
 * one keeps the existing column (a text column already holds integers).
 */
export function planColumns(existing: ReadonlyMap<string, ColumnKind | null>, wanted: readonly ColumnDef[]): ColumnPlan {
  const add: ColumnDef[] = [];
  const widen: { column: ColumnDef; from: ColumnKind }[] = [];
  for (const column of wanted) {
    if (!existing.has(column.name)) {
      add.push(column);
      continue;
    }
    const from = existing.get(column.name);
    if (from === null || from === undefined) continue;
    const kind = widenKind(from, column.kind);
    if (kind !== from) widen.push({ column: { name: column.name, kind }, from });
  }
  return { add, widen };
}

export function isEmptyPlan(plan: ColumnPlan): boolean {
  return plan.add.length === 0 && plan.widen.length === 0;
}
