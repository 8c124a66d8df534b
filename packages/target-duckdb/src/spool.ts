// Encodes rows as CSV lines as records arrive, and spools a batch to a file DuckDB parses with its own parallel reader, straight into typed columns.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { CellValue, ColumnDef, EncodedRows, RowEncoder } from '@tapline/target-kit';
import { emptyShape, plainDecimal, widenShape, type DecimalShape } from './decimal.js';
import { ident, literal } from './sql.js';

/** DuckDB's read_csv refuses lines longer than this unless told (its max_line_size default). */
const DEFAULT_MAX_LINE_BYTES = 2_097_152;
const READ_BUFFER_BYTES = 4 << 20;

/**
 * Each row as one CSV line. NULL is an empty unquoted field; every text value is quoted (so an
 * empty string stays an empty string, and commas, quotes, newlines and NUL pass as sent);
 * numbers and booleans are written bare; a decimal as plain digits (an exponent form rewritten
 * exactly), so DECIMAL parses it. While encoding it measures each decimal column's values, so
 * the column can be widened before the batch is loaded (DuckDB would round extra scale).
 * `_sdc_batched_at` is not in the file: the load statement adds it as a constant.
 */
export class CsvRowEncoder implements RowEncoder {
  /** Per column: the shape of the decimal values seen (null for other kinds). */
  readonly shapes: (DecimalShape | null)[];
  private readonly fields: string[];

  constructor(columns: readonly ColumnDef[], withBatchedAt: boolean) {
    const count = columns.length - (withBatchedAt ? 1 : 0);
    this.shapes = columns.slice(0, count).map((column) => (column.kind === 'decimal' ? emptyShape() : null));
    this.fields = new Array<string>(count).fill('');
  }

  encode(cells: readonly CellValue[]): string {
    const fields = this.fields;
    const count = fields.length;
    for (let i = 0; i < count; i++) {
      const value = cells[i]!;
      const shape = this.shapes[i];
      fields[i] = shape ? this.decimalField(shape, value) : csvField(value);
    }
    if (count === 0) return '\n';
    fields[count - 1] += '\n';
    return fields.join(',');
  }

  private decimalField(shape: DecimalShape, value: CellValue): string {
    if (value === null) return '';
    const text = typeof value === 'string' ? value : String(value);
    const plain = typeof value === 'boolean' ? null : plainDecimal(text);
    if (plain === null) shape.text = true;
    else widenShape(shape, plain);
    return typeof value === 'string' ? csvField(plain ?? value) : csvField(value);
  }
}

function csvField(value: CellValue): string {
  switch (typeof value) {
    case 'string':
      return value.includes('"') ? `"${value.replaceAll('"', '""')}"` : `"${value}"`;
    case 'object': // null
      return '';
    case 'number':
      // String(-0) is "0"; a double column keeps the sign of zero as sent.
      return value === 0 && Object.is(value, -0) ? '-0' : String(value);
    default:
      return String(value);
  }
}

/** The fields of one spooled line (error paths only): null for an empty unquoted field. */
export function csvFields(line: string): (string | null)[] {
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  const fields: (string | null)[] = [];
  let at = 0;
  for (;;) {
    if (text.charCodeAt(at) === 0x22) {
      let value = '';
      at += 1;
      for (;;) {
        const quote = text.indexOf('"', at);
        value += text.slice(at, quote);
        if (text.charCodeAt(quote + 1) === 0x22) {
          value += '"';
          at = quote + 2;
        } else {
          at = quote + 1;
          break;
        }
      }
      fields.push(value);
    } else {
      const comma = text.indexOf(',', at);
      const end = comma === -1 ? text.length : comma;
      fields.push(end === at ? null : text.slice(at, end));
      at = end;
    }
    if (at >= text.length) return fields;
    at += 1; // the comma
  }
}

/** Write a batch's encoded rows to `path`. */
export function spoolRows(path: string, rows: EncodedRows): void {
  const file = openSync(path, 'w');
  try {
    for (const buffer of rows.buffers()) {
      for (let done = 0; done < buffer.length; ) done += writeSync(file, buffer, done);
    }
  } finally {
    closeSync(file);
  }
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
