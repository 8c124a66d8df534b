// `tapline demo`: a second run resumes every pipeline and, its simulators serving the same data
// (anchored at the first run's moment), loads no new attempt.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo.js';
import { silentLogger } from '../src/log.js';
import { bundledSimulator, bundledTap, bundledTarget, PROVIDERS } from '../src/plugins.js';
import { duckdbRows, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

/** Small worlds, so two demos stay quick. */
const SMALL = {
  classmarker: ['--group-results', '20', '--link-results', '20'],
  testpress: ['--exams', '3', '--attempts-per-exam', '4'],
  onlineexammaker: ['--exams', '2', '--results-per-exam', '5'],
  cbthost: ['--tests', '4', '--students-per-test', '4'],
};

describe('tapline demo', () => {
  const ready = bundledTarget('duckdb') !== undefined && PROVIDERS.every((p) => bundledTap(p) && bundledSimulator(p));
  it.skipIf(!ready)(
    'run twice, loads the same attempts: the second run is incremental and finds nothing new',
    async () => {
      const counts = async () =>
        duckdbRows(
          path.join(dir, 'warehouse.duckdb'),
          `SELECT provider, count(*) AS attempts FROM main.exam_results GROUP BY provider ORDER BY provider`,
        );
      const demo = async () => {
        let out = '';
        const code = await runDemo({ cwd: dir, log: silentLogger, write: (text) => (out += text), simulatorFlags: SMALL });
        expect(code, out).toBe(0);
        return out;
      };
      await demo();
      const first = await counts();
      expect(first.map((r) => r.provider)).toEqual(['cbthost', 'classmarker', 'onlineexammaker', 'testpress']);
      // The world moves on between runs (a ClassMarker result keyed by its start time would come back as a new attempt).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await demo()).toContain('This run was incremental');
      expect(await counts()).toEqual(first);
    },
    180_000,
  );
});
