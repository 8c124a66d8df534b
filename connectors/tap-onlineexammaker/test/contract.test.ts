// The shared tap contract suite, run against the OnlineExamMaker simulator.
import { defineTapContract } from '@tapline/testing/tap-contract';
import { startOemSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

defineTapContract({
  tap,
  startSimulator: () => startOemSimulator({ seed: 1, exams: 5, resultsPerExam: 40 }),
  // results re-reads 2 hours behind each bookmark (its declared look-back).
  overlap: { results: 2 * 3_600_000 },
});
