// `exams`: the exams the account can list, full table (optionally filtered by course and state).
import { nextUrlPaging } from '@tapline/http';
import { coerce } from '@tapline/tap-kit';
import { z } from 'zod';
import { API, testpress } from '../api.js';

export const exams = testpress.stream({
  name: 'exams',
  description: 'Exams (GET /api/v2.1/exams/), paginated through `next`.',
  path: `${API}/exams/`,
  query: ({ config }) => ({ course: config.course, state: config.exam_state }),
  key: ['id'],
  // Exams can be deleted (or hidden from the account) in Testpress: ACTIVATE_VERSION lets the target
  // drop or mark them. With `course` / `exam_state` set, the table mirrors that filtered list. Pages
  // are numbered, so an exam deleted mid-run shifts a live one past us: the DRF `count` every page
  // reports tells the kit whether the listing was whole, and ACTIVATE_VERSION waits for one that was.
  activateVersion: true,
  pagination: nextUrlPaging({ total: 'count' }),
  transform: (raw: Record<string, unknown>) => ({ ...raw, duration_seconds: raw.duration }),
  record: z.object({
    id: coerce.integer().describe("Testpress's exam id."),
    slug: coerce.text().describe("The exam's unique slug, which names it in API paths (/exams/<slug>/)."),
    title: coerce.text().describe("The exam's title."),
    description: coerce.emptyAsNull(coerce.text()).optional().describe("The exam's description; null when blank."),
    course: coerce.emptyAsNull(coerce.text()).optional().describe('The name of the course the exam is in; null when blank.'),
    start_date: coerce
      .emptyAsNull(coerce.isoDateTime())
      .optional()
      .describe("When the exam opens (sent with the institute's offset, e.g. +05:30)."),
    end_date: coerce.emptyAsNull(coerce.isoDateTime()).optional().describe('When the exam closes; null when it does not.'),
    duration: coerce.emptyAsNull(coerce.text()).optional().describe('The time allowed, as sent: H:MM:SS.'),
    duration_seconds: coerce.emptyAsNull(coerce.secondsFromDuration()).describe('`duration` in seconds.'),
    number_of_questions: coerce.emptyAsNull(coerce.integer()).optional().describe('How many questions the exam has.'),
    negative_marks: coerce
      .emptyAsNull(coerce.decimal())
      .optional()
      .describe('The negative marks for a wrong answer, exact (sent as a decimal string, "0.00").'),
    mark_per_question: coerce
      .emptyAsNull(coerce.decimal())
      .optional()
      .describe('The marks for each question, exact (sent as a decimal string, "1.00").'),
    template_type: coerce
      .emptyAsNull(coerce.integer())
      .optional()
      .describe("Testpress's template type code, as sent (the codes are not documented)."),
    allow_retake: coerce.emptyAsNull(coerce.boolean()).optional().describe('Whether a student may take the exam again.'),
    max_retakes: coerce.emptyAsNull(coerce.integer()).optional().describe('How many retakes are allowed; null when not set.'),
    enable_ranks: coerce.emptyAsNull(coerce.boolean()).optional().describe('Whether the exam ranks its attempts.'),
    rank_publishing_date: coerce.emptyAsNull(coerce.isoDateTime()).optional().describe('When ranks are published; null when not set.'),
    attempts_url: z.string().optional().describe('API URL of the exam’s attempts list (read when attempts_source is "exam").'),
    allow_pdf: coerce.emptyAsNull(coerce.boolean()).optional().describe("Testpress's allow_pdf flag, as sent (not documented further)."),
    created: coerce.emptyAsNull(coerce.isoDateTime()).optional().describe('When the exam was created.'),
    variable_mark_per_question: coerce
      .emptyAsNull(coerce.boolean())
      .optional()
      .describe(
        "Testpress's variable_mark_per_question flag (not documented; inferred: questions carry marks of their own, not mark_per_question).",
      ),
    show_answers: coerce
      .emptyAsNull(coerce.boolean())
      .optional()
      .describe("Testpress's show_answers flag, as sent (not documented further)."),
    comments_count: coerce.emptyAsNull(coerce.integer()).optional().describe('How many comments the exam has.'),
    url: z.string().optional().describe('API URL of the exam.'),
    // Sent by the current API (Testpress's SDK model; docs/providers/testpress.md, "Exams").
    pass_percentage: coerce.emptyAsNull(coerce.decimal()).optional().describe('The percentage needed to pass, exact; current API only.'),
    show_score: z.boolean().nullable().optional().describe('Whether students are shown their score; current API only.'),
    show_percentile: z.boolean().nullable().optional().describe('Whether students are shown their percentile; current API only.'),
    total_marks: coerce.emptyAsNull(coerce.decimal()).optional().describe('The most marks the exam gives, exact; current API only.'),
    exam_data_modified_on: coerce
      .emptyAsNull(coerce.isoDateTime())
      .optional()
      .describe("When the exam's content last changed; current API only."),
    attempts_count: coerce
      .emptyAsNull(coerce.integer())
      .optional()
      .describe('How many attempts the exam has, as the API counts them for the account; current API only.'),
    paused_attempts_count: coerce
      .emptyAsNull(coerce.integer())
      .optional()
      .describe('How many of those attempts are paused; current API only.'),
  }),
});
