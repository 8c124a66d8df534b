// Spools a batch's rows to a CSV file that DuckDB parses with its own parallel reader, straight into typed columns.
import { open } from 'node:fs/promises';
import type { CellValue, ColumnDef } from '@tapline/target-kit';
import { plainDecimal } from './decimal.js';
import { ident, literal } from './sql.js';

/** Flush the text buffer to the file at about this size, so a batch never exists twice in memory. */
const WRITE_CHUNK_CHARS = 4 << 20;

/** DuckDB's read_csv refuses lines longer than this unless told (its max_line_size default). */
const DEFAULT_MAX_LINE_BYTES = 2_097_152;

/**
 * Write each row as one CSV line. NULL is an empty unquoted field; every text value is quoted
 * (so an empty string stays an empty string, and commas, quotes, newlines and NUL pass as sent);
 * numbers and booleans are written bare. Returns the longest line in UTF-8 bytes (an upper bound).
 */
export async function spoolCsv(path: string, columns: readonly ColumnDef[], rows: readonly (readonly CellValue[])[]): Promise<number> {
  const encoders = columns.map((column) => (column.kind === 'decimal' ? decimalCell : cell));
  const width = encoders.length;
  const file = await open(path, 'w');
  let longest = 0;
  try {
    let text = '';
    for (const row of rows) {
      let line = encoders[0]!(row[0] ?? null);
      for (let i = 1; i < width; i++) line += ',' + encoders[i]!(row[i] ?? null);
      if (line.length > longest) longest = line.length;
      text += line + '\n';
      if (text.length >= WRITE_CHUNK_CHARS) {
        await file.write(text);
        text = '';
      }
    }
    if (text.length > 0) await file.write(text);
  } finally {
    await file.close();
  }
  return longest * 3; // a UTF-16 unit is at most 3 UTF-8 bytes
}

function cell(value: CellValue): string {
  switch (typeof value) {
    case 'string':
      return value.includes('"') ? `"${value.replaceAll('"', '""')}"` : `"${value}"`;
    case 'object': // null
      return '';
    default:
      return String(value);
  }
}

/** A decimal is written as plain digits (an exponent form rewritten exactly), so DECIMAL parses it. */
function decimalCell(value: CellValue): string {
  return typeof value === 'string' ? cell(plainDecimal(value) ?? value) : cell(value);
}

/**
 * `read_csv` of a spooled file with every column's type given, so DuckDB parses each field
 * straight into its type (no sniffing, no per-column casts).
 */
export function readCsvSql(path: string, columns: readonly { name: string; sqlType: string }[], longestLineBytes: number): string {
  const spec = columns.map((column) => `${literal(column.name)}: ${literal(column.sqlType)}`).join(', ');
  const maxLine = longestLineBytes + 2 > DEFAULT_MAX_LINE_BYTES ? `, max_line_size = ${longestLineBytes + 2}, buffer_size = ${2 * (longestLineBytes + 2)}` : '';
  return (
    `read_csv(${literal(path)}, columns = {${spec}}, header = false, auto_detect = false, delim = ',', quote = '"', ` +
    `escape = '"', nullstr = '', allow_quoted_nulls = false, new_line = '\\n'${maxLine})`
  );
}

/** `SELECT` list naming each read_csv column (read_csv names them as given; quoted for safety). */
export function columnList(columns: readonly { name: string }[]): string {
  return columns.map((column) => ident(column.name)).join(', ');
}
