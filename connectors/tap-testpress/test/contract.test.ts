// The shared tap contract suite, run against the Testpress simulator.
import { defineTapContract } from '@tapline/testing/tap-contract';
import { startTestpressSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

defineTapContract({
  tap,
  startSimulator: () => startTestpressSimulator({ seed: 1, exams: 8, attemptsPerExam: 10 }),
  // attempts re-read a day before their bookmark (the declared look-back).
  overlap: { attempts: 86_400_000 },
});
