// Timestamp and time text in one form every dialect reads the same way (README, "Timestamps").

/**
 * The common case, checked without a regex: seconds present and below 60, a day of the month
 * up to 28 (so no calendar check is needed), at most 6 fraction digits, `Z` or an offset or no
 * zone. Such text goes to the database as it is.
 */
function isPlainTimestamp(text: string): boolean {
  const length = text.length;
  if (length < 19 || length > 32) return false;
  const separator = text.charCodeAt(10);
  if (separator !== 84 /* T */ && separator !== 32 /* space */) return false;
  if (text.charCodeAt(16) !== 58 /* : */) return false;
  const dayTens = text.charCodeAt(8);
  if (dayTens > 50 || (dayTens === 50 && text.charCodeAt(9) > 56)) return false; // day > 28
  if (text.charCodeAt(17) > 53) return false; // seconds 60 and more
  let at = 19;
  if (text.charCodeAt(at) === 46 /* . */) {
    const start = ++at;
    while (at < length && text.charCodeAt(at) >= 48 && text.charCodeAt(at) <= 57) at++;
    if (at - start > 6) return false;
  }
  if (at === length) return true;
  const zone = text.charCodeAt(at);
  return (zone === 90 /* Z */ && at + 1 === length) || zone === 43 /* + */ || zone === 45; /* - */
}

const TIMESTAMP_PARTS = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?([Zz]|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** Thrown-free result for a value its column cannot hold as sent, with the reason (the caller names line and field). */
export class InvalidValue {
  constructor(readonly reason: string) {}
}

/** A date or time that does not exist. */
export class InvalidTimestamp extends InvalidValue {}

/**
 * A timestamp's text as both databases store it alike, or `InvalidTimestamp` when the date or
 * time does not exist (February 30th, 24:00). Microseconds are kept; further fraction digits are
 * cut, never rounded (rounding could carry into the next second, day or year, and PostgreSQL
 * rounds while DuckDB truncates). `t`/`z` are upper-cased, missing seconds become `:00`, and a
 * leap second (`23:59:60`) is the next second, as PostgreSQL reads it (DuckDB refuses `:60`).
 * Text that is no timestamp at all (possible with validate_records off) is returned unchanged,
 * for the database to judge.
 */
export function canonicalTimestamp(text: string): string | InvalidTimestamp {
  if (isPlainTimestamp(text)) return text;
  const parts = TIMESTAMP_PARTS.exec(text);
  if (parts === null) return text;
  const [, year, month, day, hour, minute, second = '00', fraction = '', zone = '', sign, zoneHours, zoneMinutes = '00'] = parts;
  if (!isCalendarDate(Number(year), Number(month), Number(day))) {
    return new InvalidTimestamp(`${year}-${month}-${day} is not a date in the calendar`);
  }
  if (hour === undefined || minute === undefined) return text; // a date alone: midnight, read alike by both
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) {
    return new InvalidTimestamp(`${hour}:${minute}:${second} is not a time of day`);
  }
  const micros = fraction.slice(0, 6);
  if (second !== '60') {
    return `${year}-${month}-${day}T${hour}:${minute}:${second}${micros === '' ? '' : `.${micros}`}${zone.toUpperCase()}`;
  }
  // A leap second: the instant one second after :59, written in UTC.
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), 59, 0);
  const offsetMinutes = zoneOffsetMinutes(sign, zoneHours, zoneMinutes);
  const instant = new Date(date.getTime() + 1000 - offsetMinutes * 60_000).toISOString();
  return `${instant.slice(0, 19)}${micros === '' ? '' : `.${micros}`}Z`;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** An RFC 2822 / HTTP date with its zone: `Mon, 01 Feb 2021 00:00:00 GMT`, `1 Feb 2021 10:00 +0530`. */
const RFC_2822 =
  /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+(GMT|UTC|UT|Z|([+-])(\d{2})(\d{2}))$/i;

/**
 * A RECORD's `time_extracted` (or a record's own `_sdc_extracted_at`) as a timestamp cell, or null
 * when it names no instant (README, "Metadata columns"): RFC 3339 as record timestamps are read
 * (`canonicalTimestamp`), or an RFC 2822 / HTTP date with its zone as its UTC instant. Other text
 * (epoch seconds, `""`, a date not in the calendar, text a lenient date parser would guess at,
 * such as a zone-less `Feb 1 2021` read in the machine's own zone) is no instant: it is metadata,
 * so the caller stores NULL and warns, where record data would stop the load.
 */
