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
        // Only the admin attempts API sends name and email (providers.md §2.7).
        candidate_name: `NULLIF(trim(${r.text('name')}), '')`,
        email: r.text('email'),
        score: r.number('score'),
        max_score: maxScore(r, e!),
        percentage: r.number('percentage'),
        // Only the admin API sends `result` (Pass / Fail / Not taken → NULL).
        passed: r.boolean('result'),
        started_at: r.timestamp('date'),
        // Testpress sends no end time: start + time taken, for completed attempts (inferred).
        finished_at: `CASE WHEN ${r.text('state')} = 'Completed' THEN to_timestamp(EXTRACT(EPOCH FROM ${r.timestamp('date')}) + ${r.number('time_taken_seconds')}) END`,
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
 * negative_marks). Unknown (NULL) when the exam varies marks per question.
 */
function maxScore(r: Columns, e: Columns): string {
  return `CASE WHEN ${e.boolean('variable_mark_per_question')} IS NOT TRUE THEN ${r.number('total_questions')} * ${e.number('mark_per_question')} END`;
}
