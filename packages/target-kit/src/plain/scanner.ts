// Reads one line of Singer input as bytes: a RECORD's envelope, and values checked against their rules.
//
// It takes only what it can prove: JSON that JSON.parse reads, values their schema accepts, and
// numbers a double holds exactly. Where a value's bytes are not the text the parsing path would
// store (an escape in a string, whitespace inside an object, `1.0` or `1e-05`), it says so
// (`rewrite`), and the caller stores the parsed value's text instead. Anything else (a 16-digit
// number, a NUL or lone surrogate escape, a key written twice, ...) makes it give up on the line,
// which then goes through JSON.parse and ajv as before. Giving up is never an error, only the
// slower path.
import { isExactDouble } from '@tapline/singer';
import { FORMAT, type ObjectRule, TOKEN, type ValueRule } from './rules.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Objects and arrays nested deeper than this are left to the parsing path. */
const MAX_DEPTH = 32;
/** An integer or decimal literal of at most this many digits reads back exactly through a double. */
const MAX_DIGITS = 15;
/** A double's shortest text has at most this many digits. */
const MAX_SHORTEST_DIGITS = 17;

const RECORD_HEAD = Buffer.from('"type"');
const RECORD_TYPE = Buffer.from('"RECORD"');
const STREAM_KEY = Buffer.from('"stream"');
const RECORD_KEY = Buffer.from('"record"');
const VERSION_KEY = Buffer.from('"version"');
const EXTRACTED_KEY = Buffer.from('"time_extracted"');
const TRUE_BYTES = Buffer.from('true');
const FALSE_BYTES = Buffer.from('false');
const NULL_BYTES = Buffer.from('null');

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= ZERO && byte <= NINE;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A scanner over one line. `at` moves forward as values are read; a method returning false or 0
 * means "give up on this line" (where `at` is then does not matter).
 */
export class LineScanner {
  bytes: Buffer = Buffer.alloc(0);
  at = 0;
  /** The line being read: [lineStart, end). */
  lineStart = 0;
  end = 0;
  /** The value of the last integer token read (exact: at most 15 digits). */
  integer = 0;
  /**
   * Set (never cleared here) when a value read holds something the parsing path stores in
   * another spelling: an escape, whitespace inside JSON text, a number not written as
   * JavaScript writes it. The caller clears it before a value and then stores the parsed text.
   */
  rewrite = false;

  /** Envelope fields of the last `readRecordHead` / `readRecordTail`: [start, end) byte offsets. */
  streamStart = 0;
  streamEnd = 0;
  /** `version`: the token's offsets, or -1 when absent or null. */
  versionStart = -1;
  versionEnd = -1;
  /** `time_extracted` without its quotes, or -1 when absent or null. */
  extractedStart = -1;
  extractedEnd = -1;

  /**
   * Start on a line: true when it opens as a RECORD (`{"type": "RECORD", "stream": "...",
   * "record": ` in this order, as singer-python, the Meltano SDK and our taps write it), with
   * `at` on the record's `{` and the stream's name (no escapes) at streamStart..streamEnd.
   */
  readRecordHead(bytes: Buffer, start: number, end: number): boolean {
    this.bytes = bytes;
    this.at = start;
    this.lineStart = start;
    this.end = end;
    if (bytes[start] !== OPEN_OBJECT) return false;
    this.at += 1;
    this.space();
    if (!this.literal(RECORD_HEAD) || !this.colon() || !this.literal(RECORD_TYPE) || !this.comma()) return false;
    if (!this.literal(STREAM_KEY) || !this.colon()) return false;
    if (bytes[this.at] !== QUOTE) return false;
    this.streamStart = this.at + 1;
    if (!this.plainString()) return false;
    this.streamEnd = this.at - 1;
    if (!this.comma() || !this.literal(RECORD_KEY) || !this.colon()) return false;
    return bytes[this.at] === OPEN_OBJECT;
  }

