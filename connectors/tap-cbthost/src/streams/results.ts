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
  // The student's pass code is unique to one sitting of one exam (docs/providers/cbthost.md), so this key
  // holds across exams that share a test id; the exam's own pass code is a column, not part of the key.
  key: ['cbt_pass_code', 'cbt_test_id'],
  activateVersion: true,
  // Exams of one owner share one test id (the document's example is the owner's e-mail): the pass code
  // a mass read went through is what tells them apart, so it lands with each row.
  transform: (raw: Record<string, unknown>, { context }) => ({
    ...raw,
    exam_pass_code: (context as ResultTarget).test_id === null ? (context as ResultTarget).pass_code : null,
  }),
  record: z.object({
    cbt_pass_code: coerce.text().describe("The student's pass code."),
    cbt_test_id: coerce.text().describe('The test identifier (often the exam owner’s e-mail, shared by their exams).'),
    cbt_total_score: coerce.emptyAsNull(coerce.decimal()).describe('The total score, exact; null when CBTHost sends none.'),
    // Only the single endpoint sends it (docs/providers/cbthost.md).
    cbt_test_info: coerce.text().nullable().optional().describe('Test information; only present for results read one by one.'),
    exam_pass_code: z
      .string()
      .nullable()
      .describe('The exam pass code (from pass_codes) this row was read through; null for a result read one by one (results), whose exam the API does not name.'),
  }),
});
