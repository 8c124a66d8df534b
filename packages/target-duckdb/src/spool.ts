// Encodes rows as CSV lines as records arrive, and spools a batch to a file DuckDB parses with its own parallel reader, straight into typed columns.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { CellValue, ColumnDef, ColumnKind, EncodedRows, PlainRowFormat, RowEncoder } from '@tapline/target-kit';
import { type DecimalShape, emptyShape, mergeShapes, plainDecimal, widenShape } from './decimal.js';
import { ident, literal } from './sql.js';

/** DuckDB's read_csv refuses lines longer than this unless told (its max_line_size default). */
const DEFAULT_MAX_LINE_BYTES = 2_097_152;
const READ_BUFFER_BYTES = 4 << 20;
/**
 * The quote byte of the spool: U+0001, not `"`. JSON text (and much prose) is full of `"`, and
 * doubling each one was ~20% of the encoding time; U+0001 is rare in text (and doubled when sent).
 * read_csv takes any single byte as quote and escape.
 */
const QUOTE = '\u0001';

/** The spool's fields as data (the integer measuring is per encoder). */
const PLAIN_CSV = {
  delimiter: 0x2c,
  nullField: Buffer.alloc(0),
  quote: QUOTE.charCodeAt(0),
  trueField: Buffer.from('true'),
  falseField: Buffer.from('false'),
  rowEnd: Buffer.from('\n'),
  textField: (text: string) => quoted(text),
} as const;

/**
 * The least and greatest value an integer column held in a batch, so that a batch whose keys all
 * lie above the table's can be inserted instead of merged. `onlyIntegers` turns false once a cell
 * held anything else (possible with `validate_records: false`); the range then says nothing.
 */
export interface IntegerRange {
  min: number | bigint | null;
  max: number | bigint | null;
  onlyIntegers: boolean;
}

/** What a CsvRowEncoder measured (`learned`), as plain data another thread's encoder takes in (`absorb`). */
export interface CsvFindings {
  readonly shapes: readonly (DecimalShape | null)[];
  readonly integerRanges: readonly (IntegerRange | null)[];
}

/** Writes one cell as a CSV field (measuring it on the way, for decimal and integer columns). */
type FieldWriter = (value: CellValue) => string;

/**
 * Each row as one CSV line. NULL is an empty unquoted field; every text value is quoted with
 * `QUOTE` (so an empty string stays an empty string, and commas, quotes, newlines and NUL pass as sent);
 * numbers and booleans are written bare; a decimal as plain digits (an exponent form rewritten
 * exactly), so DECIMAL parses it. While encoding it measures each decimal column's values, so
 * the column can be widened before the batch is loaded (DuckDB would round extra scale), and
 * each integer column's range. `_sdc_batched_at` is not in the file: the load statement adds it
 * as a constant.
 */
export class CsvRowEncoder implements RowEncoder {
  /** Per column: the shape of the decimal values seen (null for other kinds). */
  readonly shapes: (DecimalShape | null)[];
  /** Per column: the range of the integer values seen (null for other kinds). */
  readonly integerRanges: (IntegerRange | null)[];
  /** Per column, chosen once from its kind; any cell still gets a field (kinds are the usual case, not a promise). */
  private readonly writers: FieldWriter[];
  private readonly fields: string[];

  constructor(columns: readonly ColumnDef[], withBatchedAt: boolean) {
    const encoded = columns.slice(0, columns.length - (withBatchedAt ? 1 : 0));
    this.shapes = encoded.map((column) => (column.kind === 'decimal' ? emptyShape() : null));
    this.integerRanges = encoded.map((column) => (column.kind === 'integer' ? { min: null, max: null, onlyIntegers: true } : null));
    this.writers = encoded.map((column, index) => writerFor(column.kind, this.shapes[index]!, this.integerRanges[index]!));
    this.fields = new Array<string>(encoded.length).fill('');
    const ranges = this.integerRanges;
    this.plain = {
      ...PLAIN_CSV,
      integerCell(cell: number, value: number) {
        const range = ranges[cell];
        if (range === null || range === undefined) return;
        if (range.min === null || value < range.min) range.min = value;
        if (range.max === null || value > range.max) range.max = value;
      },
    };
  }

  /** Fields as `encode` writes them, for rows the kit writes straight from plain records' bytes. */
  readonly plain: PlainRowFormat;

  encode(cells: readonly CellValue[]): string {
    const writers = this.writers;
    const fields = this.fields;
    const count = writers.length;
    if (count === 0) return '\n';
    for (let i = 0; i < count; i++) fields[i] = writers[i]!(cells[i]!);
    fields[count - 1] += '\n';
    // One join of the row's fields measured faster than building the line with `+` (and than a
    // Buffer write per field); most of a row's cost is this copy and number formatting.
    return fields.join(',');
  }

