// Encodes rows for `COPY ... FROM STDIN` in PostgreSQL's text format, one line per record as it arrives.
import type { CellValue, ColumnDef, PlainRowFormat, RowEncoder } from '@tapline/target-kit';

const needsEscape = /[\\\n\r\t]/;
const escapes = /[\\\n\r\t]/g;
const escapeOf: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const escapeChar = (c: string): string => escapeOf[c]!;

/**
 * One cell in COPY text format: `\N` is NULL; backslash, newline, carriage return and tab are
 * backslash-escaped (everything else, including any Unicode, goes as it is). The kit has already
 * refused or stripped NUL, which PostgreSQL text cannot hold.
 */
export function copyCell(cell: CellValue): string {
  if (typeof cell === 'string') return needsEscape.test(cell) ? cell.replace(escapes, escapeChar) : cell;
  return copyPlainCell(cell);
}

/** `copyCell` of a cell known to need no escaping (`RowEncoder.encode`'s `escapeFree`). */
function copyPlainCell(cell: CellValue): string {
  if (cell === null) return '\\N';
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'boolean') return cell ? 't' : 'f';
  // String(-0) is "0"; a double column keeps the sign of zero as sent.
  return cell === 0 && Object.is(cell, -0) ? '-0' : String(cell);
}

/**
 * ISO 8601's year 0000 (the year before 0001, as DuckDB and JavaScript count) in PostgreSQL's
 * spelling, `0001-… BC`: PostgreSQL refuses a year 0 ("date/time field value out of range").
 * Every other cell is returned as it is. (The kit's plain path never writes year 0: such records
 * take the parsing path, and so this encoder.)
 */
export function yearZeroAsBC(field: string): string {
  return field.startsWith('0000-') ? `0001-${field.slice(5)} BC` : field;
}

/** `new Date().toISOString()` is always this long (years 0000-9999). */
export const BATCHED_AT_LENGTH = 24;
/** Bytes from a row's end back to its reserved `_sdc_batched_at` value (the value, then the newline). */
export const BATCHED_AT_FROM_END = BATCHED_AT_LENGTH + 1;
const BATCHED_AT_PLACEHOLDER = ' '.repeat(BATCHED_AT_LENGTH);

/**
 * Rows as COPY text lines. `_sdc_batched_at`, when the batch has it, is the last field: a
 * placeholder of fixed width is reserved and overwritten in place when the batch is written
 * (`fillBatchedAt`). Each line is built with `Array#join`, which makes a flat string (fast to
 * write as UTF-8; `+=` builds ropes that must be flattened first).
 */
export class CopyTextEncoder implements RowEncoder {
  private readonly fields: string[];

  constructor(
    private readonly cellCount: number,
    private readonly withBatchedAt: boolean,
    /** The cells of `bytes` columns (hex text): written as bytea's hex input `\x` and the digits, its backslash doubled for COPY. */
    private readonly bytesCells: readonly number[] = [],
    /** The cells of timestamp and date columns, whose year 0000 is written the way PostgreSQL reads it (`yearZeroAsBC`). */
    private readonly calendarCells: readonly number[] = [],
  ) {
    this.fields = new Array<string>(cellCount + (withBatchedAt ? 1 : 0)).fill('');
    if (withBatchedAt) this.fields[cellCount] = `${BATCHED_AT_PLACEHOLDER}\n`;
    this.plain = {
      delimiter: 0x09,
      nullField: Buffer.from('\\N'),
      quote: -1,
      trueField: Buffer.from('t'),
      falseField: Buffer.from('f'),
      rowEnd: Buffer.from(withBatchedAt ? `${cellCount > 0 ? '\t' : ''}${BATCHED_AT_PLACEHOLDER}\n` : '\n'),
      textField: copyCell,
    };
  }

  /** Fields as `encode` writes them, for rows the kit writes straight from plain records' bytes. */
  readonly plain: PlainRowFormat;

  encode(cells: readonly CellValue[], escapeFree = false): string {
    const fields = this.fields;
    const count = this.cellCount;
    const cell = escapeFree ? copyPlainCell : copyCell;
    for (let i = 0; i < count; i++) fields[i] = cell(cells[i]!);
    for (const i of this.bytesCells) if (typeof cells[i] === 'string') fields[i] = `\\\\x${fields[i]}`;
    for (const i of this.calendarCells) if (typeof cells[i] === 'string') fields[i] = yearZeroAsBC(fields[i]!);
    if (!this.withBatchedAt) {
      if (count === 0) return '\n';
      fields[count - 1] += '\n';
    }
    return fields.join('\t');
  }
}

/** The session's encoder for a batch with these columns (also loaded by the kit's encode workers: `rowEncoderModule`). */
export function rowEncoder(columns: readonly ColumnDef[], withBatchedAt: boolean): CopyTextEncoder {
  const cellCount = columns.length - (withBatchedAt ? 1 : 0);
  const cells = columns.slice(0, cellCount);
  const bytesCells = cells.flatMap((column, index) => (column.kind === 'bytes' ? [index] : []));
  const calendarCells = cells.flatMap((column, index) => (column.kind === 'timestamp' || column.kind === 'date' ? [index] : []));
  return new CopyTextEncoder(cellCount, withBatchedAt, bytesCells, calendarCells);
}
