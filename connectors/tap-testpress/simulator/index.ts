// The Testpress API simulator: start it in a test (startTestpressSimulator) or from the CLI (testpress-simulator).

import { defineSimulator, type Simulator, type SimulatorOptions, seededRandom } from '@tapline/simulator-kit';
import { type StateSpelling, type TestpressAccount, type TestpressApiOptions, testpressRoutes, throttleResponse } from './api.js';
import { TESTPRESS_ERROR_ANSWERS } from './error-answers.js';
import { sendNewestAttempts } from './webhooks.js';
import { advanceWorld, generateWorld, type TestpressAttempt, type TestpressWorld } from './world.js';

export type { StateSpelling, TestpressAccount } from './api.js';
export { TESTPRESS_ERROR_ANSWERS } from './error-answers.js';
export { formatDate, formatDecimal, formatDuration } from './formats.js';
export type { TestpressAttempt, TestpressExam, TestpressUser, TestpressWorld } from './world.js';

export interface TestpressSimulatorOptions extends SimulatorOptions {
  /** Live time in milliseconds; tests pass a controllable clock to expire tokens. Default Date.now. */
  now?: () => number;
  /** The moment the data is generated around (ms). Default: now(), floored to the hour, so one seed
   * gives the same data all hour long. */
  anchor?: number;
  exams?: number;
  users?: number;
  attemptsPerExam?: number;
  tokenTtlSeconds?: number;
  expiredTokenStatus?: 401 | 403;
  perPage?: number;
  adminPerPage?: number;
  throttle?: TestpressApiOptions['throttle'];
  /** Absolute URLs as `http://<host>` without the port (Django behind a TLS proxy). */
  behindTlsProxy?: boolean;
  /**
   * Whose attempts an exam's attempts list holds for the staff account: `everyone` (default,
   * inferred) or `caller`, only the logged-in account's own, as the document describes the list.
   */
  examAttemptsScope?: 'everyone' | 'caller';
  /** Share of completed attempts resumed 1–20 days after their start (default 0.1). */
  resumedShare?: number;
  /** Serve only the fields of the 2015 v2.1 document (default: also those the current API adds). */
  v21FieldsOnly?: boolean;
  /** How attempt lists spell `state`: "Running"/"Completed" (default), or the admin codes 0/1 as numbers or strings. */
  stateSpelling?: StateSpelling;
}

/** The tap config the simulator prints: everything `tap-testpress` needs to reach it. */
// A type alias (not an interface) so it is assignable to Record<string, unknown>.
export type TestpressSimulatorConfig = {
  base_url: string;
  username: string;
  password: string;
};

/** What the Testpress simulator offers tests besides the kit's handle. */
export interface TestpressSimulatorExtras {
  world: TestpressWorld;
  /** The staff account in `config` and a student account (one of the users taking exams). */
  accounts: { staff: TestpressAccount; student: TestpressAccount };
  /** Between runs: finish running attempts and add `newAttempts` completed ones. */
  advance(newAttempts?: number): TestpressAttempt[];
  /** An admin deletes an exam: it leaves every list, and its attempts go with it (inferred: Django's cascade). */
  deleteExam(id: number): void;
  /** An admin deletes one attempt: it leaves every list. */
  deleteAttempt(id: number): void;
}

export type TestpressSimulator = Simulator<TestpressSimulatorConfig, TestpressSimulatorExtras>;

const HOUR_MS = 3_600_000;

