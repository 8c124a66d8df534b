// Spools a batch's rows to a newline-delimited JSON file that DuckDB reads with its own parallel reader.
import { open } from 'node:fs/promises';
import type { CellValue } from '@tapline/target-kit';

/** Flush the text buffer to the file at about this size, so a batch never exists twice in memory. */
const WRITE_CHUNK_CHARS = 4 << 20;

/**
 * Write each row as one JSON array line (`[1,"text",null,...]`). One native `JSON.stringify` per
 * row is the cheapest serialisation in V8, and a JSON string carries every character, NUL
 * included, exactly. Cells that JSON cannot hold as numbers (bigint) become strings; DuckDB
 * casts them back, exactly, by column type.
 */
export async function spoolRows(path: string, rows: readonly (readonly CellValue[])[]): Promise<void> {
  const file = await open(path, 'w');
  try {
    let text = '';
    for (const row of rows) {
      text += rowJson(row) + '\n';
      if (text.length >= WRITE_CHUNK_CHARS) {
        await file.write(text);
        text = '';
      }
    }
    if (text.length > 0) await file.write(text);
  } finally {
    await file.close();
  }
}

function rowJson(row: readonly CellValue[]): string {
  try {
    return JSON.stringify(row);
  } catch {
    // Only a bigint cell (an integer beyond 2^53) makes stringify throw; rare, so the slow path is fine.
    return JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  }
}
