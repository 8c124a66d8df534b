// Reads Singer JSONL from a byte or text stream: blocks of whole lines, and the messages parsed from them.
import { isUtf8 } from 'node:buffer';
import { SingerInputError, type WarningHandler } from './errors.js';
import type { SingerMessage } from './messages.js';
import { type ParseMessageOptions, parseMessage } from './parse-message.js';

export interface ParsedLine {
  message: SingerMessage;
  /** 1-based line number in the input (blank lines count). */
  line: number;
}

export interface ReadMessagesOptions {
  /** Called once per unknown message type, which is then skipped. Default: console.warn. */
  onWarning?: WarningHandler;
}

/** Whole lines of input, checked to be UTF-8: each ends with LF, except the input's last line. */
export interface LineBlock {
  readonly bytes: Buffer;
  /** Line number of the block's first line (1-based). */
  readonly firstLine: number;
  /** Lines in the block. */
  readonly lines: number;
}

const LF = 10;
const CR = 13;

/**
 * The input as blocks of whole lines, one block per input chunk (or more input, when a line is
 * longer than a chunk). Bytes that are not UTF-8 throw a SingerInputError naming the line, after
 * every block before it was yielded.
 */
export async function* readLineBlocks(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<LineBlock, void, undefined> {
  // Bytes of the line that has not seen its newline yet (parts, joined once: a long line may come in many chunks).
  let pending: Buffer[] = [];
  let nextLine = 1;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const lastNewline = bytes.lastIndexOf(LF);
    if (lastNewline === -1) {
      pending.push(Buffer.from(bytes)); // copied: the stream may reuse its chunk's memory
      continue;
    }
    const complete = bytes.subarray(0, lastNewline + 1);
    const block = pending.length === 0 ? complete : Buffer.concat([...pending, complete]);
    pending = lastNewline + 1 < bytes.length ? [Buffer.from(bytes.subarray(lastNewline + 1))] : [];
    if (!isUtf8(block)) yield* failAtFirstBadLine(block, nextLine);
    const lines = countLines(block);
    yield { bytes: block, firstLine: nextLine, lines };
    nextLine += lines;
  }
  if (pending.length > 0) {
    const last = Buffer.concat(pending);
    if (!isUtf8(last)) yield* failAtFirstBadLine(last, nextLine);
    yield { bytes: last, firstLine: nextLine, lines: 1 };
  }
}

/**
 * A block holding bytes that are not UTF-8: the whole lines before the bad one are yielded as a
 * block of their own, then the SingerInputError naming the bad line is thrown. So a STATE just
 * before the bad bytes is handled (committed, echoed) as it is before a torn JSON line.
 */
function* failAtFirstBadLine(block: Buffer, firstLine: number): Generator<LineBlock, never, undefined> {
  let line = firstLine;
  let start = 0;
  for (let newline = block.indexOf(LF); newline !== -1; newline = block.indexOf(LF, start)) {
    if (!isUtf8(block.subarray(start, newline))) break;
    line += 1;
    start = newline + 1;
  }
  if (start > 0) yield { bytes: block.subarray(0, start), firstLine, lines: line - firstLine };
  throw notUtf8(line, line === 1 ? block : block.subarray(start));
}

function countLines(block: Buffer): number {
  let count = 0;
  for (let at = block.indexOf(LF); at !== -1; at = block.indexOf(LF, at + 1)) count++;
  return block[block.length - 1] === LF ? count : count + 1;
}

/**
 * The lines of a block that are not empty, as [start, end, line] triples: byte range and line
 * number (CR before LF, and a byte-order mark starting the input, are not part of a line). For
 * code that looks at a line's bytes before it decides to decode it; a line of only whitespace
 * is still listed (`isBlank` tells, once decoded).
 */
export function lineRanges(block: Pick<LineBlock, 'bytes' | 'firstLine'>): number[] {
  const bytes = block.bytes;
  const ranges: number[] = [];
  let line = block.firstLine;
  let start = 0;
  while (start < bytes.length) {
    let next = bytes.indexOf(LF, start);
    if (next === -1) next = bytes.length;
    let end = next;
    if (end > start && bytes[end - 1] === CR) end -= 1;
    if (line === 1 && bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf) start += 3;
    if (end > start) ranges.push(start, end, line);
    line += 1;
    start = next + 1;
  }
  return ranges;
}

/** Whether a decoded line holds only whitespace (skipped, but counted). */
export function isBlank(text: string): boolean {
  return text.charCodeAt(0) <= 32 && text.trim().length === 0;
}

/**
 * Call `each` with the text, line number and byte range of every non-blank line of a block.
 * Each line is decoded on its own: a whole block decoded at once becomes a two-byte string as
 * soon as one character is not Latin-1, and so does every line cut from it, which made
 * JSON.parse (and everything after it) about 1.7x slower on such input.
 */
export function forEachLine(
  block: Pick<LineBlock, 'bytes' | 'firstLine'>,
  each: (text: string, line: number, start: number, end: number) => void,
): void {
  const ranges = lineRanges(block);
  for (let i = 0; i < ranges.length; i += 3) {
    const start = ranges[i]!;
    const end = ranges[i + 1]!;
    const text = block.bytes.toString('utf8', start, end);
    if (!isBlank(text)) each(text, ranges[i + 2]!, start, end);
  }
}

/** The error for bytes that are not UTF-8 on `line`, whose bytes start `bytes` (error path only). */
function notUtf8(line: number, bytes: Buffer): SingerInputError {
  // Windows PowerShell's `>` and `Out-File` write UTF-16 with a byte-order mark: say so, it is the usual cause.
  const utf16 = line === 1 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
  return new SingerInputError(
    { line },
    utf16 ? 'input is UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8; re-encode it as UTF-8' : 'input is not valid UTF-8',
  );
}

/** Options for parsing many lines of one input: unknown message types are warned about once each. */
export function inputParseOptions(options: ReadMessagesOptions = {}): ParseMessageOptions {
  return { onWarning: options.onWarning, warnedTypes: new Set<string>() };
}

/**
 * Read Singer messages from `input` (e.g. `process.stdin`), yielding one batch per input chunk so
 * that a million-line load does not pay a promise per message. Lines end with LF or CRLF; blank
 * lines are skipped but counted; the last line may lack its newline; multi-byte UTF-8 characters
 * may straddle chunks. On bad input the messages before the bad line are yielded first, then a
 * SingerInputError naming the line is thrown, so a target can commit what it already accepted.
 */
export async function* readMessages(
  input: AsyncIterable<Uint8Array | string>,
  options: ReadMessagesOptions = {},
): AsyncGenerator<ParsedLine[], void, undefined> {
  const parseOptions = inputParseOptions(options);
  for await (const block of readLineBlocks(input)) {
    const batch: ParsedLine[] = [];
    try {
      forEachLine(block, (text, line) => {
        const message = parseMessage(text, line, parseOptions);
        if (message !== null) batch.push({ message, line });
      });
    } catch (error) {
      if (batch.length > 0) yield batch;
      throw error;
    }
    if (batch.length > 0) yield batch;
  }
}
