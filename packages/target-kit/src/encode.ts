// Record values -> cells for a column of a given kind (the CellValue contract in dialect.ts).
import { isLosslessNumber, stringifyJson } from '@tapline/singer';
import type { CellValue, ColumnKind } from './dialect.js';
import { canonicalTime, canonicalTimestamp, InvalidTimestamp, InvalidValue } from './timestamp.js';

export { InvalidTimestamp, InvalidValue };

/** Returned when a value needs a wider column than it has (e.g. an integer beyond int64). */
export class NeedsWiderColumn {
  constructor(readonly kind: ColumnKind) {}
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const integerLiteral = /^-?\d+$/;

/**
 * Encode one value for a column. `undefined` and `null` are NULL. A value of an unexpected type
 * (possible with validate_records off) passes through as text for the database to judge;
 * an empty string in a date/time/timestamp column is NULL (README, "Empty strings").
 * Timestamps are brought into one form both dialects read alike (timestamp.ts); a date that
 * does not exist, or bytes that are not hex, is `InvalidValue`, for the caller to report with its
 * line and field.
 */
export function encodeCell(kind: ColumnKind, value: unknown): CellValue | NeedsWiderColumn | InvalidValue {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'object' && !isLosslessNumber(value)) return stringifyJson(value);
      return String(value);
    case 'json':
      return stringifyJson(value);
    case 'integer':
      if (typeof value === 'number') {
        if (Number.isSafeInteger(value)) return value;
        if (Number.isInteger(value)) return toInt64(BigInt(value));
        return Number.isFinite(value) ? new NeedsWiderColumn('decimal') : String(value);
      }
      if (typeof value === 'bigint') return toInt64(value); // e.g. a RECORD version beyond int64
      if (isLosslessNumber(value)) {
        const text = value.toString();
        return integerLiteral.test(text) ? toInt64(BigInt(text)) : new NeedsWiderColumn('decimal');
      }
      if (typeof value === 'string') return integerText(value);
      return passThrough(value);
    case 'decimal':
      if (typeof value === 'number' || isLosslessNumber(value)) return String(value);
      return passThrough(value);
    case 'number':
      if (typeof value === 'number') return value;
      // lossless-json only makes a LosslessNumber when a double would change the value.
      if (isLosslessNumber(value)) return new NeedsWiderColumn('decimal');
      return passThrough(value);
    case 'boolean':
      if (typeof value === 'string') return booleanText(value);
      return typeof value === 'boolean' ? value : passThrough(value);
    case 'timestamp':
      if (value === '') return null;
      return typeof value === 'string' ? canonicalTimestamp(value) : passThrough(value);
    case 'time':
      if (value === '') return null;
      return typeof value === 'string' ? canonicalTime(value) : passThrough(value);
    case 'date':
      if (value === '') return null;
      return passThrough(value);
    case 'bytes':
      // Even with validate_records off: any other value would be stored as the bytes of its text.
      return typeof value === 'string'
        ? base16Bytes(value)
        : new InvalidValue(`${stringifyJson(value)} is not base16 text, as its schema's contentEncoding says`);
  }
}

const HEX_DIGITS = /^[0-9a-fA-F]*$/;

/**
 * Base16 text as the `bytes` cell (lower-case hex, two digits a byte), as MeltanoLabs
 * target-postgres reads it: the `0x` prefix is optional, an odd count of digits has an implied
 * leading zero (`A12` is bytes 0a 12), and `""` or `"0x"` is no bytes.
 */
export function base16Bytes(text: string): string | InvalidValue {
  const digits = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (!HEX_DIGITS.test(digits)) {
    return new InvalidValue(
      `${quotedForError(text)} is not base16 (hex digits, optionally after 0x), as its schema's contentEncoding says`,
    );
  }
  return (digits.length % 2 === 1 ? `0${digits}` : digits).toLowerCase();
}

/** The blanks PostgreSQL's input functions skip around a value (C's isspace). */
const BLANKS = /^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g;
/** An integer, with the blanks PostgreSQL's bigint input allows around it (` 7 `, `+7`, `007`). */
const INTEGER_TEXT = /^[ \t\n\r\f\v]*[+-]?\d+[ \t\n\r\f\v]*$/;

