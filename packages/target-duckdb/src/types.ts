// Column kinds <-> DuckDB SQL types (README, "Types").
import type { ColumnKind } from '@tapline/target-kit';

/**
 * The DuckDB type each kind is stored as. `decimal` is VARCHAR holding the exact text: DuckDB's
 * DECIMAL stops at 38 digits and rounds extra scale silently, and HUGEINT holds no fractions,
 * while the kit only asks for `decimal` when a value must stay exact (an integer beyond int64,
 * a decimal a double would round, or an integer/number mix).
 */
export const SQL_TYPE: Readonly<Record<ColumnKind, string>> = {
  boolean: 'BOOLEAN',
  integer: 'BIGINT',
  decimal: 'VARCHAR',
  number: 'DOUBLE',
  date: 'DATE',
  time: 'TIME',
  timestamp: 'TIMESTAMPTZ',
  string: 'VARCHAR',
  json: 'JSON',
};

/**
 * The kind an existing column's type holds, or null for a type we leave alone (the kit then never
 * alters it and the database judges each value). DECIMAL(p,s) and TIMESTAMP without zone are
 * left alone because casting our values into them could round or drop an offset.
 */
export function kindOfSqlType(sqlType: string): ColumnKind | null {
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
      return 'timestamp';
    case 'VARCHAR':
      return 'string';
    case 'JSON':
      return 'json';
    default:
      return null;
  }
}

/**
 * The column comment that marks a VARCHAR column as holding exact decimals, so that a later run
 * (and `describeTable`) knows it as `decimal`, not `string`.
 */
export const DECIMAL_COMMENT = 'tapline: exact decimal as text';

/** The kind of a column, using its comment to tell exact-decimal text from plain text. */
export function kindOfColumn(sqlType: string, comment: string | null): ColumnKind | null {
  return sqlType.toUpperCase() === 'VARCHAR' && comment === DECIMAL_COMMENT ? 'decimal' : kindOfSqlType(sqlType);
}
