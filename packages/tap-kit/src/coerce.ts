// Explicit, tested coercions for vendor type quirks. Each is a zod schema whose *output* type is
// what lands in the warehouse, so the JSON Schema in SCHEMA messages describes the emitted value.
import { z } from 'zod';

/** JSON Schema format that Singer targets read as an exact decimal carried in a string. */
export const SINGER_DECIMAL_FORMAT = 'x-singer.decimal';

const DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

function fail(ctx: z.RefinementCtx, input: unknown, message: string): never {
  ctx.addIssue({ code: 'custom', message, input });
  return z.NEVER as never;
}

/** A LosslessNumber from lossless-json (or anything shaped like it) carries its exact digits. */
function losslessDigits(value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null && (value as { isLosslessNumber?: unknown }).isLosslessNumber === true) {
    return String((value as { value: unknown }).value);
  }
  return undefined;
}

function plainNumberText(value: number): string {
  const text = String(value);
  // Avoid exponent notation, which targets would not read as a decimal literal.
  return /e/i.test(text) ? value.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 }) : text;
}

/**
 * "2.00", 2, 2n or a LosslessNumber -> the exact decimal text "2.00", emitted as a string with
 * `format: "x-singer.decimal"` so no float ever rounds it on the way to the database.
 */
function decimal() {
  return z
    .unknown()
    .transform((value, ctx): string => {
      const lossless = losslessDigits(value);
      let text: string;
      if (lossless !== undefined) text = lossless;
      else if (typeof value === 'number') {
        if (!Number.isFinite(value)) return fail(ctx, value, `expected a decimal number, got ${value}`);
        text = plainNumberText(value);
      } else if (typeof value === 'bigint') text = value.toString();
      else if (typeof value === 'string') text = value.trim().replace(/^\+/, '');
      else return fail(ctx, value, `expected a decimal number or numeric string, got ${typeof value}`);
      if (!DECIMAL.test(text)) return fail(ctx, value, `expected a decimal number, got ${JSON.stringify(value)}`);
      return text;
    })
    .pipe(z.string().meta({ format: SINGER_DECIMAL_FORMAT }));
}

