// A batch's rows held as bytes in the dialect's bulk format (not JS values): little for the GC to trace or copy.

const CHUNK_BYTES = 1 << 20;
/**
 * A batch's first chunk; each next one is twice the last, up to CHUNK_BYTES. A load of hundreds
 * of streams holds a batch per stream: at 1 MB each, 500 interleaved streams took ~800 MB before
 * any was full. Large batches still end up in 1 MB chunks after a few small ones.
 */
const FIRST_CHUNK_BYTES = 16 << 10;
/** Chunks kept for reuse after their batch was written (so steady loading allocates none). */
const SPARE_LIMIT = 48;
const spare: Buffer[] = [];

/**
 * Keep a chunk for reuse once its rows are gone. Only a chunk that is all of its memory: a view
 * taken by `appendRows` may share its memory with other views.
 */
function recycle(chunk: Buffer): void {
  if (spare.length < SPARE_LIMIT && chunk.length === CHUNK_BYTES && chunk.byteOffset === 0 && chunk.buffer.byteLength === CHUNK_BYTES) {
    spare.push(chunk);
  }
}

/** A chunk of at least `atLeast` bytes, `size` when that is more (a full-size chunk from the spares when there is one). */
function newChunk(atLeast: number, size: number): Buffer {
  if (atLeast <= CHUNK_BYTES && size >= CHUNK_BYTES) return spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
  // Never from Node's shared pool (small allocUnsafe buffers are views of it): a chunk's memory
  // is transferred to or from an encode worker whole.
  return Buffer.allocUnsafeSlow(Math.max(atLeast, size));
}

/** EncodedRows as plain data that can cross to another thread (the chunks' memory is transferred, not copied). */
export interface EncodedRowsParts {
  readonly chunks: Uint8Array[];
  readonly firstRows: number[];
  readonly ends: number[];
  readonly lines: number[];
  readonly longestRowBytes: number;
}

/**
 * Encoded rows, in arrival order, in chunks growing from 16 KB to 1 MB; a row never straddles two chunks, so each
 * chunk is whole rows a bulk loader can take as it is. Each row keeps its input line number.
 */
export class EncodedRows {
  private readonly chunks: Buffer[] = [];
  /** For each chunk, the index of its first row. */
  private readonly firstRows: number[] = [];
  /** For each row, the byte offset just past it in its chunk. */
  private readonly ends: number[] = [];
  /** Input line of each row (same index as the rows). */
  readonly lines: number[] = [];
  /** Bytes used in the last chunk. */
  private used = 0;
  /** The longest row in bytes (some bulk readers must be told). */
  longestRowBytes = 0;

  get count(): number {
    return this.ends.length;
  }

  /** The rows' bytes (what they hold in memory, give or take the chunks' unused tails). */
  get bytes(): number {
    let total = 0;
    for (let index = 0; index < this.chunks.length; index++) total += this.chunkEnd(index);
    return total;
  }

  /** Rows encoded on another thread (`toParts` there). */
  static fromParts(parts: EncodedRowsParts): EncodedRows {
    const rows = new EncodedRows();
    for (const chunk of parts.chunks) rows.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    rows.firstRows.push(...parts.firstRows);
    rows.ends.push(...parts.ends);
    rows.lines.push(...parts.lines);
    rows.longestRowBytes = parts.longestRowBytes;
    rows.used = rows.ends.length === 0 ? 0 : rows.ends[rows.ends.length - 1]!;
    return rows;
  }

  /** The rows as plain data for `postMessage`, with the chunks' memory to transfer; this object is empty afterwards. */
  toParts(): { parts: EncodedRowsParts; transfer: ArrayBuffer[] } {
    const chunks = this.buffers();
    const parts = {
      chunks,
      firstRows: [...this.firstRows],
      ends: [...this.ends],
      lines: [...this.lines],
      longestRowBytes: this.longestRowBytes,
    };
    const transfer = chunks.map((chunk) => chunk.buffer as ArrayBuffer);
    this.chunks.length = 0;
    this.firstRows.length = 0;
    this.ends.length = 0;
    this.lines.length = 0;
    this.used = 0;
    return { parts, transfer };
  }

  /**
   * Append `count` rows of `from`, starting at row `first`, to this batch. No bytes are copied:
   * each chunk of `from` the rows lie in joins this batch as a view of those rows.
   */
  appendRows(from: EncodedRows, first: number, count: number): void {
    const last = first + count; // one past the last row
    let row = first;
    for (let chunkIndex = from.chunkOf(first); row < last; chunkIndex++) {
      const chunkFirst = from.firstRows[chunkIndex]!;
      const chunkEnd = Math.min(last, from.firstRows[chunkIndex + 1] ?? Infinity); // one past this chunk's last row taken
      const start = row === chunkFirst ? 0 : from.ends[row - 1]!;
      const end = from.ends[chunkEnd - 1]!;
      this.chunks.push(from.chunks[chunkIndex]!.subarray(start, end));
      this.firstRows.push(this.ends.length);
      for (let r = row; r < chunkEnd; r++) {
        this.ends.push(from.ends[r]! - start);
        this.lines.push(from.lines[r]!);
      }
      this.used = end - start;
      row = chunkEnd;
    }
    if (from.longestRowBytes > this.longestRowBytes) this.longestRowBytes = from.longestRowBytes;
  }

