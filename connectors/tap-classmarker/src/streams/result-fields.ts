// Fields group and link results share, with the coercions for ClassMarker's number/string vintages.
import { coerce, type IncrementalSettings, type StreamContext } from '@tapline/tap-kit';
import type { ClassMarkerConfig } from '../config.js';

const text = coerce.text();
/** Optional, newer fields (docs/providers/classmarker.md, "Result fields"): absent in older payloads, "" when empty. */
const optionalText = coerce.emptyAsNull(text).optional();

/** Text where "", spaces, null and absence all mean "not given" (a blank e-mail, a taker who gave no name). */
const blankAsNull = coerce.blankAsNull(text);

/** Older payloads send ids, scores and times as strings, current ones as numbers (docs/providers/classmarker.md): both are read. */
export const resultFields = {
  first: blankAsNull.describe("The taker's first name; null when blank or not given."),
  last: blankAsNull.describe("The taker's last name; null when blank or not given."),
  email: blankAsNull.describe("The taker's e-mail address; null when blank (link takers may leave it empty)."),
  test_id: coerce.integer().describe("ClassMarker's id of the test taken."),
  /** From the response's `tests` block, so a result names its test even when v1.json no longer lists it. */
  test_name: blankAsNull
    .optional()
    .describe(
      "The test's name, from the same response's `tests` block (so it is named even when no group or link lists the test any more).",
    ),
  percentage: coerce.decimal().describe('The percentage scored (0 to 100), exact.'),
  points_scored: coerce.decimal().describe('The points scored, exact (e.g. 32.4).'),
  points_available: coerce.decimal().describe('The points the test was worth, exact.'),
  time_started: coerce.isoFromUnixSeconds().describe('When the taker started (sent as UNIX seconds, UTC); never changes for a result.'),
  time_finished: coerce
    .isoFromUnixSeconds()
    .describe(
      'When the taker finished (sent as UNIX seconds, UTC); moves when an administrator re-opens the exam. The incremental cursor.',
    ),
  /** "f" finished (recent results only returns finished ones); absent in the older payload form. */
  status: coerce
    .emptyAsNull(text)
    .optional()
    .describe(
      '"f" finished (recent results and webhooks carry finished results only); null in the older payload form, which does not send it.',
    ),
  /** "HH:MM:SS" as sent (digits sent as a number are kept as their text). */
  duration: coerce.emptyAsNull(text).describe('The time taken as sent, "HH:MM:SS"; null when blank.'),
  duration_seconds: coerce.secondsFromDuration().describe('`duration` in seconds.'),
  percentage_passmark: coerce
    .emptyAsNull(coerce.decimal())
    .optional()
    .describe("The test's pass mark in percent, exact; null in older payloads, which do not send it."),
  // XML writes false as an empty element (docs/providers/classmarker.md, "XML"); JSON sends booleans.
  passed: coerce
    .emptyAsNull(coerce.booleanFromYesNo())
    .optional()
    .describe('Whether the taker passed (true when the test sets no pass mark); null in older payloads, which do not send it.'),
  /** "Yes" means essay marking is pending and the score may still change. */
  requires_grading: coerce
    .booleanFromYesNo()
    .describe('Sent as "Yes" / "No": true while answers (essays) await marking, so the score may still change.'),
  give_certificate_only_when_passed: coerce
    .emptyAsNull(coerce.booleanFromYesNo())
    .optional()
    .describe('Whether the test gives its certificate only to takers who passed; null when not sent.'),
  certificate_url: optionalText.describe("Link to the taker's certificate (PDF); null when there is none."),
  certificate_serial: optionalText.describe("The certificate's serial number; null when there is none."),
  view_results_url: optionalText.describe(
    "A unique, password-protected link to this result's questions and answers; sent only when turned on in the API settings, else null.",
  ),
  /** "Test" or "Survey" (a survey scores zero); newer, optional [3p]. `monitor_events` (proctoring) is kept in _sdc_extra. */
  test_type: optionalText.describe('"Test" or "Survey" (a survey scores zero); null where not sent (a newer field).'),
};

const DAY_MS = 86_400_000;

