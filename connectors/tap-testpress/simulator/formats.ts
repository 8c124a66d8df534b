// How Testpress writes dates, durations and decimals on the wire (testpress-api.md; docs/providers/testpress.md, "Variants").

const MICROS_PER_SECOND = 1_000_000;

/** Which of the three ISO 8601 styles Testpress mixes a timestamp is written in. */
export type DateStyle =
  /** `2015-04-09T00:00:00Z` (exam `created`). */
  | 'utc-seconds'
  /** `2015-07-14T05:16:12.086Z` (attempt `date`, `last_started_time`). */
  | 'utc-millis'
  /** `2021-03-16T03:59:21.860924Z` (admin attempts, v2.5). */
  | 'utc-micros'
  /** `2013-08-02T17:25:22+05:30` (exam `start_date` / `end_date`). */
  | 'ist-seconds'
  /** `2021-03-16T09:29:21.860924+05:30` (admin attempt detail). */
  | 'ist-micros';

const IST_OFFSET_MINUTES = 330;

/** Formats a point in time, held as whole microseconds since the epoch, in one of Testpress's styles. */
export function formatDate(micros: number, style: DateStyle): string {
  const offsetMinutes = style.startsWith('ist') ? IST_OFFSET_MINUTES : 0;
  const shifted = micros + offsetMinutes * 60 * MICROS_PER_SECOND;
  const wholeSeconds = Math.floor(shifted / MICROS_PER_SECOND);
  const fraction = shifted - wholeSeconds * MICROS_PER_SECOND;
  const base = new Date(wholeSeconds * 1000).toISOString().slice(0, 19);
  let fractionText = '';
  if (style === 'utc-millis') fractionText = `.${String(Math.floor(fraction / 1000)).padStart(3, '0')}`;
  if (style === 'utc-micros' || style === 'ist-micros') fractionText = `.${String(fraction).padStart(6, '0')}`;
  const zone = offsetMinutes === 0 ? 'Z' : '+05:30';
  return base + fractionText + zone;
}

/** `H:MM:SS` without hour padding ("0:30:30", "17:15:12"), optionally with microseconds (admin API). */
export function formatDuration(seconds: number, fractionMicros = 0): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const text = `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return fractionMicros > 0 ? `${text}.${String(fractionMicros).padStart(6, '0')}` : text;
}

/** A decimal held as hundredths, written the way Django's DecimalField serialises it: "2.00". */
export function formatDecimal(hundredths: number): string {
  const sign = hundredths < 0 ? '-' : '';
  const abs = Math.abs(hundredths);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * The calendar day (YYYY-MM-DD) a `date_0` / `date_1` filter value names, as microseconds at its start
 * in the institute's time zone. Inferred: django-filter compares in the server's current time zone,
 * and Testpress institutes run on IST.
 */
export function dayStartMicros(day: string, offsetMinutes = IST_OFFSET_MINUTES): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const utc = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (Number.isNaN(utc)) return undefined;
  return (utc - offsetMinutes * 60_000) * 1000;
}
