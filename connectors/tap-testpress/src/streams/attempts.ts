// `attempts`: every attempt of each exam, incremental on `date` with a bookmark per exam.
import { nextUrlPaging } from '@tapline/http';
import { coerce } from '@tapline/tap-kit';
import { z } from 'zod';
import { adminOnly, skipDeletedExam, skipForbiddenExam, testpress } from '../api.js';
import { exams } from './exams.js';

const DAY_MS = 86_400_000;

/** `display_name`, else "first last", from the exam list's `user` object; null when it names nobody. */
function candidateName(user: Record<string, unknown> | undefined): string | null {
  if (user === undefined) return null;
  if (typeof user.display_name === 'string' && user.display_name.trim() !== '') return user.display_name;
  const parts = [user.first_name, user.last_name].filter((part): part is string => typeof part === 'string' && part.trim() !== '');
  return parts.length > 0 ? parts.join(' ') : null;
}

export const attempts = testpress.stream({
  name: 'attempts',
  description: 'Attempts per exam: the exam’s attempts_url, or the admin attempts API filtered by start date.',
  // The exam's attempts_url (providers.md §2.6); the state keeps the exam id, not the URL.
  parent: exams.each((exam) => ({ exam_id: exam.id }), { follow: 'attempts_url' }),
  request: (request, { config, context, start }) => {
    if (config.attempts_source === 'exam') {
      const deleted = skipDeletedExam(context.exam_id);
      return { ...request, classify: (input) => skipForbiddenExam(input) ?? deleted(input) };
    }
    // date_0 is a calendar day in the server's time zone (IST for Testpress, inferred): start a day early.
    const day = start === undefined ? undefined : new Date(Date.parse(String(start)) - DAY_MS).toISOString().slice(0, 10);
    return {
      ...request,
      url: undefined,
      path: '/api/v2.5/admin/attempts/',
      endpoint: '/api/v2.5/admin/attempts/',
      query: { exams: context.exam_id, ordering: '-date', date_0: day },
      classify: adminOnly,
    };
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
  transform: (raw: Record<string, any>) => {
    const user = typeof raw.user === 'object' && raw.user !== null ? raw.user : undefined;
    return {
      ...raw,
      // The exam list sends `user` as an object; the admin API sends user_id/email/name (providers.md §2.6, §2.7).
      user_id: raw.user_id ?? user?.id ?? null,
      username: user?.username ?? (typeof raw.user === 'string' ? raw.user : raw.username ?? null),
      // The candidate's name: the admin API sends `name`; the exam's list sends `user.display_name`
      // (else first and last name) (providers.md §2.6).
      name: raw.name ?? candidateName(user),
      correct_count: raw.correct_count ?? raw.correct_answers_count,
      incorrect_count: raw.incorrect_count ?? raw.incorrect_answers_count,
      // `rank` is an int or "NA" (testpress-api.md).
      rank: raw.rank === 'NA' ? null : raw.rank,
      // "H:MM:SS", with microseconds ("2:47:53.076906") or bare "0.00" (providers.md §2.8).
      time_taken_seconds: raw.time_taken,
      remaining_time_seconds: raw.remaining_time,
    };
  },
  record: z.object({
    id: coerce.integer(),
    exam_id: coerce.integer().describe('The exam this attempt belongs to.'),
    date: coerce.isoDateTime().describe('When the attempt started.'),
    state: coerce.text().describe('"Running" or "Completed".'),
    user_id: coerce.emptyAsNull(coerce.integer()).optional(),
    username: coerce.text().nullable().optional(),
    email: coerce.emptyAsNull(coerce.text()).optional().describe('Admin API only; a blank e-mail is null.'),
    name: coerce.emptyAsNull(coerce.text()).optional().describe('The candidate’s name (admin API `name`; exam list `user.display_name`, else first and last name).'),
    score: coerce.emptyAsNull(coerce.decimal()).optional().describe('Exact (sent as a decimal string, "2.00").'),
    percentage: coerce.emptyAsNull(coerce.decimal()).optional().describe('Exact (a string in the exam list, a number in the admin API).'),
    percentile: coerce.emptyAsNull(coerce.decimal()).optional(),
    total_questions: coerce.emptyAsNull(coerce.integer()).optional(),
    correct_count: coerce.emptyAsNull(coerce.integer()).optional(),
    incorrect_count: coerce.emptyAsNull(coerce.integer()).optional(),
    unanswered_count: coerce.emptyAsNull(coerce.integer()).optional(),
    time_taken: coerce.text().nullable().optional().describe('As sent: H:MM:SS.'),
    time_taken_seconds: coerce.emptyAsNull(coerce.secondsFromDuration()).describe('`time_taken` in seconds, fraction kept.'),
    remaining_time: coerce.text().nullable().optional(),
    remaining_time_seconds: coerce.emptyAsNull(coerce.secondsFromDuration()),
    last_started_time: coerce.emptyAsNull(coerce.isoDateTime()).optional(),
    rank: coerce.emptyAsNull(coerce.integer()).optional().describe('null when ranks are off ("NA").'),
    max_rank: coerce.emptyAsNull(coerce.integer()).optional(),
    result: coerce.text().nullable().optional().describe('Admin API only: Pass, Fail or Not taken.'),
    url: z.string().optional(),
  }),
});
