// `attempts`: every attempt of each exam, incremental on `date` with a bookmark per exam.
import { nextUrlPaging } from '@tapline/http';
import { coerce, type StreamContext } from '@tapline/tap-kit';
import { z } from 'zod';
import { adminOnly, skipDeletedExam, skipForbiddenExam, type TestpressConfig, testpress } from '../api.js';
import { exams } from './exams.js';

const DAY_MS = 86_400_000;

/** `display_name`, else "first last", from the exam list's `user` object; null when it names nobody. */
function candidateName(user: Record<string, unknown> | undefined): string | null {
  if (user === undefined) return null;
  if (typeof user.display_name === 'string' && user.display_name.trim() !== '') return user.display_name;
  const parts = [user.first_name, user.last_name].filter((part): part is string => typeof part === 'string' && part.trim() !== '');
  return parts.length > 0 ? parts.join(' ') : null;
}

/**
 * The admin API's state codes (its `state` filter: 0 running, 1 completed, 3 not started;
 * docs/providers/testpress.md, "Admin attempts"), by their words. The exam webhook says "started".
 */
const STATE_WORDS: Record<number, string> = { 0: 'Running', 1: 'Completed', 3: 'Not Started' };
const STATE_CODES: Record<string, number> = { running: 0, started: 0, completed: 1, 'not started': 3 };

/**
 * `state` in every spelling Testpress uses: "Running" / "Completed" (any case), the codes 0 / 1 / 3
 * as numbers or strings. Lossless: `state` is the word (a code without one keeps its digits, a word
 * without a code is kept as sent), `state_code` the code (null for a word without one).
 */
export function attemptState(value: unknown): { state: unknown; state_code: number | null } {
  const text = typeof value === 'number' || typeof value === 'string' ? String(value).trim() : undefined;
  if (text === undefined || text === '') return { state: value, state_code: null };
  if (/^\d+$/.test(text)) return { state: STATE_WORDS[Number(text)] ?? text, state_code: Number(text) };
  const code = STATE_CODES[text.toLowerCase().replace(/[\s_]+/g, ' ')];
  return code === undefined ? { state: value, state_code: null } : { state: STATE_WORDS[code], state_code: code };
}

/** Runs already told that the exam source may list only the account's own attempts (keyed by the run's HTTP client). */
const warnedCallerOnly = new WeakSet<object>();
const notedOthers = new WeakSet<object>();

/**
 * Testpress documents each exam's attempts list as the caller's own attempts (docs/providers/testpress.md,
 * "Attempts"): said once a run, so a run that reads few or no attempts is never silent about why.
 */
function warnCallerOnly(ctx: StreamContext<TestpressConfig>): void {
  if (warnedCallerOnly.has(ctx.http)) return;
  warnedCallerOnly.add(ctx.http);
  ctx.log.warn(
    `stream attempts: attempts_source is "exam": each exam's attempts list is documented as the attempts of the logged-in account (${ctx.config.username}) only, so other students' attempts are read only where your Testpress lists them to this account; set attempts_source to "admin" (the default, with a staff account) to read every student's attempts.`,
  );
}

/** Says (once a run) when an exam's list holds someone else's attempt: this deployment's list is not caller-only. */
function noteAttemptOwner(ctx: StreamContext<TestpressConfig>, username: unknown): void {
  if (username !== undefined && username !== null && username !== ctx.config.username && !notedOthers.has(ctx.http)) {
    notedOthers.add(ctx.http);
    ctx.log.info(
      `stream attempts: the exam's attempts list holds other students' attempts too (e.g. ${String(username)}'s); this account sees more than its own.`,
    );
  }
}

