// Reads Singer JSONL from a byte or text stream in batches: one array of parsed messages per input chunk.
import { SingerInputError, type WarningHandler } from './errors.js';
import type { SingerMessage } from './messages.js';
import { parseMessage } from './parse-message.js';

export interface ParsedLine {
  message: SingerMessage;
  /** 1-based line number in the input (blank lines count). */
  line: number;
}

export interface ReadMessagesOptions {
  /** Called once per unknown message type, which is then skipped. Default: console.warn. */
  onWarning?: WarningHandler;
}

const LF = '\n';
const CR = 13;

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
  const parseOptions = { onWarning: options.onWarning, warnedTypes: new Set<string>() };
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = ''; // text of the line that has not seen its newline yet
  let lineNumber = 0; // lines completed so far
  let first = true;

  const decode = (chunk: Uint8Array, stream: boolean): string => {
    try {
      return decoder.decode(chunk, { stream });
    } catch {
      // Find the line of the first bad byte from a lossy decoding of this chunk (error path only).
      const lossy = new TextDecoder('utf-8').decode(chunk);
      const bad = lossy.indexOf('\uFFFD');
      let line = lineNumber + 1;
      for (let at = lossy.indexOf(LF); at !== -1 && at < bad; at = lossy.indexOf(LF, at + 1)) line += 1;
      throw new SingerInputError({ line }, 'input is not valid UTF-8');
    }
  };

  for await (const chunk of input) {
    let text = typeof chunk === 'string' ? chunk : decode(chunk, true);
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a BOM in string input
    }
    let newline = text.indexOf(LF);
    if (newline === -1) {
      pending += text;
      continue;
    }
    const batch: ParsedLine[] = [];
    let start = 0;
    try {
      let lineText = pending + text.slice(0, newline);
      pending = '';
      for (;;) {
        lineNumber += 1;
        const parsed = parseLine(lineText, lineNumber, parseOptions);
        if (parsed !== null) batch.push({ message: parsed, line: lineNumber });
        start = newline + 1;
        newline = text.indexOf(LF, start);
        if (newline === -1) break;
        lineText = text.slice(start, newline);
      }
    } catch (error) {
      if (batch.length > 0) yield batch;
      throw error;
    }
    pending = text.slice(start);
    if (batch.length > 0) yield batch;
  }

  pending += decode(new Uint8Array(0), false);
  if (pending.length > 0) {
    const parsed = parseLine(pending, lineNumber + 1, parseOptions);
    if (parsed !== null) yield [{ message: parsed, line: lineNumber + 1 }];
  }
}

function parseLine(
  text: string,
  line: number,
  options: Parameters<typeof parseMessage>[2],
): SingerMessage | null {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === CR) end -= 1;
  if (end === 0) return null;
  const body = end === text.length ? text : text.slice(0, end);
  if (body.charCodeAt(0) <= 32 && body.trim().length === 0) return null;
  return parseMessage(body, line, options);
}