  /** Append one row's text (with its terminator) as UTF-8. */
  push(text: string, line: number): void {
    const chunk = this.beginRow(text.length * 3); // a UTF-16 unit is at most 3 UTF-8 bytes
    this.endRow(this.rowStart + chunk.write(text, this.rowStart), line);
  }

  /** Where the row begun by `beginRow` starts in the chunk it returned. */
  rowStart = 0;

  /**
   * Begin a row of at most `maxBytes`, written by the caller straight into the returned chunk
   * from `rowStart` on; `endRow` ends it (nothing else may touch the rows in between).
   */
  beginRow(maxBytes: number): Buffer {
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || this.used + maxBytes > chunk.length) {
      chunk = newChunk(maxBytes, chunk === undefined ? FIRST_CHUNK_BYTES : Math.min(CHUNK_BYTES, 2 * chunk.length));
      this.chunks.push(chunk);
      this.firstRows.push(this.ends.length);
      this.used = 0;
    }
    this.rowStart = this.used;
    return chunk;
  }

  /** End the row begun by `beginRow`: its bytes end at `end` in the chunk. */
  endRow(end: number, line: number): void {
    const bytes = end - this.rowStart;
    this.used = end;
    if (bytes > this.longestRowBytes) this.longestRowBytes = bytes;
    this.ends.push(end);
    this.lines.push(line);
  }

  /** The chunks, each cut to the rows it holds: the batch as the bulk loader reads it. */
  buffers(): Buffer[] {
    return this.chunks.map((chunk, index) => chunk.subarray(0, this.chunkEnd(index)));
  }

  /** One row's text (error paths: find the row a database refused). */
  rowText(row: number): string {
    const chunk = this.chunkOf(row);
    const start = this.firstRows[chunk] === row ? 0 : this.ends[row - 1]!;
    return this.chunks[chunk]!.toString('utf8', start, this.ends[row]);
  }

  /**
   * Overwrite the last bytes of every row, `fromEnd` bytes before its end, with ASCII `text`
   * (fills a value reserved at encoding time that is known only when the batch is written).
   */
  overwriteRowTails(fromEnd: number, text: string): void {
    const bytes = Buffer.from(text, 'latin1');
    let chunkIndex = 0;
    let nextChunkRow = this.firstRows[1] ?? Infinity;
    let chunk = this.chunks[0];
    for (let row = 0; row < this.ends.length; row++) {
      if (row === nextChunkRow) {
        chunkIndex += 1;
        chunk = this.chunks[chunkIndex];
        nextChunkRow = this.firstRows[chunkIndex + 1] ?? Infinity;
      }
      const at = this.ends[row]! - fromEnd;
      for (let i = 0; i < bytes.length; i++) chunk![at + i] = bytes[i]!;
    }
  }

  /** Forget every row from `count` on (rows that arrived after the last STATE). */
  truncate(count: number): void {
    if (count >= this.ends.length) return;
    while (this.chunks.length > 0 && this.firstRows[this.firstRows.length - 1]! >= count) {
      const chunk = this.chunks.pop()!;
      this.firstRows.pop();
      recycle(chunk);
    }
    this.ends.length = count;
    this.lines.length = count;
    this.used = count === 0 ? 0 : this.ends[count - 1]!;
  }

  /** The rows whose `keep[i]` is true, in order, as a new batch (this one is released). */
  keepOnly(keep: readonly boolean[]): EncodedRows {
    const kept = new EncodedRows();
    let chunkIndex = -1;
    let nextChunkRow = 0;
    let start = 0;
    for (let row = 0; row < this.ends.length; row++) {
      if (row === nextChunkRow) {
        chunkIndex += 1;
        nextChunkRow = this.firstRows[chunkIndex + 1] ?? Infinity;
        start = 0;
      }
      const end = this.ends[row]!;
      if (keep[row]) kept.pushBytes(this.chunks[chunkIndex]!, start, end, this.lines[row]!);
      start = end;
    }
    this.release();
    return kept;
  }

  private pushBytes(from: Buffer, start: number, end: number, line: number): void {
    const chunk = this.beginRow(end - start);
    this.endRow(this.rowStart + from.copy(chunk, this.rowStart, start, end), line);
  }

  /** Hand the chunks back for reuse once the batch is written; the rows are gone after this. */
  release(): void {
    for (const chunk of this.chunks) {
      recycle(chunk);
    }
    this.chunks.length = 0;
    this.firstRows.length = 0;
    this.ends.length = 0;
    this.lines.length = 0;
    this.used = 0;
  }

  private chunkEnd(index: number): number {
    if (index === this.chunks.length - 1) return this.used;
    return this.ends[this.firstRows[index + 1]! - 1]!;
  }

  private chunkOf(row: number): number {
    let chunk = 0;
    while (chunk + 1 < this.firstRows.length && this.firstRows[chunk + 1]! <= row) chunk += 1;
    return chunk;
  }
}
