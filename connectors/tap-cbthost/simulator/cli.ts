// The `cbthost-simulator` bin: serves a seeded CBTHost API and prints a ready-to-use tap config.
import { parseErrorAnswers, runSimulatorCli } from '@tapline/simulator-kit';
import { type MassShape, startCbthostSimulator } from './index.js';

function massShapeOf(value: unknown): MassShape {
  if (value === 'none' || value === 'beside' || value === 'inside') return value;
  throw new Error('--mass-summary must be none, beside or inside');
}

await runSimulatorCli({
  name: 'cbthost-simulator',
  description: 'A local CBTHost results API (single and mass endpoints) with seeded data.',
  flags: {
    tests: { type: 'number', description: 'number of exams (tests)', default: 6 },
    'students-per-test': { type: 'number', description: 'mean results per exam', default: 40 },
    'shared-test-id': {
      type: 'boolean',
      description: "variant: every exam has one owner, whose e-mail is every exam's test id",
      default: false,
    },
    'null-scores': { type: 'boolean', description: 'variant: some results are sent with cbt_total_score null', default: false },
    'mass-summary': {
      type: 'string',
      description:
        'variant: where the mass answer puts its summary: none (the example), beside (data + summary) or inside (data: {students, summary})',
      default: 'none',
    },
    'error-answer': {
      type: 'string',
      description:
        'serve an error answer until cleared: SHAPE[@ROUTE][,...]; shapes no-results-200, invalid-pass-code-200, missing-headers-200, unauthorized-200, server-error-200, null, html',
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
      massShape: massShapeOf(flags['mass-summary']),
      errorAnswers: parseErrorAnswers(flags['error-answer'] as string | undefined),
    }),
});