  /** The stream the last `readRecordHead` read (decoded only when it differs from the line before's). */
  streamName(): string {
    const bytes = this.bytes;
    const start = this.streamStart;
    const length = this.streamEnd - start;
    const last = this.lastStream;
    let same = length === last.length;
    for (let i = 0; same && i < length; i++) same = bytes[start + i] === last[i];
    if (!same) {
      this.lastStream = Buffer.from(bytes.subarray(start, this.streamEnd));
      this.lastStreamName = this.lastStream.toString('utf8');
    }
    return this.lastStreamName;
  }

  private lastStream: Buffer = Buffer.alloc(0);
  private lastStreamName = '';

  /**
   * After the record object: optional `version` (an integer or null) and `time_extracted` (a
   * strict date-time or null), in either order, then the line's end. Other keys give up.
   */
  readRecordTail(): boolean {
    this.versionStart = this.versionEnd = this.extractedStart = this.extractedEnd = -1;
    let seenVersion = false;
    let seenExtracted = false;
    for (;;) {
      this.space();
      const byte = this.bytes[this.at];
      if (byte === CLOSE_OBJECT) {
        this.at += 1;
        this.space();
        return this.at === this.end;
      }
      if (byte !== COMMA) return false;
      this.at += 1;
      this.space();
      if (!seenVersion && this.literal(VERSION_KEY)) {
        seenVersion = true;
        if (!this.colon()) return false;
        if (this.literal(NULL_BYTES)) continue;
        const start = this.at;
        if (this.number(false) !== TOKEN.integer) return false;
        this.versionStart = start;
        this.versionEnd = this.at;
      } else if (!seenExtracted && this.literal(EXTRACTED_KEY)) {
        seenExtracted = true;
        if (!this.colon()) return false;
        if (this.literal(NULL_BYTES)) continue;
        if (this.bytes[this.at] !== QUOTE) return false;
        const start = this.at + 1;
        if (!this.plainString() || !this.isDateTime(start, this.at - 1)) return false;
        this.extractedStart = start;
        this.extractedEnd = this.at - 1;
      } else {
        return false;
      }
    }
  }

  /** Skip whitespace between tokens (only where the parsing path would not keep the text). */
  space(): void {
    const bytes = this.bytes;
    let byte = bytes[this.at];
    while (byte === 0x20 || byte === 0x09 || byte === 0x0d) byte = bytes[++this.at];
  }

  /** `:` between optional whitespace. */
  colon(): boolean {
    this.space();
    if (this.bytes[this.at] !== COLON) return false;
    this.at += 1;
    this.space();
    return true;
  }

  private comma(): boolean {
    this.space();
    if (this.bytes[this.at] !== COMMA) return false;
    this.at += 1;
    this.space();
    return true;
  }

  /** The bytes of `expected` at `at` (advancing past them), else false without moving. */
  literal(expected: Buffer): boolean {
    const bytes = this.bytes;
    const at = this.at;
    const length = expected.length;
    for (let i = 0; i < length; i++) if (bytes[at + i] !== expected[i]) return false;
    this.at = at + length;
    return true;
  }

  /**
   * A JSON string, `at` on its opening quote; `at` ends past the closing quote. Escapes set
   * `rewrite` (the bytes are not the string's text); a NUL or a lone surrogate escape gives up
   * (the parsing path refuses, strips or replaces it, as configured); so does a raw control
   * character or a malformed escape (not JSON). The input was checked to be UTF-8.
   */
  string(): boolean {
    const bytes = this.bytes;
    const end = this.end;
    for (let at = this.at + 1; at < end; at++) {
      const byte = bytes[at]!;
      if (byte > BACKSLASH) continue; // lower-case letters and most of UTF-8: the common case first
      if (byte === QUOTE) {
        this.at = at + 1;
        return true;
      }
      if (byte < 0x20) return false;
      if (byte === BACKSLASH) {
        const escaped = this.escape(at);
        if (escaped === 0) return false;
        this.rewrite = true;
        at += escaped - 1;
      }
    }
    return false;
  }