export const testpressSimulator = defineSimulator({
  name: 'testpress',
  errorAnswers: TESTPRESS_ERROR_ANSWERS,
  build: (options: TestpressSimulatorOptions) => {
    const seed = options.seed ?? 1;
    const now = options.now ?? Date.now;
    const anchor = options.anchor ?? Math.floor(now() / HOUR_MS) * HOUR_MS;
    const random = seededRandom(seed);
    const world = generateWorld(random, {
      nowMicros: anchor * 1000,
      exams: options.exams ?? 25,
      users: options.users ?? 40,
      attemptsPerExam: options.attemptsPerExam ?? 30,
      resumedShare: options.resumedShare ?? 0.1,
      resumeRandom: seededRandom(`${seed}/resumes`),
    });
    const student = world.users[0];
    if (!student) throw new Error('the Testpress simulator needs at least one user');
    const staff: TestpressAccount = {
      username: 'admin',
      password: `demo-${random.alphanumeric(10)}`,
      is_staff: true,
      user: { id: 1, username: 'admin', first_name: 'Institute', last_name: 'Admin', email: 'admin@example.com', phone: null },
    };
    const studentAccount: TestpressAccount = { username: student.username, password: 'student-pass', is_staff: false, user: student };
    const advanceRandom = seededRandom(`${seed}/advance`);
    const advance = (newAttempts = 5) => advanceWorld(advanceRandom, world, now() * 1000, newAttempts);
    const deleteExam = (id: number) => {
      const index = world.exams.findIndex((exam) => exam.id === id);
      if (index < 0) throw new Error(`no exam ${id} to delete`);
      world.exams.splice(index, 1);
      world.attempts = world.attempts.filter((attempt) => attempt.examId !== id);
    };
    const deleteAttempt = (id: number) => {
      const index = world.attempts.findIndex((attempt) => attempt.id === id);
      if (index < 0) throw new Error(`no attempt ${id} to delete`);
      world.attempts.splice(index, 1);
    };
    return {
      routes: testpressRoutes({
        world,
        accounts: [staff, studentAccount],
        now,
        jwtSecret: `testpress-simulator-${seed}`,
        tokenTtlSeconds: options.tokenTtlSeconds ?? 300,
        expiredTokenStatus: options.expiredTokenStatus ?? 401,
        perPage: options.perPage ?? 20,
        adminPerPage: options.adminPerPage ?? 200,
        throttle: options.throttle,
        behindTlsProxy: options.behindTlsProxy ?? false,
        examAttemptsScope: options.examAttemptsScope ?? 'everyone',
        v21FieldsOnly: options.v21FieldsOnly ?? false,
        stateSpelling: options.stateSpelling ?? 'word',
      }),
      tapConfig: (baseUrl: string): TestpressSimulatorConfig => ({ base_url: baseUrl, username: staff.username, password: staff.password }),
      rateLimitResponse: (_request, seconds) => throttleResponse(seconds),
      // Django's 404 page for an unknown URL is HTML; DRF only answers JSON inside its views.
      notFound: (_request, reason) =>
        reason === 'wrong-method'
          ? { status: 405, body: { detail: 'Method not allowed.' } }
          : { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<h1>Not Found</h1>' },
      actions: {
        advance: (args) => advance(typeof args.new_attempts === 'number' ? args.new_attempts : undefined).map((a) => a.id),
        'delete-exam': (args) => deleteExam(Number(args.exam_id)),
        'delete-attempt': (args) => deleteAttempt(Number(args.attempt_id)),
      },
      extra: { world, accounts: { staff, student: studentAccount }, advance, deleteExam, deleteAttempt } satisfies TestpressSimulatorExtras,
    };
  },
  cli: {
    description: 'A local Testpress API (JWT auth, exams, attempts, admin attempts) with seeded data.',
    flags: {
      'token-ttl-seconds': { type: 'number', description: 'lifetime of issued JWTs', default: 300 },
      'expired-token-status': { type: 'number', description: 'status for an expired token: 401 or 403', default: 401 },
      exams: { type: 'number', description: 'number of exams', default: 25 },
      'attempts-per-exam': { type: 'number', description: 'mean attempts per opened exam', default: 30 },
      'per-page': { type: 'number', description: 'page size of the student lists', default: 20 },
      'throttle-per-minute': { type: 'number', description: 'requests allowed per minute (0 = unlimited)', default: 0 },
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
      'webhook-secret': {
        type: 'string',
        description: "the institute's private key the deliveries' hash is made with (with --webhook-url)",
      },
      'webhook-public-key': { type: 'string', default: 'simulator-public-key', description: "the institute's public key, sent as `key`" },
      'webhook-count': { type: 'number', default: 5, description: 'how many attempts to send (two deliveries each when completed)' },
    },
    options: (flags): Omit<TestpressSimulatorOptions, keyof SimulatorOptions> => {
      if (flags['webhook-url'] !== undefined && !flags['webhook-secret'])
        throw new Error("--webhook-url needs --webhook-secret (the institute's private key to sign with)");
      const expired = flags['expired-token-status'];
      if (expired !== 401 && expired !== 403) throw new Error('--expired-token-status must be 401 or 403');
      const perMinute = Number(flags['throttle-per-minute']);
      const scope = flags['exam-attempts'];
      if (scope !== 'everyone' && scope !== 'caller') throw new Error('--exam-attempts must be everyone or caller');
      const stateSpelling = flags['attempt-state'];
      if (stateSpelling !== 'word' && stateSpelling !== 'number' && stateSpelling !== 'string')
        throw new Error('--attempt-state must be word, number or string');
      return {
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
      };
    },
    started: (simulator, flags) => {
      const url = flags['webhook-url'] as string | undefined;
      const keys = { publicKey: flags['webhook-public-key'] as string, privateKey: flags['webhook-secret'] as string };
      if (url !== undefined) void sendNewestAttempts(simulator.world, url, keys, flags['webhook-count'] as number);
    },
  },
});

export const startTestpressSimulator = (options?: TestpressSimulatorOptions): Promise<TestpressSimulator> =>
  testpressSimulator.start(options);
export { type ExamWebhookKeys, examWebhookBody, sendExamWebhook } from './webhooks.js';
