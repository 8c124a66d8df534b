// Testpress → unified exam model: attempts, titles and marks from exams.
import type { Columns } from './columns.js';
import type { ProviderModel } from './mapping.js';

export const testpressModel: ProviderModel = {
  provider: 'testpress',
  results: [
    {
      table: 'attempts',
      key: ['id'],
      lookups: [{ alias: 'e', table: 'exams', on: (r, e) => `${e.text('id')} = ${r.text('exam_id')}` }],
      map: (r, { e }) => ({
        exam_id: r.text('exam_id'),
        exam_title: e!.text('title'),
        // The per-exam list sends `user` as an object (the tap keeps its id); the admin API user_id.
        candidate_id: `COALESCE(${r.text('user_id')}, ${r.text('username')})`,
        candidate_name: `NULLIF(trim(${r.text('name')}), '')`,
        // Only the admin attempts API sends email (docs/providers/testpress.md, "Admin attempts"); blank is NULL.
        email: `NULLIF(trim(${r.text('email')}), '')`,
        score: r.number('score'),
        max_score: maxScore(r, e!),
        percentage: r.number('percentage'),
        // Only the admin API sends `result` (Pass / Fail / Not taken → NULL).
        passed: r.boolean('result'),
        started_at: r.timestamp('date'),
        finished_at: finishedAt(r),
        duration_seconds: r.number('time_taken_seconds'),
        status: `CASE ${r.text('state')} WHEN 'Completed' THEN 'finished' WHEN 'Running' THEN 'in_progress' ELSE lower(${r.text('state')}) END`,
        source_key: `'attempt:' || ${r.text('id')}`,
      }),
    },
  ],
  exams: [{ table: 'exams', map: (e) => ({ exam_id: e.text('id'), exam_title: e.text('title') }) }],
};

/**
 * Questions × marks per question, as Testpress scores (testpress-api.md: mark_per_question,
 * negative_marks). Unknown (NULL) when the exam varies marks per question. The admin API sends no
 * total_questions: the exam's number_of_questions stands in.
 */
function maxScore(r: Columns, e: Columns): string {
  const questions = `COALESCE(${r.number('total_questions')}, ${e.number('number_of_questions')})`;
  return `CASE WHEN ${e.boolean('variable_mark_per_question')} IS NOT TRUE THEN ${questions} * ${e.number('mark_per_question')} END`;
}

/**
 * When a completed attempt ended. Testpress sends no end time, and `date` is the first start: an
 * attempt resumed days later (the document's own sample, 14 days) ends days after date + time taken.
 * The admin API's `last_answer_updated_time` is taken as the end (inferred); without it (the per-exam
 * list) the end is at least the last resume, and date + time taken for an attempt never resumed
 * (docs/providers/testpress.md, "Attempts resumed later").
 */
function finishedAt(r: Columns): string {
  const started = r.timestamp('date');
  const byTimeTaken = `to_timestamp(EXTRACT(EPOCH FROM ${started}) + ${r.number('time_taken_seconds')})`;
  const lastStarted = r.timestamp('last_started_time');
  const estimate = `CASE WHEN ${lastStarted} > ${byTimeTaken} THEN ${lastStarted} ELSE ${byTimeTaken} END`;
  return `CASE WHEN ${r.text('state')} = 'Completed' THEN COALESCE(${r.timestamp('last_answer_updated_time')}, ${estimate}) END`;
}
