// CBTHost → unified exam model: results carry only pass codes, a test id and a total score.
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
        // One owner's exams share a test id (often the owner's e-mail; docs/providers/cbthost.md): an exam
        // is the pass code its results were read through; a result read one by one names no exam pass
        // code, so its test id stands in.
        exam_id: `COALESCE(${r.text('exam_pass_code')}, ${r.text('cbt_test_id')})`,
        // Only results read one by one carry cbt_test_info; else the test id names the exam.
        exam_title: `COALESCE(${r.text('cbt_test_info')}, ${r.text('cbt_test_id')})`,
        // The student's pass code is the only candidate identity CBTHost gives.
        candidate_id: r.text('cbt_pass_code'),
        candidate_name: 'CAST(NULL AS VARCHAR)',
        email: 'CAST(NULL AS VARCHAR)',
        score: r.number('cbt_total_score'),
        // CBTHost sends no maximum or pass mark: the project's `exams` settings may state them.
        max_score: NULL_NUMBER,
        percentage: NULL_NUMBER,
        passed: 'CAST(NULL AS BOOLEAN)',
        started_at: NULL_TIME,
        finished_at: NULL_TIME,
        duration_seconds: NULL_NUMBER,
        // A scored result is finished (inferred); one sent without a score says nothing about its state.
        status: `CASE WHEN ${r.number('cbt_total_score')} IS NULL THEN CAST(NULL AS VARCHAR) ELSE 'finished' END`,
        source_key: `'result:' || ${r.text('cbt_test_id')} || ':' || ${r.text('cbt_pass_code')}`,
      }),
    },
  ],
  exams: [],
};
