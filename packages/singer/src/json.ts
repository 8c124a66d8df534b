// JSON that keeps numbers exact: JSON.parse on the common path, lossless-json only where a number could be rounded.
import { isLosslessNumber, LosslessNumber, parse as parseLossless, stringify as stringifyLossless } from 'lossless-json';

export { isLosslessNumber, LosslessNumber };

/**
 * Number literals that might not survive a double: 16 or more digits (2^53 has 16), or an
 * exponent of three digits (overflow/underflow). A number follows `:`, `,` or `[` in JSON;
 * matches inside strings are harmless false positives (they only cost the slow path). Every
 * number with 15 or fewer significant digits round-trips through a double.
 */
const longNumberLiteral = /[:,[]\s*(-?(?:[0-9.]{16,}(?:[eE][+-]?[0-9]+)?|[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]{3,}))/g;

/** An exponent of three or more digits (the second shape `longNumberLiteral` looks for). */
const threeDigitExponent = /[eE][+-]?[0-9]{3}/;

const isDigitOrDot = (code: number): boolean => (code >= 48 && code <= 57) || code === 46;

/**
 * Whether `text` has 16 or more consecutive digits and dots (the first shape `longNumberLiteral`
 * looks for). Such a run covers 16 consecutive indexes, one of which is 15 modulo 16, so only
 * every 16th character is looked at, plus the run around it when it is a digit: several times
 * cheaper than the regex on the common line that has no such run.
 */
function hasLongDigitRun(text: string): boolean {
  const length = text.length;
  for (let i = 15; i < length; i += 16) {
    if (!isDigitOrDot(text.charCodeAt(i))) continue;
    let start = i;
    while (start > 0 && isDigitOrDot(text.charCodeAt(start - 1))) start--;
    let end = i + 1;
    while (end < length && end - start < 16 && isDigitOrDot(text.charCodeAt(end))) end++;
    if (end - start >= 16) return true;
  }
  return false;
}

/**
 * True when the literal is how a double prints (the shortest text that reads back as it), so a
 * double holds the number the tap meant: the string comparison settles the common case cheaply;
 * otherwise the literal and the double's text are compared as digits and a power of ten, so
 * that Python's and Java's spellings of a double (`6.666666666666667e-06`, `1.0000000000000002e+16`,
 * `1.5E7`) count as the double they print, while `1234567890.123456789` does not.
 */
export function isExactDouble(literal: string): boolean {
  const number = Number(literal);
  if (String(number) === literal) return true;
  if (!Number.isFinite(number)) return false;
  const written = decimalDigits(literal);
  const printed = decimalDigits(String(number));
  return written !== null && printed !== null && written === printed;
}

const NUMBER_PARTS = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A number literal as `sign digits e power` with no leading or trailing zeros (`-15e-1` for -1.50), `0` for zero; null if no literal. */
function decimalDigits(literal: string): string | null {
  const parts = NUMBER_PARTS.exec(literal);
  if (parts === null) return null;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = parts;
  const all = (whole + fraction).replace(/^0+/, '');
  if (all === '') return '0';
  const digits = all.replace(/0+$/, '');
  return `${sign}${digits}e${Number(exponent) - fraction.length + (all.length - digits.length)}`;
}

/**
 * Where `text` holds number literals a double cannot represent exactly: [start, end) pairs, or
 * null when there are none (the common case). Literals inside strings are ignored. Floats
 * printed with 17 significant digits (`0.30000000000000004`, common from Python and JS taps)
 * round-trip, so they do not count.
 */
function findUnsafeNumbers(text: string): number[] | null {
  if (!hasLongDigitRun(text) && !threeDigitExponent.test(text)) return null;
  longNumberLiteral.lastIndex = 0;
  let match = longNumberLiteral.exec(text);
  if (match === null) return null;
  let spans: number[] | null = null;
  let scanned = 0; // text before this index has been scanned for string boundaries
  let inString = false;
  for (; match !== null; match = longNumberLiteral.exec(text)) {
    const literal = match[1] as string;
    if (isExactDouble(literal)) continue;
    const start = match.index + match[0].length - literal.length;
    for (; scanned < start; scanned++) {
      const code = text.charCodeAt(scanned);
      if (code === 0x22) inString = !inString;
      else if (code === 0x5c && inString) scanned++; // skip the escaped character
    }
    if (!inString) {
      spans ??= [];
      spans.push(start, start + literal.length);
    }
  }
  return spans;
}

export function mayContainUnsafeNumber(text: string): boolean {
  return findUnsafeNumbers(text) !== null;
}

function parseNumberLosslessly(literal: string): number | LosslessNumber {
  return isExactDouble(literal) ? Number(literal) : new LosslessNumber(literal);
}

const losslessOptions = {
  parseNumber: parseNumberLosslessly,
  // JSON.parse keeps the last duplicate key; lossless-json would throw. Behave like JSON.parse.
  onDuplicateKey: ({ newValue }: { newValue: unknown }) => newValue,
};

/** Unsafe literals are parsed as strings carrying this prefix, then turned into LosslessNumbers. */
const SENTINEL = '\u0000#lossless#';
const SENTINEL_IN_JSON = '\\u0000#lossless#';

/**
 * Parse JSON text. Numbers that survive a round trip through a double are plain numbers; any
 * other (integers beyond 2^53, decimals with more than ~15 significant digits, 1e400) becomes a
 * `LosslessNumber` holding the literal digits. Throws SyntaxError on invalid JSON.
 *
 * Lines with such numbers are still parsed by JSON.parse: the unsafe literals are quoted with a
 * sentinel first and revived afterwards, which is several times faster than a JSON parser
 * written in JavaScript (lossless-json, kept as the fallback should the sentinel occur in the data).
 */
export function parseJson(text: string): unknown {
  const spans = findUnsafeNumbers(text);
  if (spans === null) return JSON.parse(text);
  if (text.includes(SENTINEL_IN_JSON)) return parseLossless(text, null, losslessOptions);
  let rewritten = '';
  let from = 0;
  for (let i = 0; i < spans.length; i += 2) {
    const start = spans[i] as number;
    const end = spans[i + 1] as number;
    rewritten += `${text.slice(from, start)}"${SENTINEL_IN_JSON}${text.slice(start, end)}"`;
    from = end;
  }
  rewritten += text.slice(from);
  return revive(JSON.parse(rewritten));
}

/** `NaN`, `Infinity` and `-Infinity` are parsed as strings carrying this prefix, then turned into numbers. */
const NON_FINITE_SENTINEL = '\u0000#nonfinite#';
const NON_FINITE_SENTINEL_IN_JSON = '\\u0000#nonfinite#';
const NON_FINITE_LITERAL = /-?Infinity|NaN/y;

/**
 * Parse JSON text that may hold `NaN`, `Infinity` or `-Infinity` where a value goes: not JSON,
 * but what Python's json module writes for such floats (singer-python taps send them) and reads
 * back, so every Python target accepts them. They become JavaScript's NaN and infinities; other
 * text is parsed as `parseJson` does. Throws SyntaxError when the text is invalid all the same.
 * Only for lines JSON.parse refused: the common path never pays for the scan.
 */
export function parseJsonAllowingNonFinite(text: string): unknown {
  let rewritten = '';
  let from = 0;
  let inString = false;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (inString) {
      if (code === 0x5c)
        at++; // the escaped character
      else if (code === 0x22) inString = false;
      continue;
    }
    if (code === 0x22) {
      inString = true;
      continue;
    }
    if (code !== 0x2d && code !== 0x49 && code !== 0x4e) continue; // - I N
    NON_FINITE_LITERAL.lastIndex = at;
    const literal = NON_FINITE_LITERAL.exec(text)?.[0];
    if (literal === undefined) continue;
    rewritten += `${text.slice(from, at)}"${NON_FINITE_SENTINEL_IN_JSON}${literal}"`;
    from = at + literal.length;
    at = from - 1;
  }
  if (from === 0) return parseJson(text);
  return revive(parseJson(rewritten + text.slice(from)));
}

