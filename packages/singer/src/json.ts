// JSON that keeps numbers exact: JSON.parse on the common path, lossless-json only where a number could be rounded.
import {
  isLosslessNumber,
  isSafeNumber,
  LosslessNumber,
  parse as parseLossless,
  stringify as stringifyLossless,
} from 'lossless-json';

export { isLosslessNumber, LosslessNumber };

/**
 * True when `text` may contain a number literal that a double cannot hold exactly: 16 or more
 * digits (2^53 has 16), or an exponent of three digits (overflow/underflow). A number follows
 * `:`, `,` or `[` in JSON; matches inside strings are harmless false positives (they only cost
 * the slow path). Every number with 15 or fewer significant digits round-trips through a double.
 */
const mayHoldUnsafeNumber = /[:,[]\s*-?(?:[0-9.]{16}|[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]{3})/;

export function mayContainUnsafeNumber(text: string): boolean {
  return mayHoldUnsafeNumber.test(text);
}

function parseNumberLosslessly(literal: string): number | LosslessNumber {
  return isSafeNumber(literal) ? Number(literal) : new LosslessNumber(literal);
}

const losslessOptions = {
  parseNumber: parseNumberLosslessly,
  // JSON.parse keeps the last duplicate key; lossless-json would throw. Behave like JSON.parse.
  onDuplicateKey: ({ newValue }: { newValue: unknown }) => newValue,
};

/**
 * Parse JSON text. Numbers that survive a round trip through a double are plain numbers; any
 * other (integers beyond 2^53, decimals with more than ~15 significant digits, 1e400) becomes a
 * `LosslessNumber` holding the literal digits. Throws SyntaxError on invalid JSON.
 */
export function parseJson(text: string): unknown {
  if (!mayHoldUnsafeNumber.test(text)) return JSON.parse(text);
  return parseLossless(text, null, losslessOptions);
}

/** JSON text marker that JSON.stringify leaves for a LosslessNumber (its own enumerable fields). */
const losslessMarker = '"isLosslessNumber":true';

/**
 * Serialize to compact JSON, writing a LosslessNumber as its raw digits and a bigint as an
 * integer literal. Plain values take JSON.stringify alone.
 */
export function stringifyJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error; // bigint ("Do not know how to serialize a BigInt")
    return stringifyLossless(value) ?? 'null';
  }
  if (text === undefined) return 'null';
  return text.includes(losslessMarker) ? (stringifyLossless(value) ?? 'null') : text;
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
  for (const key in value) copy[key] = approximate((value as Record<string, unknown>)[key]);
  return copy;
}
