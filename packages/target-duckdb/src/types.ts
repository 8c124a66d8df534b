// Column kinds <-> DuckDB SQL types (README, "Types").
import type { ColumnKind } from '@tapline/target-kit';
import { isDecimalSqlType } from './decimal.js';

/**
 * The DuckDB type each kind is created as. A `decimal` column starts as DECIMAL(18,0) and is
 * resized to the values each batch brings (decimal.ts): DECIMAL(p,s), HUGEINT, or VARCHAR
 * holding the exact text beyond what DuckDB's numbers hold.
 */
export const SQL_TYPE: Readonly<Record<ColumnKind, string>> = {
  boolean: 'BOOLEAN',
  integer: 'BIGINT',
  decimal: 'DECIMAL(18,0)',
  number: 'DOUBLE',
  date: 'DATE',
  time: 'TIME',
  timestamp: 'TIMESTAMPTZ',
  string: 'VARCHAR',
  json: 'JSON',
  bytes: 'BLOB',
};

/**
 * The kind an existing column's type holds, or null for a type we leave alone (the kit then never
 * alters it and the database judges each value). TIMESTAMP without zone (made by hand) is a
 * `timestamp`: its values are read as TIMESTAMPTZ first, so an offset is honoured and the UTC time
 * stored (session.ts). DECIMAL(p,s) is `decimal`: a batch whose values need more digits widens it
 * first, so nothing is rounded.
 */
export function kindOfSqlType(sqlType: string): ColumnKind | null {
  if (isDecimalSqlType(sqlType)) return 'decimal';
  switch (sqlType.toUpperCase()) {
    case 'BOOLEAN':
      return 'boolean';
    case 'BIGINT':
    case 'INTEGER':
    case 'SMALLINT':
    case 'TINYINT':
      return 'integer';
    case 'DOUBLE':
    case 'FLOAT':
      return 'number';
    case 'DATE':
      return 'date';
    case 'TIME':
      return 'time';
    case 'TIMESTAMP WITH TIME ZONE':
    case 'TIMESTAMP':
      return 'timestamp';
    case 'VARCHAR':
      return 'string';
    case 'JSON':
      return 'json';
    case 'BLOB':
      return 'bytes';
    default:
      return null;
  }
}

/**
 * The column comment that marks a VARCHAR column as holding exact decimals too long for DuckDB's
 * numbers, so that a later run (and `describeTable`) knows it as `decimal`, not `string`.
 */
export const DECIMAL_COMMENT = 'tapline: exact decimal as text';

/** The kind of a column, using its comment to tell exact-decimal text from plain text. */
export function kindOfColumn(sqlType: string, comment: string | null): ColumnKind | null {
  return sqlType.toUpperCase() === 'VARCHAR' && hasDecimalMarker(comment) ? 'decimal' : kindOfSqlType(sqlType);
}

/**
 * A column comment holds the column's description (the data dictionary) and, on its own last
 * line, the decimal marker: the two are kept apart here.
 */
export function hasDecimalMarker(comment: string | null): boolean {
  return comment?.split('\n').includes(DECIMAL_COMMENT) ?? false;
}

/** The description part of a column comment (without the decimal marker), or null. */
export function descriptionPart(comment: string | null): string | null {
  if (comment === null) return null;
  const text = comment
    .split('\n')
    .filter((line) => line !== DECIMAL_COMMENT)
    .join('\n');
  return text === '' ? null : text;
}

/** A column comment of `description` and, when `marked`, the decimal marker; null for neither. */
export function columnComment(description: string | null, marked: boolean): string | null {
  const lines = [...(description === null ? [] : [description]), ...(marked ? [DECIMAL_COMMENT] : [])];
  return lines.length === 0 ? null : lines.join('\n');
}