/** Whether `value` (deeply) holds NaN or an infinity: JSON.stringify would write `null` for it. */
export function containsNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (value === null || typeof value !== 'object' || isLosslessNumber(value)) return false;
  for (const key in value) {
    if (containsNonFinite((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

function revive(value: unknown): unknown {
  if (typeof value === 'string') {
    if (value.startsWith(SENTINEL)) return new LosslessNumber(value.slice(SENTINEL.length));
    return value.startsWith(NON_FINITE_SENTINEL) ? Number(value.slice(NON_FINITE_SENTINEL.length)) : value;
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i]);
    return value;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) {
    const item = object[key];
    if (typeof item === 'object' || typeof item === 'string') object[key] = revive(item);
  }
  return object;
}

/** JSON text marker that JSON.stringify leaves for a LosslessNumber (its own enumerable fields). */
const losslessMarker = '"isLosslessNumber":true';

/**
 * Serialize to compact JSON (or indented by `space`, for people), writing a LosslessNumber as its
 * raw digits and a bigint as an integer literal. Plain values take JSON.stringify alone.
 */
export function stringifyJson(value: unknown, space?: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, null, space);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error; // bigint ("Do not know how to serialize a BigInt")
    return stringifyLossless(value, undefined, space) ?? 'null';
  }
  if (text === undefined) return 'null';
  return text.includes(space ? '"isLosslessNumber": true' : losslessMarker) ? (stringifyLossless(value, undefined, space) ?? 'null') : text;
}

/** True when `value` (deeply) contains a LosslessNumber. */
export function containsLosslessNumber(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (isLosslessNumber(value)) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (containsLosslessNumber(item)) return true;
    return false;
  }
  for (const key in value) {
    if (containsLosslessNumber((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/**
 * A copy of `value` with every LosslessNumber replaced by the nearest double, for code that only
 * needs to know "this is a number" (e.g. schema validation). Returns `value` itself when it holds none.
 */
export function withApproximateNumbers<T>(value: T): T {
  if (!containsLosslessNumber(value)) return value;
  return approximate(value) as T;
}

function approximate(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (isLosslessNumber(value)) return Number(value.toString());
  if (Array.isArray(value)) return value.map(approximate);
  const copy: Record<string, unknown> = {};
  for (const key in value) setOwn(copy, key, approximate((value as Record<string, unknown>)[key]));
  return copy;
}

/**
 * How many levels of arrays and objects `value` nests (0 for a scalar). Iterative: it measures
 * values too deep for recursive code, to say how deep they are.
 */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object' || isLosslessNumber(item)) continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * `target[key] = value` as an own property, also when `key` is `__proto__` (which assignment
 * would take as the object's prototype, dropping the property: JSON.parse keeps it as data).
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/** A JSON object as parsed: not an array, not a LosslessNumber, not null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Whether every object has a property of this name (`constructor`, `toString`, `__proto__`, ...). */
export function isInheritedName(name: string): boolean {
  return name in Object.prototype;
}
