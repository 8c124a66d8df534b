// The `onlineexammaker-simulator` bin: serves a seeded OnlineExamMaker API and prints a ready-to-use tap config.
import { parseErrorAnswers, runSimulatorCli } from '@tapline/simulator-kit';
import { checkVariant, startOemSimulator } from './index.js';

await runSimulatorCli({
  name: 'onlineexammaker-simulator',
  description: 'A local OnlineExamMaker API (legacy index.php tasks and the v1 API) with seeded data.',
  flags: {
    exams: { type: 'number', description: 'number of exams', default: 8 },
    'results-per-exam': { type: 'number', description: 'mean results per exam', default: 60 },
    'max-limit': { type: 'number', description: 'largest page served', default: 100 },
    'no-v1': { type: 'boolean', description: 'refuse the v1 API (a non-premium account)', default: false },
    'with-status': { type: 'boolean', description: 'variant: the every-candidate answer carries status (0-4)', default: false },
    passed: {
      type: 'string',
      description: 'variant: the every-candidate answer carries passed as boolean, number (1/0), string ("1"/"0") or text ("true"/"false")',
      default: 'absent',
    },
    'with-tid': { type: 'boolean', description: 'variant: both APIs send tid, the attempt id', default: false },
    strings: { type: 'boolean', description: 'variant: every value of the legacy answer is a string', default: false },
    'one-candidate-shape': {
      type: 'boolean',
      description: "variant: answer the every-candidate request in the document's one-candidate shape (status, no sid, no name)",
      default: false,
    },
    'error-answer': {
      type: 'string',
      description:
        'serve an error answer until cleared: SHAPE[@ROUTE][,...]; shapes exam-not-found-200, account-error-200, msg-error-200, server-error-200, false-200, null, html',
    },
    anchor: { type: 'number', description: 'UNIX seconds the seeded data is generated around (default: now, floored to the hour)' },
  },
  start: ({ port, host, seed, faults, flags }) =>
    startOemSimulator({
      port,
      host,
      seed,
      faults,
      exams: Number(flags.exams),
      resultsPerExam: Number(flags['results-per-exam']),
      maxLimit: Number(flags['max-limit']),
      v1Enabled: flags['no-v1'] !== true,
      variant: checkVariant({
        status: flags['with-status'] === true,
        passed: flags.passed,
        tid: flags['with-tid'] === true,
        strings: flags.strings === true,
        oneCandidateShape: flags['one-candidate-shape'] === true,
      }),
      errorAnswers: parseErrorAnswers(flags['error-answer'] as string | undefined),
      // Same seed + anchor = same data (the demo anchors its runs, so a rerun loads nothing new).
      anchor: flags.anchor === undefined ? undefined : Number(flags.anchor) * 1000,
    }),
});
