// The Testpress API simulator: start it in a test (startTestpressSimulator) or from the CLI (testpress-simulator).
import {
  type ErrorAnswerSpec,
  errorAnswerArgs,
  errorAnswerFault,
  type RunningSimulator,
  type Seed,
  type StartOptions,
  seededRandom,
  startSimulator,
} from '@tapline/simulator-kit';
import { type StateSpelling, type TestpressAccount, type TestpressApiOptions, testpressRoutes, throttleResponse } from './api.js';
import { TESTPRESS_ERROR_ANSWERS } from './error-answers.js';
import { advanceWorld, generateWorld, type TestpressAttempt, type TestpressWorld } from './world.js';

export type { StateSpelling, TestpressAccount } from './api.js';
export { TESTPRESS_ERROR_ANSWERS } from './error-answers.js';
export { formatDate, formatDecimal, formatDuration } from './formats.js';
export type { TestpressAttempt, TestpressExam, TestpressUser, TestpressWorld } from './world.js';

export interface TestpressSimulatorOptions extends StartOptions {
  seed?: Seed;
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
  /** Error-answer modes from the start (CLI `--error-answer SHAPE[@ROUTE]`); shapes in `TESTPRESS_ERROR_ANSWERS`. */
  errorAnswers?: readonly ErrorAnswerSpec[];
}

/** The tap config the simulator prints: everything `tap-testpress` needs to reach it. */
// A type alias (not an interface) so it is assignable to Record<string, unknown>.
export type TestpressSimulatorConfig = {
  base_url: string;
  username: string;
  password: string;
};

export interface TestpressSimulator extends RunningSimulator<TestpressSimulatorConfig> {
  world: TestpressWorld;
  /** The staff account in `config` and a student account (one of the users taking exams). */
  accounts: { staff: TestpressAccount; student: TestpressAccount };
  /** Between runs: finish running attempts and add `newAttempts` completed ones. */
  advance(newAttempts?: number): TestpressAttempt[];
  /** An admin deletes an exam: it leaves every list, and its attempts go with it (inferred: Django's cascade). */
  deleteExam(id: number): void;
  /** An admin deletes one attempt: it leaves every list. */
  deleteAttempt(id: number): void;
  /** Serve one of Testpress's error answers (action `error-answer`); `faults.clear()` ends it. */
  errorAnswer(spec: ErrorAnswerSpec): void;
}

const HOUR_MS = 3_600_000;

export async function startTestpressSimulator(options: TestpressSimulatorOptions = {}): Promise<TestpressSimulator> {
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

  let errorAnswer = (_spec: ErrorAnswerSpec): void => {};
  const running = await startSimulator(
    {
      name: 'testpress',
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
      tapConfig: (baseUrl) => ({ base_url: baseUrl, username: staff.username, password: staff.password }),
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
        'error-answer': (args) => errorAnswer(errorAnswerArgs(args)),
      },
    },
    {
      ...options,
      faults: [...(options.faults ?? []), ...(options.errorAnswers ?? []).map((spec) => errorAnswerFault(TESTPRESS_ERROR_ANSWERS, spec))],
    },
  );
  errorAnswer = (spec) => void running.faults.inject(errorAnswerFault(TESTPRESS_ERROR_ANSWERS, spec));
  return { ...running, world, accounts: { staff, student: studentAccount }, advance, deleteExam, deleteAttempt, errorAnswer };
}
export { type ExamWebhookKeys, examWebhookBody, sendExamWebhook } from './webhooks.js';
