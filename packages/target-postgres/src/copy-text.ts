// Encodes rows for `COPY ... FROM STDIN` in PostgreSQL's text format.
import type { CellValue } from '@tapline/target-kit';

const needsEscape = /[\\\n\r\t]/;
const escapes = /[\\\n\r\t]/g;
const escapeOf: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * One cell in COPY text format: `\N` is NULL; backslash, newline, carriage return and tab are
 * backslash-escaped (everything else, including any Unicode, goes as it is). The kit has already
 * refused or stripped NUL, which PostgreSQL text cannot hold.
 */
export function copyCell(cell: CellValue): string {
  if (cell === null) return '\\N';
  if (typeof cell === 'string') return needsEscape.test(cell) ? cell.replace(escapes, (c) => escapeOf[c]!) : cell;
  if (typeof cell === 'boolean') return cell ? 't' : 'f';
  return String(cell);
}

/** Rows as COPY text, in chunks of roughly `chunkChars` characters. */
export function* copyTextChunks(rows: readonly (readonly CellValue[])[], chunkChars = 1 << 18): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < row.length; i++) {
      if (i > 0) line += '\t';
      line += copyCell(row[i]!);
    }
    chunk += `${line}\n`;
    if (chunk.length >= chunkChars) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}
