// The `testpress-simulator` bin: serves a seeded Testpress API and prints a ready-to-use tap config.
import { parseErrorAnswers, runSimulatorCli } from '@tapline/simulator-kit';
import { startTestpressSimulator } from './index.js';

await runSimulatorCli({
  name: 'testpress-simulator',
  description: 'A local Testpress API (JWT auth, exams, attempts, admin attempts) with seeded data.',
  flags: {
    'token-ttl-seconds': { type: 'number', description: 'lifetime of issued JWTs', default: 300 },
    'expired-token-status': { type: 'number', description: 'status for an expired token: 401 or 403', default: 401 },
    exams: { type: 'number', description: 'number of exams', default: 25 },
    'attempts-per-exam': { type: 'number', description: 'mean attempts per opened exam', default: 30 },
    'per-page': { type: 'number', description: 'page size of the student lists', default: 20 },
    'throttle-per-minute': { type: 'number', description: 'requests allowed per minute (0 = unlimited)', default: 0 },
    'error-answer': {
      type: 'string',
      description:
        'serve an error answer until cleared: SHAPE[@ROUTE][,...]; shapes not-found-200, permission-denied-200, field-errors-200, null, html',
    },
    anchor: { type: 'number', description: 'UNIX seconds the seeded data is generated around (default: now, floored to the hour)' },
    'exam-attempts': {
      type: 'string',
      description: "whose attempts an exam's list holds for staff: everyone or caller (the document's reading)",
      default: 'everyone',
    },
    'resumed-share': { type: 'number', description: 'share of completed attempts resumed 1-20 days after their start', default: 0.1 },
    'v21-fields-only': { type: 'boolean', description: 'serve only the fields of the 2015 v2.1 document', default: false },
    'attempt-state': {
      type: 'string',
      description: 'how attempt lists spell state: word (Running/Completed), number (0/1, the admin codes) or string ("0"/"1")',
      default: 'word',
    },
    'behind-tls-proxy': {
      type: 'boolean',
      description: 'write absolute URLs as http://<host> without the port, as behind a TLS proxy',
      default: false,
    },
  },
  start: ({ port, host, seed, faults, flags }) => {
    const expired = flags['expired-token-status'];
    if (expired !== 401 && expired !== 403) throw new Error('--expired-token-status must be 401 or 403');
    const perMinute = Number(flags['throttle-per-minute']);
    const scope = flags['exam-attempts'];
    if (scope !== 'everyone' && scope !== 'caller') throw new Error('--exam-attempts must be everyone or caller');
    const stateSpelling = flags['attempt-state'];
    if (stateSpelling !== 'word' && stateSpelling !== 'number' && stateSpelling !== 'string')
      throw new Error('--attempt-state must be word, number or string');
    return startTestpressSimulator({
      port,
      host,
      seed,
      faults,
      tokenTtlSeconds: Number(flags['token-ttl-seconds']),
      expiredTokenStatus: expired,
      exams: Number(flags.exams),
      attemptsPerExam: Number(flags['attempts-per-exam']),
      perPage: Number(flags['per-page']),
      throttle: perMinute > 0 ? { requests: perMinute, perSeconds: 60 } : undefined,
      // Same seed + anchor = same data (the demo anchors its runs, so a rerun loads nothing new).
      anchor: flags.anchor === undefined ? undefined : Number(flags.anchor) * 1000,
      behindTlsProxy: flags['behind-tls-proxy'] as boolean,
      examAttemptsScope: scope,
      resumedShare: Number(flags['resumed-share']),
      v21FieldsOnly: flags['v21-fields-only'] as boolean,
      stateSpelling,
      errorAnswers: parseErrorAnswers(flags['error-answer'] as string | undefined),
    });
  },
});