  /** A string with no escape (a key, a stream name, a timestamp): its bytes are its text. */
  plainString(): boolean {
    const rewrite = this.rewrite;
    this.rewrite = false;
    const plain = this.string() && !this.rewrite;
    this.rewrite = rewrite;
    return plain;
  }

  /** The length of the escape at `at` (its backslash), or 0 for one this scanner does not take. */
  private escape(at: number): number {
    const bytes = this.bytes;
    const kind = bytes[at + 1];
    // " \ / b f n r t
    if (
      kind === QUOTE ||
      kind === BACKSLASH ||
      kind === 0x2f ||
      kind === 0x62 ||
      kind === 0x66 ||
      kind === 0x6e ||
      kind === 0x72 ||
      kind === 0x74
    )
      return 2;
    if (kind !== 0x75) return 0; // u
    const unit = this.hex4(at + 2);
    if (unit <= 0) return 0; // malformed, or U+0000
    if (unit < 0xd800 || unit > 0xdfff) return 6;
    // A surrogate: only a high one followed by a low one is a character.
    if (unit > 0xdbff || bytes[at + 6] !== BACKSLASH || bytes[at + 7] !== 0x75) return 0;
    const low = this.hex4(at + 8);
    return low >= 0xdc00 && low <= 0xdfff ? 12 : 0;
  }

