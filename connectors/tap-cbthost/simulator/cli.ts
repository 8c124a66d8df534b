// The `cbthost-simulator` bin: serves a seeded CBTHost API and prints a ready-to-use tap config.
import { parseErrorAnswers, runSimulatorCli } from '@tapline/simulator-kit';
import { startCbthostSimulator } from './index.js';

await runSimulatorCli({
  name: 'cbthost-simulator',
  description: 'A local CBTHost results API (single and mass endpoints) with seeded data.',
  flags: {
    tests: { type: 'number', description: 'number of exams (tests)', default: 6 },
    'students-per-test': { type: 'number', description: 'mean results per exam', default: 40 },
    'shared-test-id': { type: 'boolean', description: "variant: every exam has one owner, whose e-mail is every exam's test id", default: false },
    'null-scores': { type: 'boolean', description: 'variant: some results are sent with cbt_total_score null', default: false },
    'error-answer': {
      type: 'string',
      description: 'serve an error answer until cleared: SHAPE[@ROUTE][,...]; shapes no-results-200, invalid-pass-code-200, missing-headers-200, unauthorized-200, server-error-200, null, html',
    },
  },
  start: ({ port, host, seed, faults, flags }) =>
    startCbthostSimulator({
      port,
      host,
      seed,
      faults,
      tests: Number(flags.tests),
      studentsPerTest: Number(flags['students-per-test']),
      sharedTestId: flags['shared-test-id'] === true,
      nullScores: flags['null-scores'] === true,
      errorAnswers: parseErrorAnswers(flags['error-answer'] as string | undefined),
    }),
});