/** "64776", " 64776 ", "64776.0" or 64776 -> 64776; refuses real fractions and integers beyond 2^53 (they would round). */
function integer() {
  return z
    .unknown()
    .transform((value, ctx): number => {
      const text = losslessDigits(value) ?? (typeof value === 'string' ? value.trim() : undefined);
      // "12.0" and "12.00" are 12 exactly; "12.5" is not an integer and is refused, never rounded.
      const whole = text !== undefined ? /^([-+]?\d+)(?:\.0*)?$/.exec(text)?.[1] : undefined;
      const result = whole !== undefined ? Number(whole) : typeof value === 'number' ? value : NaN;
      if (!Number.isInteger(result)) return fail(ctx, value, `expected an integer, got ${JSON.stringify(value)}`);
      if (!Number.isSafeInteger(result)) return fail(ctx, value, `integer ${String(text ?? value)} is too large to carry exactly`);
      return result;
    })
    .pipe(z.number().int());
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n']);

/** Reads every spelling of a boolean vendors use, or undefined when the value is none of them. */
function booleanOf(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  const text =
    losslessDigits(value) ?? (typeof value === 'number' || typeof value === 'string' ? String(value).trim().toLowerCase() : undefined);
  if (text === undefined) return undefined;
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  return undefined;
}

const BOOLEAN_SPELLINGS = 'true/false, 1/0, "1"/"0", "true"/"false", "Yes"/"No" or "y"/"n"';

/** true, 1, "1", "true", "Yes", "y" (any case, spaces trimmed) -> true; their false forms -> false. */
function boolean() {
  return z
    .unknown()
    .transform((value, ctx): boolean => {
      const result = booleanOf(value);
      if (result === undefined) return fail(ctx, value, `expected a boolean (${BOOLEAN_SPELLINGS}), got ${JSON.stringify(value)}`);
      return result;
    })
    .pipe(z.boolean());
}

/**
 * Any spelling `boolean()` reads -> 1 or 0, for a field whose column is an integer (a pass flag the
 * vendor documents as 1/0 and also sends as true/false or "Yes"/"No"): the column keeps its type.
 */
function booleanAsInteger() {
  return z
    .unknown()
    .transform((value, ctx): number => {
      const result = booleanOf(value);
      if (result === undefined) return fail(ctx, value, `expected 1/0 or a boolean (${BOOLEAN_SPELLINGS}), got ${JSON.stringify(value)}`);
      return result ? 1 : 0;
    })
    .pipe(z.number().int());
}

/**
 * Text, also when the vendor sends it as a number or a boolean: "Ann" -> "Ann", 12345 -> "12345" (a
 * LosslessNumber keeps its digits), true -> "true". Objects and arrays are refused. "" stays "":
 * wrap it in `emptyAsNull` where blank means absent, and add `.nullable()` where null may come.
 */
function text() {
  return z
    .unknown()
    .transform((value, ctx): string => {
      if (typeof value === 'string') return value;
      const digits = losslessDigits(value);
      if (digits !== undefined) return digits;
      if (typeof value === 'number' && Number.isFinite(value)) return plainNumberText(value);
      if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
      return fail(ctx, value, `expected text, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
    })
    .pipe(z.string());
}

/**
 * "H:MM:SS" (hours may exceed 24), with or without a fraction ("2:47:53.076906"), or bare seconds
 * ("0.00", 12) -> seconds. Fractions are kept, not rounded: the digits sent come back in the JSON
 * (the nearest double to them, exact for up to 15 significant digits, i.e. microseconds for any
 * duration under 30 years), so no sub-second precision the vendor measured is lost.
 */
function secondsFromDuration() {
  return z
    .unknown()
    .transform((value, ctx): number => {
      const text =
        losslessDigits(value) ?? (typeof value === 'number' ? plainNumberText(value) : typeof value === 'string' ? value.trim() : '');
      const clock = /^(\d+):([0-5]\d):([0-5]\d)(?:\.(\d+))?$/.exec(text);
      const bare = clock ? null : /^(\d+)(?:\.(\d+))?$/.exec(text);
      if (!clock && !bare) return fail(ctx, value, `expected a duration "H:MM:SS" (or seconds), got ${JSON.stringify(value)}`);
      const whole = clock ? Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3]) : Number(bare![1]);
      const fraction = (clock ? clock[4] : bare![2]) ?? '';
      // Built as decimal text so 53.076906 is not 53 + 0.076906 computed in floating point.
      return /[1-9]/.test(fraction) ? Number(`${whole}.${fraction}`) : whole;
    })
    .pipe(z.number().nonnegative());
}

/** 1339778290 or "1339778290" (UNIX seconds, UTC by definition) -> "2012-06-15T16:38:10Z". */
function isoFromUnixSeconds() {
  return z
    .unknown()
    .transform((value, ctx): string => {
      const text = losslessDigits(value) ?? (typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '');
      if (!/^\d+(?:\.\d+)?$/.test(text)) return fail(ctx, value, `expected UNIX seconds, got ${JSON.stringify(value)}`);
      const date = new Date(Number(text) * 1000);
      if (Number.isNaN(date.getTime())) return fail(ctx, value, `UNIX seconds out of range: ${text}`);
      return date.toISOString().replace(/\.000Z$/, 'Z');
    })
    .pipe(z.string().meta({ format: 'date-time' }));
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Normalises an ISO 8601 timestamp to UTC with a Z, keeping sub-second digits exactly (up to
 * microseconds): "2024-03-01T10:00:00.123456+02:00" -> "2024-03-01T08:00:00.123456Z".
 * A timestamp without an offset is read as UTC unless `naive: 'reject'` is given.
 */
export function normaliseIsoDateTime(text: string, naive: 'utc' | 'reject' = 'utc'): string | undefined {
  const match = ISO.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s = '00', fraction = '', zone] = match;
  if (zone === undefined && naive === 'reject') return undefined;
  let offsetMinutes = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * (zone.startsWith('-') ? -1 : 1);
  }
  const wallClock = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  // Date.UTC rolls 2024-02-30 over to March; a rolled-over date was not a real timestamp.
  if (wallClock.getUTCDate() !== Number(d) || wallClock.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23) return undefined;
  const date = new Date(wallClock.getTime() - offsetMinutes * 60_000);
  const digits = fraction.slice(0, 6).replace(/0+$/, '');
  return date.toISOString().replace(/\.\d{3}Z$/, digits ? `.${digits}Z` : 'Z');
}

function isoDateTime(options: { naive?: 'utc' | 'reject' } = {}) {
  return z
    .unknown()
    .transform((value, ctx): string => {
      const normalised = typeof value === 'string' ? normaliseIsoDateTime(value, options.naive) : undefined;
      if (normalised === undefined)
        return fail(
          ctx,
          value,
          `expected an ISO 8601 timestamp${options.naive === 'reject' ? ' with an offset' : ''}, got ${JSON.stringify(value)}`,
        );
      return normalised;
    })
    .pipe(z.string().meta({ format: 'date-time' }));
}

/** Wraps a field so the vendor's "" (or null/absent) becomes null: `coerce.emptyAsNull(coerce.decimal())`. */
function emptyAsNull<T extends z.ZodType>(inner: T) {
  return z.preprocess((value) => (value === '' || value === undefined ? null : value), inner.nullable());
}

/** Like `emptyAsNull`, and text of spaces only is null too (a blank e-mail or name: nothing was given). */
function blankAsNull<T extends z.ZodType>(inner: T) {
  return z.preprocess(
    (value) => (value === undefined || (typeof value === 'string' && value.trim() === '') ? null : value),
    inner.nullable(),
  );
}

/** Vendor quirks, each an explicit zod schema. Use them inside a stream's record schema. */
export const coerce = {
  decimal,
  /** Alias of `decimal`: numbers sent as strings stay exact. */
  numberFromString: decimal,
  integer,
  integerFromString: integer,
  boolean,
  /** Alias of `boolean`: "Yes"/"No" are among the spellings it reads. */
  booleanFromYesNo: boolean,
  booleanAsInteger,
  text,
  secondsFromDuration,
  isoFromUnixSeconds,
  isoDateTime,
  emptyAsNull,
  blankAsNull,
};