/** `results[*].result`, each with `test_name` from the same response's `tests` block [doc: recent results]. */
export function resultsWithTestNames(body: unknown): readonly unknown[] {
  const envelope = (body ?? {}) as { results?: unknown; tests?: unknown };
  const names = new Map<string, unknown>();
  for (const entry of Array.isArray(envelope.tests) ? envelope.tests : []) {
    const test = (entry as { test?: { test_id?: unknown; test_name?: unknown } } | null)?.test;
    if (test && test.test_id !== undefined) names.set(String(test.test_id), test.test_name);
  }
  const results = Array.isArray(envelope.results) ? envelope.results : [];
  return results.map((entry) => {
    const result = (entry as { result?: unknown } | null)?.result;
    if (typeof result !== 'object' || result === null) return result;
    const record = result as Record<string, unknown>;
    return 'test_name' in record || !names.has(String(record.test_id))
      ? record
      : { ...record, test_name: names.get(String(record.test_id)) };
  });
}

/** Run-wide notes, so a warning is logged once per run (keyed by the run's HTTP client). */
const warnedOldPending = new WeakSet<object>();

/**
 * Adds duration_seconds next to the vendor's "HH:MM:SS" duration, and warns (once a run) when a
 * result still awaits grading after the hold: the bookmark moves past it, so its final score is
 * only read if it is re-sent (re-opened) or the stream is re-read from an earlier start_date.
 */
export function resultTransform(raw: Record<string, unknown>, ctx: StreamContext<ClassMarkerConfig>) {
  const holdDays = ctx.config.grading_hold_days;
  if (isAwaitingGrading(raw.requires_grading) && !warnedOldPending.has(ctx.http)) {
    const finished = Number(String(raw.time_finished)) * 1000;
    if (Number.isFinite(finished) && Date.now() - finished > holdDays * DAY_MS) {
      warnedOldPending.add(ctx.http);
      ctx.log.warn(
        `stream ${ctx.stream}: a result finished ${new Date(finished).toISOString()} still requires grading after ${holdDays} days; the bookmark no longer waits for it (grading_hold_days), so a later grade reaches the warehouse only if the result is re-opened or re-read from an earlier start_date.`,
      );
    }
  }
  return { ...raw, duration_seconds: raw.duration };
}

const isAwaitingGrading = (value: unknown) => ['yes', 'y', 'true', '1'].includes(String(value).trim().toLowerCase());

/**
 * How group and link results are read incrementally: oldest first on time_finished, "finished after"
 * is strict (so the kit re-reads the boundary second), one bookmark per configured pair.
 *
 * Two kinds of change keep time_finished, so reading forward from the bookmark alone would miss them
 * (docs/providers/classmarker.md, "Regrading"):
 * - A result that still requires grading gets its score when a teacher marks it: it is pending, so
 *   the bookmark waits at it and every run re-reads it until it is graded, for at most
 *   `grading_hold_days` (default 14) after it finished (then a warning, and the bookmark moves on: an
 *   essay never marked must not make every run re-read weeks of results within 30 requests an hour).
 * - An administrator edits the points of a graded result: every run re-reads the last `lookback_days`
 *   (default 2) before the bookmark, the window in which such edits are caught; older edits are not.
 */
export const recentResultsIncremental = {
  cursor: 'time_finished',
  sorted: true,
  send: { query: 'finishedAfterTimestamp', format: 'unix', exclusive: true },
  lookback: (config) => (config.lookback_days > 0 ? `${config.lookback_days}d` : undefined),
  pending: (result, config) =>
    result.requires_grading && Date.now() - Date.parse(result.time_finished) <= config.grading_hold_days * DAY_MS,
  // "It can only be within the last 3 months" [doc]: calendar months (inferred), less a day for
  // ClassMarker's clock and its own time zone's month arithmetic (inferred), so the first request of
  // a run never meets finishedAfterTimestampTooEarly.
  maxLookback: '3mo',
  maxLookbackMargin: '1d',
  partitioned: true,
} satisfies IncrementalSettings<{ requires_grading: boolean; time_finished: string }, ClassMarkerConfig>;