export function extractedAtCell(text: string): string | null {
  const parts = TIMESTAMP_PARTS.exec(text);
  if (parts !== null) {
    const [, , month, , hour = '00', minute = '00', , , , , , zoneMinutes = '00'] = parts;
    // What canonicalTimestamp leaves for the database to judge (ajv's date-time format refuses it in record data).
    if (Number(month) < 1 || Number(month) > 12 || Number(hour) > 23 || Number(minute) > 59 || Number(zoneMinutes) > 59) return null;
    const cell = canonicalTimestamp(text);
    return typeof cell === 'string' ? cell : null;
  }
  const rfc = RFC_2822.exec(text);
  if (rfc === null) return null;
  const [, day, monthName, year, hour, minute, second = '00', , sign, zoneHours, zoneMinutes] = rfc;
  const month = MONTHS.indexOf(monthName!.toLowerCase()) + 1;
  if (month === 0 || !isCalendarDate(Number(year), month, Number(day)) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59)
    return null;
  const date = new Date(0);
  date.setUTCFullYear(Number(year), month - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second), 0);
  const instant = new Date(date.getTime() - zoneOffsetMinutes(sign, zoneHours, zoneMinutes) * 60_000);
  const utcYear = instant.getUTCFullYear();
  return utcYear >= 1 && utcYear <= 9999 ? `${instant.toISOString().slice(0, 19)}Z` : null;
}

/**
 * The instant a timestamp cell names, as text equal for equal instants (`2020-01-01T01:00:00+01:00`
 * and `2020-01-01 00:00:00Z` alike), or null for text that is no timestamp. It is how a batch
 * tells that two records carry the same key, as the database will compare them.
 */
export function timestampInstantKey(text: string): string | null {
  const parts = TIMESTAMP_PARTS.exec(text);
  if (parts === null) return null;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', , sign, zoneHours = '00', zoneMinutes = '00'] =
    parts;
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second), 0);
  const offsetMinutes = zoneOffsetMinutes(sign, zoneHours, zoneMinutes);
  return `${date.getTime() - offsetMinutes * 60_000}.${fraction.slice(0, 6).padEnd(6, '0')}`;
}

const TIME_PARTS = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/**
 * A time of day as both databases store it alike. Fraction digits beyond microseconds are cut
 * (as for timestamps). An offset is honoured, as in timestamps: the time becomes UTC
 * (`10:00:00+02:00` -> `08:00:00`, wrapping past midnight), since a `time` column has no zone
 * and both databases would drop the offset without a word. A leap second is the next second
 * (`23:59:60` -> `24:00:00`, which both read). Other text is returned unchanged, for the database
 * to judge.
 */
export function canonicalTime(text: string): string {
  const parts = TIME_PARTS.exec(text);
  if (parts === null) return text;
  const [, hour, minute, second, fraction, sign, zoneHours, zoneMinutes = '00'] = parts;
  const micros = fraction === undefined ? '' : `.${fraction.slice(0, 6)}`;
  const offset = zoneOffsetMinutes(sign, zoneHours, zoneMinutes);
  if (offset === 0 && second !== '60') return `${hour}:${minute}${second === undefined ? '' : `:${second}`}${micros}`;
  if (Number(hour) > 24 || Number(minute) > 59 || Number(second ?? 0) > 60) return text;
  const DAY = 24 * 3600;
  const seconds = Number(hour) * 3600 + Number(minute) * 60 + Number(second ?? 0) - offset * 60;
  // 24:00:00 stays the end of the day it was; any other time wraps into 00:00-23:59.
  const utc = seconds === DAY && offset === 0 ? DAY : ((seconds % DAY) + DAY) % DAY;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(utc / 3600))}:${two(Math.floor(utc / 60) % 60)}:${two(utc % 60)}${micros}`;
}

/** A zone offset's minutes east of UTC (`+05:30` -> 330); 0 without a sign (`Z`, or no zone). */
function zoneOffsetMinutes(sign: string | undefined, hours: string | undefined, minutes: string | undefined): number {
  if (sign === undefined) return 0;
  return (sign === '-' ? -1 : 1) * (Number(hours ?? 0) * 60 + Number(minutes ?? 0));
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}
