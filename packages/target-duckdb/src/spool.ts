// Spools a batch's rows to a CSV file that DuckDB parses with its own parallel reader, straight into typed columns.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { CellValue, ColumnDef } from '@tapline/target-kit';
import { plainDecimal } from './decimal.js';
import { ident, literal } from './sql.js';

/** DuckDB's read_csv refuses lines longer than this unless told (its max_line_size default). */
const DEFAULT_MAX_LINE_BYTES = 2_097_152;
const READ_BUFFER_BYTES = 4 << 20;

/**
 * One reusable write buffer: each line is encoded into it and it goes to the file when full, so
 * a batch's text is never built as one big string (that doubled GC work in the profile).
 */
let buffer = Buffer.allocUnsafe(8 << 20);

/**
 * Write each row as one CSV line. NULL is an empty unquoted field; every text value is quoted
 * (so an empty string stays an empty string, and commas, quotes, newlines and NUL pass as sent);
 * numbers and booleans are written bare. Returns the longest line in UTF-8 bytes.
 */
export function spoolCsv(path: string, columns: readonly ColumnDef[], rows: readonly (readonly CellValue[])[]): number {
  const encoders = columns.map((column) => (column.kind === 'decimal' ? decimalCell : cell));
  const width = encoders.length;
  const file = openSync(path, 'w');
  let longest = 0;
  let used = 0;
  try {
    for (const row of rows) {
      let line = encoders[0]!(row[0] ?? null);
      for (let i = 1; i < width; i++) line += ',' + encoders[i]!(row[i] ?? null);
      line += '\n';
      const most = line.length * 3; // a UTF-16 unit is at most 3 UTF-8 bytes
      if (used + most > buffer.length) {
        writeSync(file, buffer, 0, used);
        used = 0;
        if (most > buffer.length) buffer = Buffer.allocUnsafe(most);
      }
      const bytes = buffer.write(line, used);
      used += bytes;
      if (bytes > longest) longest = bytes;
    }
    if (used > 0) writeSync(file, buffer, 0, used);
  } finally {
    closeSync(file);
  }
  return longest;
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
  const maxLine = Math.max(DEFAULT_MAX_LINE_BYTES, longestLineBytes + 2);
  // read_csv's default buffer is 16 x max_line_size (32MB) per reader thread; 4MB buffers still
  // split a batch file across threads and lowered the bench's peak RSS by ~50-100MB.
  const bufferSize = Math.max(READ_BUFFER_BYTES, 2 * maxLine);
  return (
    `read_csv(${literal(path)}, columns = {${spec}}, header = false, auto_detect = false, delim = ',', quote = '"', ` +
    `escape = '"', nullstr = '', allow_quoted_nulls = false, new_line = '\\n', max_line_size = ${maxLine}, buffer_size = ${bufferSize})`
  );
}

/** `SELECT` list naming each read_csv column (read_csv names them as given; quoted for safety). */
export function columnList(columns: readonly { name: string }[]): string {
  return columns.map((column) => ident(column.name)).join(', ');
}