export const attempts = testpress.stream({
  name: 'attempts',
  description:
    'Attempts per exam: every student’s, from the admin attempts API filtered by start date (default), or the exam’s attempts_url.',
  // Per exam: the admin API filtered by exam id, or the exam's attempts_url (docs/providers/testpress.md,
  // "Endpoints the tap reads"); the state keeps the exam id, not the URL.
  parent: exams.each((exam) => ({ exam_id: exam.id }), { follow: 'attempts_url' }),
  endpoint: (ctx) => {
    const { config, context, start } = ctx;
    if (config.attempts_source === 'exam') {
      warnCallerOnly(ctx);
      return undefined;
    }
    // date_0 is a calendar day in the server's time zone (IST for Testpress, inferred): start a day early.
    const day = start === undefined ? undefined : new Date(Date.parse(String(start)) - DAY_MS).toISOString().slice(0, 10);
    return { path: '/api/v2.5/admin/attempts/', query: { exams: context.exam_id, ordering: '-date', date_0: day } };
  },
  classify: ({ config, context }) => {
    if (config.attempts_source !== 'exam') return adminOnly;
    const deleted = skipDeletedExam(context.exam_id);
    return (input) => skipForbiddenExam(input) ?? deleted(input);
  },
  key: ['id'],
  // `date` is when the attempt started and never changes; a Running attempt may be resumed days or
  // weeks later (testpress-api.md's attempts were last started up to 14 days after their date), so it
  // is pending: the exam's bookmark stays at its date until it reads Completed. The day of look-back
  // is a margin for attempts listed late (inferred). Newest first: asked for on the admin API
  // (`ordering=-date`), inferred for the exam's list (the kit reads every page of a list that turns
  // out otherwise), so a run stops paging past the start.
  incremental: { cursor: 'date', sorted: 'desc', partitioned: true, lookback: '1d', pending: (attempt) => attempt.state === 'Running' },
  // DRF's `count` on every page: an attempt deleted between two pages slides the next one onto the
  // page already read, and a count that went down keeps the exam's bookmark so the next run reads it.
  pagination: nextUrlPaging({ total: 'count' }),
  // The exam list's spellings of correct_count / incorrect_count, read into those: not kept again in _sdc_extra.
  consumes: ['correct_answers_count', 'incorrect_answers_count'],
  // biome-ignore lint/suspicious/noExplicitAny: the raw vendor record is read leniently field by field
  transform: (raw: Record<string, any>, ctx) => {
    const user = typeof raw.user === 'object' && raw.user !== null ? raw.user : undefined;
    if (ctx.config.attempts_source === 'exam') noteAttemptOwner(ctx, user?.username ?? raw.user);
    return {
      ...raw,
      // "Running" or 0 alike (docs/providers/testpress.md, "Variants"), so `pending` holds for both.
      ...attemptState(raw.state),
      // The exam list sends `user` as an object; the admin API sends user_id/email/name (docs/providers/testpress.md, "Attempts", "Admin attempts").
      user_id: raw.user_id ?? user?.id ?? null,
      username: user?.username ?? (typeof raw.user === 'string' ? raw.user : (raw.username ?? null)),
      // The candidate's name: the admin API sends `name`; the exam's list sends `user.display_name`
      // (else first and last name) (docs/providers/testpress.md, "Attempts").
      name: raw.name ?? candidateName(user),
      correct_count: raw.correct_count ?? raw.correct_answers_count,
      incorrect_count: raw.incorrect_count ?? raw.incorrect_answers_count,
      // `rank` is an int or "NA" (testpress-api.md).
      rank: raw.rank === 'NA' ? null : raw.rank,
      // "H:MM:SS", with microseconds ("2:47:53.076906") or bare "0.00" (docs/providers/testpress.md, "Variants").
      time_taken_seconds: raw.time_taken,
      remaining_time_seconds: raw.remaining_time,
    };
  },
  record: z.object({
    id: coerce.integer().describe("Testpress's attempt id."),
    exam_id: coerce.integer().describe('The exam this attempt belongs to.'),
    date: coerce.isoDateTime().describe('When the attempt started; never changes. The incremental cursor (a bookmark per exam).'),
    state: coerce
      .text()
      .describe('"Running", "Completed" or "Not Started", also when sent as the admin code (0, 1, 3); an unknown code keeps its digits.'),
    state_code: coerce
      .emptyAsNull(coerce.integer())
      .describe('The admin API’s state code (0 running, 1 completed, 3 not started), from either spelling; null for a word without one.'),
    user_id: coerce.emptyAsNull(coerce.integer()).optional().describe("The student's user id (admin API `user_id`, exam list `user.id`)."),
    username: coerce
      .text()
      .nullable()
      .optional()
      .describe(
        "The student's username (exam list `user.username`, or `user` when sent as a string); null from the admin API, which does not send it.",
      ),
    email: coerce.emptyAsNull(coerce.text()).optional().describe("The student's e-mail; admin API only; a blank e-mail is null."),
    name: coerce
      .emptyAsNull(coerce.text())
      .optional()
      .describe('The candidate’s name (admin API `name`; exam list `user.display_name`, else first and last name).'),
    score: coerce.emptyAsNull(coerce.decimal()).optional().describe('The marks scored, exact (sent as a decimal string, "2.00").'),
    percentage: coerce
      .emptyAsNull(coerce.decimal())
      .optional()
      .describe('The percentage scored, exact (a string in the exam list, a number in the admin API).'),
    percentile: coerce
      .emptyAsNull(coerce.decimal())
      .optional()
      .describe("The attempt's percentile among the exam's attempts, exact (an integer or a fraction as sent); exam list only."),
    total_questions: coerce
      .emptyAsNull(coerce.integer())
      .optional()
      .describe('How many questions the attempt had; exam list only (the admin API does not send it).'),
    correct_count: coerce
      .emptyAsNull(coerce.integer())
      .optional()
      .describe('Questions answered correctly (exam list `correct_count`, admin API `correct_answers_count`).'),
    incorrect_count: coerce
      .emptyAsNull(coerce.integer())
      .optional()
      .describe('Questions answered wrongly (exam list `incorrect_count`, admin API `incorrect_answers_count`).'),
    unanswered_count: coerce.emptyAsNull(coerce.integer()).optional().describe('Questions left unanswered.'),
    time_taken: coerce.text().nullable().optional().describe('The time spent, as sent: H:MM:SS (the admin API may add microseconds).'),
    time_taken_seconds: coerce.emptyAsNull(coerce.secondsFromDuration()).describe('`time_taken` in seconds, fraction kept.'),
    remaining_time: coerce
      .text()
      .nullable()
      .optional()
      .describe('The time left, as sent: H:MM:SS, or "0.00" (chapter-content attempts); null when not sent.'),
    remaining_time_seconds: coerce.emptyAsNull(coerce.secondsFromDuration()).describe('`remaining_time` in seconds, fraction kept.'),
    last_started_time: coerce
      .emptyAsNull(coerce.isoDateTime())
      .optional()
      .describe('When the attempt was last started or resumed (days after `date` for a resumed attempt).'),
    rank: coerce.emptyAsNull(coerce.integer()).optional().describe('The attempt\'s rank in the exam; null when ranks are off ("NA").'),
    max_rank: coerce
      .emptyAsNull(coerce.integer())
      .optional()
      .describe("Testpress's max_rank, as sent (0 in the document's samples, whose ranks are off)."),
    result: coerce.text().nullable().optional().describe('Admin API only: Pass, Fail or Not taken.'),
    url: z.string().optional().describe('API URL of the attempt; exam list only.'),
    // Sent by the current API besides the fields the tap maps (docs/providers/testpress.md): kept as sent.
    last_answer_updated_time: coerce
      .emptyAsNull(coerce.isoDateTime())
      .optional()
      .describe('Admin API only: when the last answer was saved; the end of a completed attempt (inferred).'),
    phone: coerce.emptyAsNull(z.string()).optional().describe("The student's phone number; admin API only."),
    speed: coerce.emptyAsNull(coerce.decimal()).optional().describe("Testpress's speed figure, exact, as sent (not documented further)."),
    accuracy: coerce
      .emptyAsNull(coerce.decimal())
      .optional()
      .describe("Testpress's accuracy figure, exact, as sent (not documented further); exam list only."),
    exam_url: z.string().nullable().optional().describe("API URL of the attempt's exam; admin API only."),
    user_url: z.string().nullable().optional().describe('API URL of the student; admin API only.'),
    review_url: z.string().nullable().optional().describe("API URL of the attempt's review."),
    review_pdf_url: z.string().nullable().optional().describe("URL of the attempt's review as a PDF; exam list only."),
    questions_url: z.string().nullable().optional().describe("API URL of the attempt's questions."),
    rank_enabled: z.boolean().nullable().optional().describe('Whether ranks are on for the attempt; exam list only.'),
    commented_questions_count: coerce
      .emptyAsNull(coerce.integer())
      .optional()
      .describe("How many of the attempt's questions have comments; current API's exam list only."),
    comments_count: coerce
      .emptyAsNull(coerce.integer())
      .optional()
      .describe("How many comments the attempt has; current API's exam list only."),
    allow_retake: z.boolean().nullable().optional().describe("Whether the student may take the exam again; current API's exam list only."),
    remaining_attempts: coerce
      .emptyAsNull(coerce.integer())
      .optional()
      .describe("How many more attempts the student may make; current API's exam list only."),
    total_bonus: coerce
      .emptyAsNull(coerce.decimal())
      .optional()
      .describe("Bonus marks of the attempt, exact; current API's exam list only."),
  }),
});
