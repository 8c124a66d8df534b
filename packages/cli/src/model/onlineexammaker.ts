// OnlineExamMaker → unified exam model: results (no result id; exam + candidate + start is the key), titles from exams.
import { unixSeconds, type ProviderModel } from './mapping.js';

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
        // The API sends neither the points available nor a percentage (onlineexammaker-api.txt).
        max_score: 'CAST(NULL AS DOUBLE PRECISION)',
        percentage: 'CAST(NULL AS DOUBLE PRECISION)',
        // `passed` is 1/0 in the v1 API only; the legacy API has no verdict.
        passed: r.boolean('passed'),
        started_at: r.timestamp('start_time'),
        finished_at: r.timestamp('end_time'),
        duration_seconds: `CAST(EXTRACT(EPOCH FROM ${r.timestamp('end_time')}) - EXTRACT(EPOCH FROM ${r.timestamp('start_time')}) AS DOUBLE PRECISION)`,
        // 0 in progress, 1 submitted; 2–4 (timed out, forced by admin, submitted by system) in words.
        // The legacy API's every-candidate answer has no status (onlineexammaker-api.txt, section 2):
        // then a result without an end time is in progress and any other is finished.
        status: `CASE WHEN ${r.text('status')} IS NULL THEN CASE WHEN ${r.timestamp('end_time')} IS NULL THEN 'in_progress' ELSE 'finished' END WHEN ${r.text('status')} = '0' THEN 'in_progress' WHEN ${r.text('status')} = '1' THEN 'finished' ELSE ${r.text('status_meaning', 'status')} END`,
        source_key: `'result:' || ${r.text('eid')} || ':' || ${r.text('sid')} || ':' || ${unixSeconds(r.timestamp('start_time'))}`,
      }),
    },
  ],
  exams: [{ table: 'exams', map: (e) => ({ exam_id: e.text('eid'), exam_title: e.text('title') }) }],
};