  learned(): CsvFindings {
    return { shapes: this.shapes, integerRanges: this.integerRanges };
  }

  /**
   * Take in what another encoder measured on rows that join this batch (rows an encode worker
   * encoded). Only ever widens: a shape grows, a range spans both (so a batch's key range may be
   * wider than its rows', which only makes the session merge where it could have inserted).
   */
  absorb(learned: unknown): void {
    const { shapes, integerRanges } = learned as CsvFindings;
    for (const [index, shape] of this.shapes.entries()) {
      const other = shapes[index];
      if (shape !== null && other) Object.assign(shape, mergeShapes(shape, other)); // in place: the writers hold it
    }
    for (const [index, range] of this.integerRanges.entries()) {
      const other = integerRanges[index];
      if (range === null || !other) continue;
      range.onlyIntegers &&= other.onlyIntegers;
      if (other.min !== null && (range.min === null || other.min < range.min)) range.min = other.min;
      if (other.max !== null && (range.max === null || other.max > range.max)) range.max = other.max;
    }
  }
}

function writerFor(kind: ColumnKind, shape: DecimalShape | null, range: IntegerRange | null): FieldWriter {
  if (shape !== null) return (value) => decimalField(shape, value);
  if (range !== null) return (value) => integerField(range, value);
  switch (kind) {
    case 'number':
      return numberField;
    case 'boolean':
      return csvField;
    default:
      return textField;
  }
}

function textField(value: CellValue): string {
  return typeof value === 'string' ? quoted(value) : csvField(value);
}

function numberField(value: CellValue): string {
  // Zero goes the long way, for the sign of -0.
  return typeof value === 'number' && value !== 0 ? String(value) : csvField(value);
}

function integerField(range: IntegerRange, value: CellValue): string {
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) {
    if (range.min === null || value < range.min) range.min = value;
    if (range.max === null || value > range.max) range.max = value;
  } else if (value !== null) {
    range.onlyIntegers = false;
  }
  return csvField(value);
}

function decimalField(shape: DecimalShape, value: CellValue): string {
  if (value === null) return '';
  const text = typeof value === 'string' ? value : String(value);
  const plain = typeof value === 'boolean' ? null : plainDecimal(text);
  if (plain === null) shape.text = true;
  else widenShape(shape, plain);
  return typeof value === 'string' ? quoted(plain ?? value) : csvField(value);
}

function csvField(value: CellValue): string {
  switch (typeof value) {
    case 'string':
      return quoted(value);
    case 'object': // null
      return '';
    case 'number':
      // String(-0) is "0"; a double column keeps the sign of zero as sent.
      return value === 0 && Object.is(value, -0) ? '-0' : String(value);
    default:
      return String(value);
  }
}

/** Text between `QUOTE`s, each `QUOTE` inside doubled. */
function quoted(text: string): string {
  if (!text.includes(QUOTE)) return QUOTE + text + QUOTE;
  return QUOTE + text.replaceAll(QUOTE, QUOTE + QUOTE) + QUOTE;
}

/** The session's encoder for a batch with these columns (also loaded by the kit's encode workers: `rowEncoderModule`). */
export function rowEncoder(columns: readonly ColumnDef[], withBatchedAt: boolean): CsvRowEncoder {
  return new CsvRowEncoder(columns, withBatchedAt);
}

/** The fields of one spooled line (error paths only): null for an empty unquoted field. */
export function csvFields(line: string): (string | null)[] {
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  const fields: (string | null)[] = [];
  let at = 0;
  for (;;) {
    if (text[at] === QUOTE) {
      let value = '';
      at += 1;
      for (;;) {
        const quote = text.indexOf(QUOTE, at);
        value += text.slice(at, quote);
        if (text[quote + 1] === QUOTE) {
          value += QUOTE;
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
    `read_csv(${literal(path)}, columns = {${spec}}, header = false, auto_detect = false, delim = ',', quote = ${literal(QUOTE)}, ` +
    `escape = ${literal(QUOTE)}, nullstr = '', allow_quoted_nulls = false, new_line = '\\n', max_line_size = ${maxLine}, buffer_size = ${bufferSize})`
  );
}

/** `SELECT` list naming each read_csv column (read_csv names them as given; quoted for safety). */
export function columnList(columns: readonly { name: string }[]): string {
  return columns.map((column) => ident(column.name)).join(', ');
}
