// `results`: every configured exam's results (mass endpoint) and every configured single result, full table.
import { coerce } from '@tapline/tap-kit';
import { z } from 'zod';
import { cbthost, requestFor, type ResultTarget } from '../api.js';

export const results = cbthost.stream({
  name: 'results',
  description: 'Exam scores: one row per student pass code and test. Rows removed upstream are removed downstream (ACTIVATE_VERSION).',
  path: '/api/result/{pass_code}',
  // One partition per exam pass code (mass endpoint), then one per configured single result.
  partitions: (config) => [
    ...config.pass_codes.map((pass_code) => ({ pass_code, test_id: null })),
    ...config.results.map((result) => ({ pass_code: result.pass_code, test_id: result.test_id })),
  ],
  request: (request, { context, config }) => requestFor(request, context as ResultTarget, config),
  key: ['cbt_pass_code', 'cbt_test_id'],
  activateVersion: true,
  record: z.object({
    cbt_pass_code: coerce.text().describe("The student's pass code."),
    cbt_test_id: coerce.text().describe('The test identifier.'),
    cbt_total_score: coerce.emptyAsNull(coerce.decimal()).describe('The total score, exact; null when none was sent.'),
    // Only the single endpoint sends it (cbthost-api.txt).
    cbt_test_info: coerce.text().nullable().optional().describe('Test information; only present for results read one by one.'),
  }),
});