function quotedForError(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

/**
 * Text in an integer column (validate_records off): passed on when it is an integer as
 * PostgreSQL reads one, otherwise refused here. DuckDB's CSV reader would round `"1.5"` to 2
 * (and `"1e3"` to 1000) where PostgreSQL refuses it; decided here, both refuse it alike, at the
 * record. Blanks are dropped (both databases read ` 7 ` as 7).
 */
function integerText(text: string): string | InvalidValue {
  if (INTEGER_TEXT.test(text)) return text.replace(BLANKS, '');
  return new InvalidValue(`${quotedForError(text)} is not an integer, as its column holds`);
}

/**
 * Text in a boolean column (validate_records off), read as PostgreSQL reads it: blanks around it
 * and case aside, `true`/`false`, `yes`/`no`, `on`/`off`, a prefix of one of them that no other
 * shares (`t`, `tr`, `n`, `of`), `1`/`0`. DuckDB's reader takes fewer (not `on`, ` true `, `tr`),
 * so the kit decides for both; other text is refused at the record.
 */
function booleanText(text: string): boolean | InvalidValue {
  const word = text.replace(BLANKS, '').toLowerCase();
  if (word !== '') {
    if ('true'.startsWith(word) || 'yes'.startsWith(word) || word === 'on' || word === '1') return true;
    if ('false'.startsWith(word) || 'no'.startsWith(word) || (word.length >= 2 && 'off'.startsWith(word)) || word === '0') return false;
  }
  return new InvalidValue(`${quotedForError(text)} is not a boolean, as its column holds`);
}

function toInt64(value: bigint): bigint | NeedsWiderColumn {
  return value < INT64_MIN || value > INT64_MAX ? new NeedsWiderColumn('decimal') : value;
}

function passThrough(value: unknown): CellValue {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value;
  return stringifyJson(value);
}

/**
 * Whether no string in a message parsed from this JSON text can hold a backslash, a control
 * character or U+0000: JSON spells each of those with a backslash, so a line without one has
 * none. Cells of such a record need no escaping and no NUL check (`RowEncoder.encode`).
 */
export function hasNoEscapes(text: string): boolean {
  return text.indexOf('\\') === -1;
}

/** True when a string (or, for JSON text, an escaped string) holds U+0000. */
export function hasNul(cell: string, kind: ColumnKind): boolean {
  return kind === 'json' ? /(?:^|[^\\])(?:\\\\)*\\u0000/.test(cell) : cell.includes('\0');
}

/** Remove U+0000 (sanitize_null_characters). */
export function stripNul(cell: string, kind: ColumnKind): string {
  return kind === 'json' ? cell.replace(/((?:^|[^\\])(?:\\\\)*)\\u0000/g, '$1') : cell.replaceAll('\0', '');
}

/**
 * A surrogate escape in JSON text (not an escaped backslash before `ud800`). JSON.stringify writes
 * a surrogate as an escape only when it is unpaired (a pair is written as its character).
 */
const SURROGATE_ESCAPE = /((?:^|[^\\])(?:\\\\)*)\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

/**
 * True when a string (or, for JSON text, an escaped string) holds an unpaired UTF-16 surrogate:
 * JSON can spell one (`"\ud800"`), but it is no Unicode character, so no UTF-8 database can store
 * it (writing it as UTF-8 would silently turn it into U+FFFD).
 */
export function hasUnpairedSurrogate(cell: string, kind: ColumnKind): boolean {
  return kind === 'json' ? SURROGATE_ESCAPE.test(cell) : !cell.isWellFormed();
}

/** Each unpaired surrogate replaced by U+FFFD (replace_unpaired_surrogates). */
export function replaceUnpairedSurrogates(cell: string, kind: ColumnKind): string {
  if (kind !== 'json') return cell.toWellFormed();
  let text = cell;
  // One pass cannot take two adjacent escapes (the first one's last digit is the second one's prefix).
  while (SURROGATE_ESCAPE.test(text)) text = text.replace(new RegExp(SURROGATE_ESCAPE.source, 'g'), '$1\\ufffd');
  return text;
}