  /** Four hex digits at `at` as a number, or -1. */
  private hex4(at: number): number {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const byte = this.bytes[at + i];
      let digit: number;
      if (byte !== undefined && byte >= ZERO && byte <= NINE) digit = byte - ZERO;
      else if (byte !== undefined && byte >= 0x61 && byte <= 0x66) digit = byte - 0x61 + 10;
      else if (byte !== undefined && byte >= 0x41 && byte <= 0x46) digit = byte - 0x41 + 10;
      else return -1;
      value = value * 16 + digit;
    }
    return value;
  }

  /**
   * A number literal a double holds (at most 15 digits, or a double's own shortest text of 16 or
   * 17) with an exponent of at most two digits, so the parsing path reads it as JSON.parse does:
   * TOKEN.integer for a safe integer (`integer` holds it), TOKEN.decimal otherwise; 0 to give up.
   * A literal not written as JavaScript writes its number (`1.0`, `1.10`, `1e2`, `0.0000001`,
   * `6.666666666666667e-06`) sets `rewrite`. `-0` is kept only outside JSON text (`inJson`), where
   * JSON.stringify writes it as `0`; a negative zero spelled otherwise (`-0.0`) gives up.
   */
  number(inJson: boolean): number {
    const bytes = this.bytes;
    const start = this.at;
    let at = start;
    const negative = bytes[at] === MINUS;
    if (negative) at += 1;
    let digits = 0;
    let value = 0;
    let byte = bytes[at];
    if (byte === ZERO) {
      at += 1;
      digits = 1;
    } else {
      while (byte !== undefined && byte >= ZERO && byte <= NINE) {
        value = value * 10 + (byte - ZERO);
        digits += 1;
        byte = bytes[++at];
      }
      if (digits === 0) return 0;
    }
    byte = bytes[at];
    let canonical = true;
    let fraction = false;
    if (byte === DOT) {
      // JavaScript writes a fraction without trailing zeros, and below 1e-6 with an exponent.
      const zeroWhole = digits === 1 && value === 0;
      const fractionStart = ++at;
      let leadingZeros = 0;
      let last = 0;
      byte = bytes[at];
      while (byte !== undefined && byte >= ZERO && byte <= NINE) {
        if (byte === ZERO && at - fractionStart === leadingZeros) leadingZeros += 1;
        last = byte;
        byte = bytes[++at];
      }
      const length = at - fractionStart;
      if (length === 0) return 0;
      // Significant digits: a whole part of 0 and the zeros right after the point are not.
      digits = zeroWhole ? length - leadingZeros : digits + length;
      fraction = true;
      if (last === ZERO || (zeroWhole && leadingZeros > 5)) canonical = false;
    }
    if (digits > MAX_SHORTEST_DIGITS) return 0;
    if (byte === 0x65 || byte === 0x45) {
      // e, E: an exponent of one or two digits, sign optional.
      byte = bytes[++at];
      if (byte === 0x2b || byte === MINUS) byte = bytes[++at];
      let exponentDigits = 0;
      while (byte !== undefined && byte >= ZERO && byte <= NINE) {
        exponentDigits += 1;
        byte = bytes[++at];
      }
      if (exponentDigits === 0 || exponentDigits > 2) return 0;
      canonical = false;
    }
    this.at = at;
    if (canonical && digits <= MAX_DIGITS) {
      if (fraction) return TOKEN.decimal;
      if (negative && value === 0 && inJson) return 0;
      this.integer = negative ? -value : value;
      return TOKEN.integer;
    }
    const literal = bytes.toString('latin1', start, at);
    // 16 or 17 digits: a double's own shortest text (`0.30000000000000004`), or a number the
    // parsing path keeps exact (a LosslessNumber), which only it can store.
    if (digits > MAX_DIGITS && !isExactDouble(literal)) return 0;
    const number = Number(literal);
    if (canonical && String(number) === literal) {
      if (fraction) return TOKEN.decimal;
      this.integer = number;
      return Number.isSafeInteger(number) ? TOKEN.integer : 0;
    }
    if (number === 0 && negative) return 0; // -0.0, -0e5: the parsing path writes -0 or 0 by column
    this.rewrite = true;
    if (!Number.isInteger(number)) return TOKEN.decimal;
    if (!Number.isSafeInteger(number)) return 0;
    this.integer = number;
    return TOKEN.integer;
  }

  /**
   * One value that `rule` accepts: its TOKEN, or 0 to give up. Inside JSON text (`inJson`: an
   * object, array or any value of a json column) whitespace sets `rewrite`; keys written twice
   * and integer-like keys (which JavaScript orders first) give up.
   */
  value(rule: ValueRule, inJson: boolean, depth: number): number {
    const bytes = this.bytes;
    const byte = bytes[this.at];
    const tokens = rule.tokens;
    switch (byte) {
      case QUOTE: {
        if (!(tokens & TOKEN.string)) return 0;
        const start = this.at + 1;
        if (rule.format === FORMAT.none) return this.string() ? TOKEN.string : 0;
        // A format is checked on the text: only an unescaped string is checked here.
        return this.plainString() && this.hasFormat(rule.format, start, this.at - 1) ? TOKEN.string : 0;
      }
      case 0x74: // t
        return tokens & TOKEN.true && this.literal(TRUE_BYTES) ? TOKEN.true : 0;
      case 0x66: // f
        return tokens & TOKEN.false && this.literal(FALSE_BYTES) ? TOKEN.false : 0;
      case 0x6e: // n
        return tokens & TOKEN.null && this.literal(NULL_BYTES) ? TOKEN.null : 0;
      case OPEN_OBJECT:
        return tokens & TOKEN.object && depth < MAX_DEPTH && this.object(rule.object, depth + 1) ? TOKEN.object : 0;
      case OPEN_ARRAY:
        return tokens & TOKEN.array && depth < MAX_DEPTH && this.array(rule.items, depth + 1) ? TOKEN.array : 0;
      default: {
        const token = this.number(inJson);
        return token & tokens;
      }
    }
  }

  /** An object inside JSON text, `at` on its `{`. */
  private object(rule: ObjectRule | null, depth: number): boolean {
    const bytes = this.bytes;
    this.at += 1;
    this.jsonSpace();
    let seen = 0;
    /** [start, end) of keys the rule does not name, to find one written twice. */
    let others: number[] | null = null;
    if (bytes[this.at] === CLOSE_OBJECT) {
      this.at += 1;
      return rule === null || rule.required.length === 0;
    }
    for (let next = 0; ; ) {
      if (bytes[this.at] !== QUOTE) return false;
      let index = -1;
      if (rule !== null && next < rule.names.length && this.literal(rule.quotedNames[next]!)) index = next;
      else {
        const start = this.at;
        if (!this.plainString()) return false;
        if (isIndexLike(bytes, start + 1, this.at - 1)) return false;
        index = rule === null ? -1 : (rule.indexOf.get(bytes.toString('utf8', start + 1, this.at - 1)) ?? -1);
        if (index === -1) {
          if (rule !== null && !rule.additional) return false;
          others ??= [];
          for (let i = 0; i < others.length; i += 2) if (sameBytes(bytes, others[i]!, others[i + 1]!, start, this.at)) return false;
          others.push(start, this.at);
        }
      }
      if (index !== -1) {
        if (rule!.indexLike[index]) return false; // JSON.stringify would write it first
        const bit = 1 << index;
        if (seen & bit) return false;
        seen |= bit;
        next = index + 1;
      }
      this.jsonSpace();
      if (bytes[this.at] !== COLON) return false;
      this.at += 1;
      this.jsonSpace();
      if (this.value(index === -1 ? ANY_NESTED : rule!.rules[index]!, true, depth) === 0) return false;
      this.jsonSpace();
      const byte = bytes[this.at++];
      if (byte === CLOSE_OBJECT) break;
      if (byte !== COMMA) return false;
      this.jsonSpace();
    }
    if (rule !== null) for (const index of rule.required) if (!(seen & (1 << index))) return false;
    return true;
  }

  /** An array inside JSON text, `at` on its `[`. */
  private array(items: ValueRule | null, depth: number): boolean {
    const bytes = this.bytes;
    this.at += 1;
    this.jsonSpace();
    if (bytes[this.at] === CLOSE_ARRAY) {
      this.at += 1;
      return true;
    }
    const rule = items ?? ANY_NESTED;
    for (;;) {
      if (this.value(rule, true, depth) === 0) return false;
      this.jsonSpace();
      const byte = bytes[this.at++];
      if (byte === CLOSE_ARRAY) return true;
      if (byte !== COMMA) return false;
      this.jsonSpace();
    }
  }

  /** Whitespace inside JSON text: skipped, and the text must then be written compact (`rewrite`). */
  private jsonSpace(): void {
    const byte = this.bytes[this.at];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a) return;
    this.space();
    this.rewrite = true;
  }

  private hasFormat(format: number, start: number, end: number): boolean {
    switch (format) {
      case FORMAT.dateTime:
        return this.isDateTime(start, end);
      case FORMAT.date:
        return end - start === 10 && this.isDate(start);
      case FORMAT.time:
        return this.isTime(start, end);
      case FORMAT.uuid:
        return this.isUuid(start, end);
      default:
        return false;
    }
  }

  /**
   * `YYYY-MM-DDTHH:MM:SS`, then optionally up to 6 fraction digits, then `Z`, `±HH:MM` or
   * nothing: RFC 3339 as taps write it, a real calendar date and time of day. Such text is what
   * the parsing path stores unchanged (timestamp.ts, canonicalTimestamp), and what ajv's
   * date-time pattern accepts.
   */
  isDateTime(start: number, end: number): boolean {
    const bytes = this.bytes;
    if (end - start < 19 || end - start > 32) return false;
    if (!this.isDate(start) || bytes[start + 10] !== 0x54 /* T */ || !this.isClock(start + 11)) return false;
    let at = start + 19;
    if (bytes[at] === DOT) {
      const fractionStart = ++at;
      while (at < end && isDigit(bytes[at])) at += 1;
      if (at === fractionStart || at - fractionStart > 6) return false;
    }
    if (at === end) return true;
    const zone = bytes[at];
    if (zone === 0x5a /* Z */) return at + 1 === end;
    if (zone !== 0x2b && zone !== MINUS) return false;
    return at + 6 === end && this.twoDigits(at + 1, 23) && bytes[at + 3] === COLON && this.twoDigits(at + 4, 59);
  }

  /** `YYYY-MM-DD` at `start`, a date in the (proleptic Gregorian) calendar. */
  private isDate(start: number): boolean {
    const bytes = this.bytes;
    if (!isDigit(bytes[start]) || !isDigit(bytes[start + 1]) || !isDigit(bytes[start + 2]) || !isDigit(bytes[start + 3])) return false;
    if (bytes[start + 4] !== MINUS || bytes[start + 7] !== MINUS || !this.twoDigits(start + 5, 12) || !this.twoDigits(start + 8, 31))
      return false;
    const year =
      (bytes[start]! - ZERO) * 1000 + (bytes[start + 1]! - ZERO) * 100 + (bytes[start + 2]! - ZERO) * 10 + (bytes[start + 3]! - ZERO);
    const month = (bytes[start + 5]! - ZERO) * 10 + (bytes[start + 6]! - ZERO);
    const day = (bytes[start + 8]! - ZERO) * 10 + (bytes[start + 9]! - ZERO);
    // Year 0000 too goes the parsing path, where a dialect's encoder may respell it (PostgreSQL: 0001 BC).
    if (month === 0 || day === 0 || year === 0) return false;
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
  }

  /** `HH:MM:SS` at `start` (hours to 23, seconds to 59: a leap second goes the parsing path). */
  private isClock(start: number): boolean {
    return (
      this.twoDigits(start, 23) &&
      this.bytes[start + 2] === COLON &&
      this.twoDigits(start + 3, 59) &&
      this.bytes[start + 5] === COLON &&
      this.twoDigits(start + 6, 59)
    );
  }

  /** `HH:MM`, optionally `:SS` and up to 6 fraction digits, no zone (the parsing path stores such text unchanged). */
  private isTime(start: number, end: number): boolean {
    const bytes = this.bytes;
    if (end - start === 5) return this.twoDigits(start, 23) && bytes[start + 2] === COLON && this.twoDigits(start + 3, 59);
    if (end - start < 8 || !this.isClock(start)) return false;
    if (end - start === 8) return true;
    if (bytes[start + 8] !== DOT || end - start - 9 < 1 || end - start - 9 > 6) return false;
    for (let at = start + 9; at < end; at++) if (!isDigit(bytes[at])) return false;
    return true;
  }

  /** 8-4-4-4-12 hex digits (ajv-formats' uuid, without its optional `urn:uuid:`). */
  private isUuid(start: number, end: number): boolean {
    if (end - start !== 36) return false;
    const bytes = this.bytes;
    for (let i = 0; i < 36; i++) {
      const byte = bytes[start + i]!;
      if (i === 8 || i === 13 || i === 18 || i === 23) {
        if (byte !== MINUS) return false;
      } else if (!((byte >= ZERO && byte <= NINE) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46))) {
        return false;
      }
    }
    return true;
  }

  /** Two digits at `at` making at most `max`. */
  private twoDigits(at: number, max: number): boolean {
    const bytes = this.bytes;
    const tens = bytes[at];
    const ones = bytes[at + 1];
    if (!isDigit(tens) || !isDigit(ones)) return false;
    return (tens! - ZERO) * 10 + (ones! - ZERO) <= max;
  }
}

/** Any value inside JSON text (keys of an object the schema leaves open, items of an untyped array). */
const ANY_NESTED: ValueRule = { tokens: 255, format: FORMAT.none, object: null, items: null };

/** A key JavaScript would order before the others (`"0"`, `"42"`: an array index): JSON.stringify would move it. */
function isIndexLike(bytes: Buffer, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0 || length > 10) return false;
  if (length > 1 && bytes[start] === ZERO) return false;
  for (let at = start; at < end; at++) if (!isDigit(bytes[at])) return false;
  return true;
}

function sameBytes(bytes: Buffer, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) if (bytes[aStart + i] !== bytes[bStart + i]) return false;
  return true;
}
