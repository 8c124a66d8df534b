// The `testpress-simulator` bin: serves a seeded Testpress API and prints a ready-to-use tap config;
// --webhook-url posts its newest attempts as Testpress's exam webhook (e.g. to `tapline serve`).
import { parseErrorAnswers, runSimulatorCli, sendWebhooksInTurn } from '@tapline/simulator-kit';
import { examWebhookBody, sendExamWebhook, startTestpressSimulator, type TestpressSimulator } from './index.js';

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
    'webhook-url': {
      type: 'string',
      description:
        'once started, post the newest attempts to this URL as exam webhooks, started then completed (e.g. a tapline serve receiver)',
    },
    'webhook-secret': { type: 'string', description: "the institute's private key the deliveries' hash is made with (with --webhook-url)" },
    'webhook-public-key': { type: 'string', default: 'simulator-public-key', description: "the institute's public key, sent as `key`" },
    'webhook-count': { type: 'number', default: 5, description: 'how many attempts to send (two deliveries each when completed)' },
  },
  start: async ({ port, host, seed, faults, flags }) => {
    const url = flags['webhook-url'] as string | undefined;
    const secret = flags['webhook-secret'] as string | undefined;
    if (url !== undefined && !secret) throw new Error("--webhook-url needs --webhook-secret (the institute's private key to sign with)");
    const expired = flags['expired-token-status'];
    if (expired !== 401 && expired !== 403) throw new Error('--expired-token-status must be 401 or 403');
    const perMinute = Number(flags['throttle-per-minute']);
    const scope = flags['exam-attempts'];
    if (scope !== 'everyone' && scope !== 'caller') throw new Error('--exam-attempts must be everyone or caller');
    const stateSpelling = flags['attempt-state'];
    if (stateSpelling !== 'word' && stateSpelling !== 'number' && stateSpelling !== 'string')
      throw new Error('--attempt-state must be word, number or string');
    const simulator = await startTestpressSimulator({
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
    if (url !== undefined) {
      const keys = { publicKey: flags['webhook-public-key'] as string, privateKey: secret! };
      void sendAttempts(simulator, url, keys, flags['webhook-count'] as number);
    }
    return simulator;
  },
});

/** The `count` newest attempts: `started` for each, then `completed` for those that are. */
function sendAttempts(simulator: TestpressSimulator, url: string, keys: { publicKey: string; privateKey: string }, count: number) {
  const { world } = simulator;
  const attempts = [...world.attempts].sort((a, b) => b.startMicros - a.startMicros).slice(0, count);
  const events = attempts.flatMap((attempt) =>
    (attempt.state === 'Completed' ? (['started', 'completed'] as const) : (['started'] as const)).map((event) => ({ attempt, event })),
  );
  return sendWebhooksInTurn(
    'testpress-simulator',
    url,
    events.map(({ attempt, event }) => ({
      label: `attempt_id ${attempt.id} ${event}`,
      send: () => sendExamWebhook(url, examWebhookBody(world, attempt, event, keys)),
    })),
  );
}
