// OnlineExamMaker → unified exam model: results (keyed by exam + candidate + start), titles from exams.

import type { Columns } from './columns.js';
import { type ProviderModel, unixSeconds } from './mapping.js';

/**
 * Whether an attempt is still being answered: `status` 0 when the deployment sends a status code,
 * else (the document's answer has none; docs/providers/onlineexammaker.md) no end time yet.
 * Codes 1–4 are all submissions: normal, timed out, forced by an administrator, by the system.
 */
function inProgress(r: Columns): string {
  const status = r.text('status');
  return `(CASE WHEN ${status} IN ('1', '2', '3', '4') THEN FALSE WHEN ${status} = '0' THEN TRUE ELSE ${r.timestamp('end_time')} IS NULL END)`;
}

export const onlineexammakerModel: ProviderModel = {
  provider: 'onlineexammaker',
  results: [
    {
      table: 'results',
      key: ['eid', 'sid', 'start_time'],
      lookups: [{ alias: 'e', table: 'exams', on: (r, e) => `${e.text('eid')} = ${r.text('eid')}` }],
      map: (r, { e }) => ({
        exam_id: r.text('eid'),
        exam_title: e!.text('title'),
        candidate_id: r.text('sid'),
        candidate_name: r.text('name'),
        // loginValue (v1 API only) is the login the candidate used: an email when it looks like one.
        email: `CASE WHEN ${r.text('login_value')} LIKE '%@%' THEN ${r.text('login_value')} END`,
        score: r.number('score'),
        // The API sends neither the points available nor a percentage: the project's `exams` settings
        // may state them (filled by the model, marked `tapline.yml`).
        max_score: 'CAST(NULL AS DOUBLE PRECISION)',
        percentage: 'CAST(NULL AS DOUBLE PRECISION)',
        // Deployments that send `passed` judge it by the exam's own pass mark; no verdict while answering.
        passed: `CASE WHEN ${inProgress(r)} THEN CAST(NULL AS BOOLEAN) ELSE ${r.boolean('passed')} END`,
        started_at: r.timestamp('start_time'),
        finished_at: r.timestamp('end_time'),
        duration_seconds: `CAST(EXTRACT(EPOCH FROM ${r.timestamp('end_time')}) - EXTRACT(EPOCH FROM ${r.timestamp('start_time')}) AS DOUBLE PRECISION)`,
        // How a paper was submitted (timed out, forced, by the system) stays in results.status_meaning.
        status: `CASE WHEN ${inProgress(r)} THEN 'in_progress' ELSE 'finished' END`,
        source_key: `'result:' || ${r.text('eid')} || ':' || ${r.text('sid')} || ':' || ${unixSeconds(r.timestamp('start_time'))}`,
      }),
    },
  ],
  exams: [{ table: 'exams', map: (e) => ({ exam_id: e.text('eid'), exam_title: e.text('title') }) }],
};
