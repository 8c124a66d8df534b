// Typed column access for model SQL: one expression per unified column, whatever type a connector chose.
import { quoteIdent, type WarehouseSession } from '../warehouse.js';

/** A source table's columns (lower-cased data types), read from information_schema. */
export type ColumnTypes = ReadonlyMap<string, string>;

export async function columnTypes(session: WarehouseSession, schema: string, table: string): Promise<ColumnTypes> {
  const rows = await session.query(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
    [schema, table],
  );
  return new Map(rows.map((r) => [String(r.column_name), String(r.data_type).toLowerCase()]));
}

const isNumeric = (type: string) => /int|double|float|real|numeric|decimal/.test(type);
const isTemporal = (type: string) => /timestamp|date/.test(type);

/**
 * Expressions over one aliased source table. A missing column reads as NULL, so a mapping
 * survives a connector that does not (yet) send a field.
 */
export class Columns {
  constructor(
    private readonly types: ColumnTypes,
    private readonly alias: string,
  ) {}

  has(name: string): boolean {
    return this.types.has(name);
  }

  private ref(name: string): string {
    return `${this.alias}.${quoteIdent(name)}`;
  }

  /** The first of `names` that exists, as text. */
  text(...names: string[]): string {
    const name = names.find((n) => this.has(n));
    return name ? `CAST(${this.ref(name)} AS VARCHAR)` : 'CAST(NULL AS VARCHAR)';
  }

  number(...names: string[]): string {
    const name = names.find((n) => this.has(n));
    return name ? `CAST(${this.ref(name)} AS DOUBLE PRECISION)` : 'CAST(NULL AS DOUBLE PRECISION)';
  }

  /** A timestamptz from a timestamp column, unix seconds, or ISO 8601 text. */
  timestamp(...names: string[]): string {
    const name = names.find((n) => this.has(n));
    if (!name) return 'CAST(NULL AS TIMESTAMPTZ)';
    const type = this.types.get(name)!;
    if (isTemporal(type)) return `CAST(${this.ref(name)} AS TIMESTAMPTZ)`;
    if (isNumeric(type)) return `to_timestamp(CAST(${this.ref(name)} AS DOUBLE PRECISION))`;
    return `CAST(NULLIF(${this.ref(name)}, '') AS TIMESTAMPTZ)`;
  }

  /** Seconds from a number of seconds, or an `H:MM:SS` duration text. */
  seconds(...names: string[]): string {
    const name = names.find((n) => this.has(n));
    if (!name) return 'CAST(NULL AS DOUBLE PRECISION)';
    if (isNumeric(this.types.get(name)!)) return `CAST(${this.ref(name)} AS DOUBLE PRECISION)`;
    return `CAST(EXTRACT(EPOCH FROM CAST(NULLIF(${this.ref(name)}, '') AS INTERVAL)) AS DOUBLE PRECISION)`;
  }

  /** A boolean from a boolean column, or from text such as "Yes"/"No", "true"/"false", "1"/"0". */
  boolean(...names: string[]): string {
    const name = names.find((n) => this.has(n));
    if (!name) return 'CAST(NULL AS BOOLEAN)';
    const type = this.types.get(name)!;
    if (type === 'boolean') return this.ref(name);
    const text = `lower(CAST(${this.ref(name)} AS VARCHAR))`;
    return `CASE WHEN ${text} IN ('true', 'yes', 'y', '1', 't', 'pass', 'passed') THEN TRUE WHEN ${text} IN ('false', 'no', 'n', '0', 'f', 'fail', 'failed') THEN FALSE END`;
  }
}
