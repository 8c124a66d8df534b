// Fields group and link results share, with the coercions for ClassMarker's number/string vintages.
import { coerce } from '@tapline/tap-kit';
import { z } from 'zod';

const text = coerce.text();
/** Optional, newer fields [providers.md §1.7]: absent in older API vintages, "" when empty. */
const optionalText = coerce.emptyAsNull(coerce.text()).optional();

/** The 2012 sample sends ids, scores and times as strings, current docs as numbers [providers.md §1.7]: both are read. */
export const resultFields = {
  // Names may be null (a taker who gave none); a blank e-mail is no e-mail.
  first: text.nullable(),
  last: text.nullable(),
  email: coerce.emptyAsNull(text),
  test_id: coerce.integer(),
  percentage: coerce.decimal(),
  points_scored: coerce.decimal(),
  points_available: coerce.decimal(),
  time_started: coerce.isoFromUnixSeconds(),
  time_finished: coerce.isoFromUnixSeconds(),
  /** "f" finished (recent results only returns finished ones). */
  status: coerce.emptyAsNull(text).optional(),
  /** "HH:MM:SS" as sent. */
  duration: text,
  duration_seconds: coerce.secondsFromDuration(),
  percentage_passmark: coerce.emptyAsNull(coerce.decimal()).optional(),
  // XML writes false as an empty element [providers.md §1.6]; JSON sends booleans.
  passed: coerce.emptyAsNull(coerce.booleanFromYesNo()).optional(),
  /** "Yes" means essay marking is pending and the score may still change. */
  requires_grading: coerce.booleanFromYesNo(),
  give_certificate_only_when_passed: coerce.emptyAsNull(coerce.booleanFromYesNo()).optional(),
  certificate_url: optionalText,
  certificate_serial: optionalText,
  view_results_url: optionalText,
};

/** Adds duration_seconds next to the vendor's "HH:MM:SS" duration. */
export const withDurationSeconds = (raw: Record<string, unknown>) => ({ ...raw, duration_seconds: raw.duration });

/**
 * How group and link results are read incrementally: oldest first on time_finished, "finished after"
 * is strict (so the kit re-reads the boundary second), one bookmark per configured pair.
 */
export const recentResultsIncremental = {
  cursor: 'time_finished',
  sorted: true,
  send: { query: 'finishedAfterTimestamp', format: 'unix', exclusive: true },
  // "It can only be within the last 3 months" [doc]: calendar months (inferred), less a day for
  // ClassMarker's clock and its own time zone's month arithmetic (inferred), so the first request of
  // a run never meets finishedAfterTimestampTooEarly.
  maxLookback: '3mo',
  maxLookbackMargin: '1d',
  partitioned: true,
} as const;
