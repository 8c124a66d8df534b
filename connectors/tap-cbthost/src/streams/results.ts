// `results`: every configured exam's results (mass endpoint) and every configured single result, full table.
import { coerce } from '@tapline/tap-kit';
import { z } from 'zod';
import { cbthost, classifyFor, endpointFor, type ResultTarget } from '../api.js';

/**
 * What this run has read of each result (student pass code + test id), both ways: the exam pass code a
 * mass read went through, and the `cbt_test_info` only a single read sends. Per run (keyed by the run's
 * HTTP client), so a result configured both ways (its exam in `pass_codes`, itself in `results`) lands,
 * whichever read comes last, with both: the later record carries what the earlier one knew.
 */
interface ReadBothWays {
  examPassCode: Map<string, string>;
  testInfo: Map<string, unknown>;
}
const readThisRun = new WeakMap<object, ReadBothWays>();

function readBothWays(http: object): ReadBothWays {
  let seen = readThisRun.get(http);
  if (seen === undefined) {
    seen = { examPassCode: new Map(), testInfo: new Map() };
    readThisRun.set(http, seen);
  }
  return seen;
}

/** One row's fields from its read: `exam_pass_code` from a mass read (or an earlier one this run), `cbt_test_info` from a single read (or an earlier one). */
function withBothReads(raw: Record<string, unknown>, target: ResultTarget, seen: ReadBothWays): Record<string, unknown> {
  const key = `${String(raw.cbt_pass_code)}\n${String(raw.cbt_test_id)}`;
  if (target.test_id === null) {
    seen.examPassCode.set(key, target.pass_code);
    const info = raw.cbt_test_info === undefined && seen.testInfo.has(key) ? { cbt_test_info: seen.testInfo.get(key) } : {};
    return { ...raw, ...info, exam_pass_code: target.pass_code };
  }
  if (raw.cbt_test_info !== undefined) seen.testInfo.set(key, raw.cbt_test_info);
  return { ...raw, exam_pass_code: seen.examPassCode.get(key) ?? null };
}

export const results = cbthost.stream({
  name: 'results',
  description: 'Exam scores: one row per student pass code and test. Rows removed upstream are removed downstream (ACTIVATE_VERSION).',
  path: '/api/result/{pass_code}',
  // One partition per exam pass code (mass endpoint), then one per configured single result.
  partitions: (config) => [
    ...config.pass_codes.map((pass_code) => ({ pass_code, test_id: null })),
    ...config.results.map((result) => ({ pass_code: result.pass_code, test_id: result.test_id })),
  ],
  endpoint: ({ context }) => endpointFor(context as ResultTarget),
  classify: ({ context, config }) => classifyFor(context as ResultTarget, config),
  // The student's pass code is unique to one sitting of one exam (docs/providers/cbthost.md), so this key
  // holds across exams that share a test id; the exam's own pass code is a column, not part of the key.
  key: ['cbt_pass_code', 'cbt_test_id'],
  activateVersion: true,
  // Exams of one owner share one test id (the document's example is the owner's e-mail): the pass code
  // a mass read went through is what tells them apart, so it lands with each row, also when the same
  // result is read one by one too (see withBothReads).
  transform: (raw: Record<string, unknown>, { context, http }) => withBothReads(raw, context as ResultTarget, readBothWays(http)),
  record: z.object({
    cbt_pass_code: coerce.text().describe("The student's pass code."),
    cbt_test_id: coerce.text().describe('The test identifier (often the exam owner’s e-mail, shared by their exams).'),
    cbt_total_score: coerce.emptyAsNull(coerce.decimal()).describe('The total score, exact; null when CBTHost sends none.'),
    // Only the single endpoint sends it (docs/providers/cbthost.md).
    cbt_test_info: coerce.text().nullable().optional().describe('Test information; only present for results read one by one.'),
    exam_pass_code: z
      .string()
      .nullable()
      .describe(
        'The exam pass code (from pass_codes) this row was read through; null for a result read only one by one (results), whose exam the API does not name.',
      ),
  }),
});
