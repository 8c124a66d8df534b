// CBTHost → unified exam model: results carry only pass code, test id and total score.
import type { ProviderModel } from './mapping.js';

const NULL_NUMBER = 'CAST(NULL AS DOUBLE PRECISION)';
const NULL_TIME = 'CAST(NULL AS TIMESTAMPTZ)';

export const cbthostModel: ProviderModel = {
  provider: 'cbthost',
  results: [
    {
      table: 'results',
      key: ['cbt_pass_code', 'cbt_test_id'],
      map: (r) => ({
        exam_id: r.text('cbt_test_id'),
        // Only results read one by one carry cbt_test_info (cbthost-api.txt); else the test id names the exam.
        exam_title: `COALESCE(${r.text('cbt_test_info')}, ${r.text('cbt_test_id')})`,
        // The student's pass code is the only candidate identity CBTHost gives.
        candidate_id: r.text('cbt_pass_code'),
        candidate_name: 'CAST(NULL AS VARCHAR)',
        email: 'CAST(NULL AS VARCHAR)',
        score: r.number('cbt_total_score'),
        max_score: NULL_NUMBER,
        percentage: NULL_NUMBER,
        passed: 'CAST(NULL AS BOOLEAN)',
        started_at: NULL_TIME,
        finished_at: NULL_TIME,
        duration_seconds: NULL_NUMBER,
        // The API lists scored results only (inferred from cbthost-api.txt).
        status: `'finished'`,
        source_key: `'result:' || ${r.text('cbt_test_id')} || ':' || ${r.text('cbt_pass_code')}`,
      }),
    },
  ],
  exams: [],
};
