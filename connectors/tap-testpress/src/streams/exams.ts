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
    id: coerce.integer(),
    slug: coerce.text(),
    title: coerce.text(),
    description: coerce.emptyAsNull(coerce.text()).optional(),
    course: coerce.emptyAsNull(coerce.text()).optional(),
    start_date: coerce.emptyAsNull(coerce.isoDateTime()).optional(),
    end_date: coerce.emptyAsNull(coerce.isoDateTime()).optional(),
    duration: coerce.emptyAsNull(coerce.text()).optional().describe('As sent: H:MM:SS.'),
    duration_seconds: coerce.emptyAsNull(coerce.secondsFromDuration()).describe('`duration` in seconds.'),
    number_of_questions: coerce.emptyAsNull(coerce.integer()).optional(),
    negative_marks: coerce.emptyAsNull(coerce.decimal()).optional(),
    mark_per_question: coerce.emptyAsNull(coerce.decimal()).optional(),
    template_type: coerce.emptyAsNull(coerce.integer()).optional(),
    allow_retake: coerce.emptyAsNull(coerce.boolean()).optional(),
    max_retakes: coerce.emptyAsNull(coerce.integer()).optional(),
    enable_ranks: coerce.emptyAsNull(coerce.boolean()).optional(),
    rank_publishing_date: coerce.emptyAsNull(coerce.isoDateTime()).optional(),
    attempts_url: z.string().optional(),
    allow_pdf: coerce.emptyAsNull(coerce.boolean()).optional(),
    created: coerce.emptyAsNull(coerce.isoDateTime()).optional(),
    variable_mark_per_question: coerce.emptyAsNull(coerce.boolean()).optional(),
    show_answers: coerce.emptyAsNull(coerce.boolean()).optional(),
    comments_count: coerce.emptyAsNull(coerce.integer()).optional(),
    url: z.string().optional(),
    // Sent by the current API (Testpress's SDK model; docs/providers/testpress.md, "Exams").
    pass_percentage: coerce.emptyAsNull(coerce.decimal()).optional(),
    show_score: z.boolean().nullable().optional(),
    show_percentile: z.boolean().nullable().optional(),
    total_marks: coerce.emptyAsNull(coerce.decimal()).optional(),
    exam_data_modified_on: coerce.emptyAsNull(coerce.isoDateTime()).optional(),
    attempts_count: coerce.emptyAsNull(coerce.integer()).optional(),
    paused_attempts_count: coerce.emptyAsNull(coerce.integer()).optional(),
  }),
});
