// The Testpress API as the simulator serves it: JWT auth, DRF page envelopes, exams, attempts, admin attempts.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RouteDefinition, SimulatorRequest, SimulatorResponse } from '@tapline/simulator-kit';
import { dayStartMicros, formatDate, formatDecimal, formatDuration } from './formats.js';
import { examState, scoreHundredths, type TestpressAttempt, type TestpressExam, type TestpressUser, type TestpressWorld } from './world.js';

/** A login the simulator accepts. Staff see every user's attempts and may call the admin API. */
export interface TestpressAccount {
  username: string;
  password: string;
  is_staff: boolean;
  /** The user record behind the account (for `user_id` / `email` in the token). */
  user: TestpressUser;
}

export interface TestpressApiOptions {
  world: TestpressWorld;
  accounts: TestpressAccount[];
  /** Live time in milliseconds (token expiry, the `state` filter). */
  now(): number;
  /** Secret the simulator signs its JWTs with. */
  jwtSecret: string;
  /** drf-jwt's default JWT_EXPIRATION_DELTA is 300 s (inferred: Testpress's lifetime is undocumented). */
  tokenTtlSeconds: number;
  /** 401 (DRF with WWW-Authenticate) or 403 (what testpress/android#2 observed in 2015) for an expired token. */
  expiredTokenStatus: 401 | 403;
  /** Page size of the student lists (documented `per_page` 20). */
  perPage: number;
  /** Page size of the admin lists (documented `per_page` 200). */
  adminPerPage: number;
  /** Optional throttle, DRF style: at most `requests` per `perSeconds` (Testpress's limits are undocumented). */
  throttle?: { requests: number; perSeconds: number };
  /**
   * Write absolute URLs (`next`, `attempts_url`, `url`) as `http://<host>` without the port, as Django
   * behind a TLS-terminating proxy does (testpress-api.md shows `http://` links on an https API).
   */
  behindTlsProxy?: boolean;
  /**
   * Whose attempts an exam's attempts list holds for a staff account: `everyone` (inferred, what an
   * extractor on the per-exam list needs) or `caller`, the logged-in account's own only, as the
   * document describes the list (docs/providers/testpress.md, "Attempts").
   */
  examAttemptsScope: 'everyone' | 'caller';
  /** Serve only the fields of the 2015 v2.1 document, without those the current API adds. */
  v21FieldsOnly: boolean;
  /**
   * How attempt lists spell `state`: the documented words ("Running", "Completed"), or the codes the
   * admin API's `state` filter takes (0 running, 1 completed, 3 not started; docs/providers/testpress.md,
   * "Admin attempts") as numbers or as strings ("0").
   */
  stateSpelling: StateSpelling;
}

export type StateSpelling = 'word' | 'number' | 'string';

/** The admin API's state codes (docs/providers/testpress.md, "Admin attempts"). */
const STATE_CODES: Record<TestpressAttempt['state'], number> = { Running: 0, Completed: 1 };

/** Student API versions whose exam/attempt shapes are identical (docs/providers/testpress.md, "Host and versions"). */
const STUDENT_VERSIONS = ['v2.1', 'v2.2'] as const;
/** Versions that issue tokens (docs/providers/testpress.md, "Authentication"). */
const AUTH_VERSIONS = ['v2.1', 'v2.2', 'v2.3', 'v2.5'] as const;

const PERMISSION_DENIED = 'You do not have permission to perform this action.';

// Long on purpose: the vendor's route table, one short handler per endpoint, in the document's order.
export function testpressRoutes(options: TestpressApiOptions): RouteDefinition[] {
  const { world } = options;
  const throttleLog: number[] = [];

  function origin(request: SimulatorRequest): string {
    // Django builds absolute URLs from the Host header (build_absolute_uri); behind a TLS proxy it
    // sees plain http and the proxy's host without our port.
    const host = request.headers.host ?? '127.0.0.1';
    return `http://${options.behindTlsProxy ? host.replace(/:\d+$/, '') : host}`;
  }

  function signToken(payload: Record<string, unknown>): string {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ typ: 'JWT', alg: 'HS256' })}.${encode(payload)}`;
    return `${unsigned}.${createHmac('sha256', options.jwtSecret).update(unsigned).digest('base64url')}`;
  }

  /** The account behind `Authorization: JWT <token>`, or the DRF error the request gets instead. */
  function authenticate(request: SimulatorRequest): { account: TestpressAccount } | { refused: SimulatorResponse } {
    const header = request.headers.authorization ?? '';
    const [prefix, token, extra] = header.split(' ');
    // drf-jwt ignores headers with another prefix (e.g. "Bearer"), so the request is anonymous.
    if (prefix?.toLowerCase() !== 'jwt' || !token || extra !== undefined) {
      return { refused: unauthorized('Authentication credentials were not provided.') };
    }
    const [head, body, signature] = token.split('.');
    if (!head || !body || !signature) return { refused: unauthorized('Error decoding signature.') };
    const expected = createHmac('sha256', options.jwtSecret).update(`${head}.${body}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { refused: unauthorized('Error decoding signature.') };
    }
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { username: string; exp: number };
    if (payload.exp * 1000 <= options.now()) {
      return { refused: { status: options.expiredTokenStatus, headers: wwwAuthenticate(), body: { detail: 'Signature has expired.' } } };
    }
    const account = options.accounts.find((candidate) => candidate.username === payload.username);
    if (!account) return { refused: unauthorized('Invalid signature.') };
    return { account };
  }

  function throttled(): SimulatorResponse | undefined {
    if (!options.throttle) return undefined;
    const now = options.now();
    const windowMs = options.throttle.perSeconds * 1000;
    while (throttleLog.length > 0 && (throttleLog[0] as number) <= now - windowMs) throttleLog.shift();
    if (throttleLog.length < options.throttle.requests) {
      throttleLog.push(now);
      return undefined;
    }
    const wait = Math.max(1, Math.ceil(((throttleLog[0] as number) + windowMs - now) / 1000));
    return throttleResponse(wait);
  }

  /** Wraps a handler that needs a logged-in account (and the throttle every API view has). */
  function authed(
    handler: (request: SimulatorRequest, account: TestpressAccount) => SimulatorResponse,
  ): (request: SimulatorRequest) => SimulatorResponse {
    return (request) => {
      const limited = throttled();
      if (limited) return limited;
      const outcome = authenticate(request);
      return 'refused' in outcome ? outcome.refused : handler(request, outcome.account);
    };
  }

  function examBySlug(slug: string | undefined): TestpressExam | undefined {
    return world.exams.find((exam) => exam.slug === slug);
  }

  function visibleAttempts(exam: TestpressExam, account: TestpressAccount): TestpressAttempt[] {
    // Inferred: the documented list is the caller's own attempts; a staff account (what an extractor
    // uses) sees every user's. Newest first (inferred: DRF ordering `-date`, ties by id).
    const everyone = account.is_staff && options.examAttemptsScope === 'everyone';
    return world.attempts
      .filter((attempt) => attempt.examId === exam.id && (everyone || attempt.userId === account.user.id))
      .sort((a, b) => b.startMicros - a.startMicros || b.id - a.id);
  }

  /** An exam's detail, with the caller's own attempts embedded (testpress-api.md). */
  const examDetail = (api: string) =>
    authed((request, account) => {
      const exam = examBySlug(request.params.slug);
      if (!exam) return notFound();
      if (!exam.availableToUser) return { status: 403, body: { detail: PERMISSION_DENIED } };
      const base = origin(request);
      // The detail embeds the caller's own attempts with `user` as a username (testpress-api.md).
      const own = world.attempts
        .filter((attempt) => attempt.examId === exam.id && attempt.userId === account.user.id)
        .sort((a, b) => b.startMicros - a.startMicros || b.id - a.id);
      return { body: { ...examJson(base, api, exam), attempts: own.map((attempt) => ownAttemptJson(base, api, exam, attempt)) } };
    });

  const routes: RouteDefinition[] = [];

  for (const version of AUTH_VERSIONS) {
    routes.push({
      name: 'auth_token',
      method: 'POST',
      path: `/api/${version}/auth-token/`,
      handle(request) {
        const limited = throttled();
        if (limited) return limited;
        let credentials: { username?: unknown; password?: unknown };
        try {
          credentials = parseBody(request);
        } catch {
          return { status: 400, body: { detail: 'JSON parse error - Expecting value: line 1 column 1 (char 0)' } };
        }
        const missing: Record<string, string[]> = {};
        if (typeof credentials.username !== 'string' || credentials.username === '') missing.username = ['This field is required.'];
        if (typeof credentials.password !== 'string' || credentials.password === '') missing.password = ['This field is required.'];
        if (Object.keys(missing).length > 0) return { status: 400, body: missing };
        const account = options.accounts.find(
          (candidate) => candidate.username === credentials.username && candidate.password === credentials.password,
        );
        // Inferred from drf-jwt: bad credentials are a 400 with non_field_errors (docs/providers/testpress.md, "Authentication").
        if (!account) return { status: 400, body: { non_field_errors: ['Unable to log in with provided credentials.'] } };
        const issuedAt = Math.floor(options.now() / 1000);
        const token = signToken({
          username: account.username,
          user_id: account.user.id,
          email: account.user.email,
          exp: issuedAt + options.tokenTtlSeconds,
          orig_iat: issuedAt,
        });
        return { body: { token } };
      },
    });
  }

  for (const version of STUDENT_VERSIONS) {
    const api = `/api/${version}`;
    routes.push(
      {
        name: 'exams',
        method: 'GET',
        path: `${api}/exams/`,
        handle: authed((request) => {
          const state = request.query.get('state');
          if (state !== null && !['available', 'upcoming', 'history'].includes(state)) {
            // Inferred: django-filter rejects a value outside the documented choices.
            return { status: 400, body: { state: [`Select a valid choice. ${state} is not one of the available choices.`] } };
          }
          const course = request.query.get('course');
          const now = options.now() * 1000;
          const exams = world.exams.filter(
            (exam) => (course === null || exam.course === course) && (state === null || examState(exam, now) === state),
          );
          const base = origin(request);
          return paginate(request, base, exams, options.perPage, (exam) => ({
            ...examJson(base, api, exam),
            ...(options.v21FieldsOnly ? {} : currentExamFields(exam, now)),
          }));
        }),
      },
      {
        name: 'exam',
        method: 'GET',
        path: `${api}/exams/:slug/`,
        handle: examDetail(api),
      },
      // testpress-api.md writes the detail as `GET /api/v2.1/exams/<slug>`, without the slash.
      { name: 'exam', method: 'GET', path: `${api}/exams/:slug`, handle: examDetail(api) },
      {
        name: 'exam_attempts',
        method: 'GET',
        path: `${api}/exams/:slug/attempts/`,
        handle: authed((request, account) => {
          const exam = examBySlug(request.params.slug);
          if (!exam) return notFound();
          // Inferred: an exam whose detail is forbidden forbids its attempts too.
          if (!exam.availableToUser) return { status: 403, body: { detail: PERMISSION_DENIED } };
          const base = origin(request);
          return paginate(request, base, visibleAttempts(exam, account), options.perPage, (attempt) =>
            attemptJson(base, api, exam, attempt),
          );
        }),
      },
    );
  }

  routes.push({
    name: 'admin_attempts',
    method: 'GET',
    path: '/api/v2.5/admin/attempts/',
    handle: authed((request, account) => {
      if (!account.is_staff) return { status: 403, body: { detail: PERMISSION_DENIED } };
      const filters = adminFilters(request.query);
      if ('refused' in filters) return filters.refused;
      const attempts = world.attempts
        .filter((attempt) => filters.test(attempt))
        .sort((a, b) => filters.direction * (a.startMicros - b.startMicros) || filters.direction * (a.id - b.id));
      const base = origin(request);
      return paginate(request, base, attempts, options.adminPerPage, (attempt) => adminAttemptJson(base, attempt));
    }),
  });

  /** Parses the documented admin filters (docs/providers/testpress.md, "Admin attempts"); a malformed one is a 400. */
  function adminFilters(
    query: URLSearchParams,
  ): { refused: SimulatorResponse } | { test(attempt: TestpressAttempt): boolean; direction: 1 | -1 } {
    const errors: Record<string, string[]> = {};
    const day = (name: string, endOfDay: boolean): number | undefined => {
      const value = query.get(name);
      if (value === null || value === '') return undefined;
      const start = dayStartMicros(value);
      if (start === undefined) {
        errors[name] = ['Enter a valid date.'];
        return undefined;
      }
      // django-filter's DateFromToRangeFilter includes the whole `date_1` day.
      return endOfDay ? start + 86_400_000_000 - 1 : start;
    };
    const from = day('date_0', false);
    const until = day('date_1', true);
    const integer = (name: string): number | undefined => {
      const value = query.get(name);
      if (value === null || value === '') return undefined;
      if (!/^\d+$/.test(value)) {
        errors[name] = ['Enter a whole number.'];
        return undefined;
      }
      return Number(value);
    };
    const examId = integer('exams');
    const userId = integer('users');
    const state = integer('state');
    const ordering = query.get('ordering') ?? '-date';
    if (ordering !== 'date' && ordering !== '-date') {
      // Only the date orderings are simulated; the others the document lists are answered as a 400.
      errors.ordering = [`Select a valid choice. ${ordering} is not one of the simulated choices (date, -date).`];
    }
    if (Object.keys(errors).length > 0) return { refused: { status: 400, body: errors } };
    return {
      direction: ordering === 'date' ? 1 : -1,
      test: (attempt) =>
        (from === undefined || attempt.startMicros >= from) &&
        (until === undefined || attempt.startMicros <= until) &&
        (examId === undefined || attempt.examId === examId) &&
        (userId === undefined || attempt.userId === userId) &&
        (state === undefined || (state === 0 ? attempt.state === 'Running' : state === 1 ? attempt.state === 'Completed' : false)),
    };
  }

  function stateAs(state: TestpressAttempt['state']): string | number {
    if (options.stateSpelling === 'word') return state;
    return options.stateSpelling === 'number' ? STATE_CODES[state] : String(STATE_CODES[state]);
  }

  function userById(id: number): TestpressUser {
    const user = world.users.find((candidate) => candidate.id === id);
    if (!user) throw new Error(`attempt refers to unknown user ${id}`);
    return user;
  }

  function examById(id: number): TestpressExam {
    const exam = world.exams.find((candidate) => candidate.id === id);
    if (!exam) throw new Error(`attempt refers to unknown exam ${id}`);
    return exam;
  }

  function ownAttemptJson(base: string, api: string, exam: TestpressExam, attempt: TestpressAttempt) {
    return {
      url: `${base}${api}/attempts/${attempt.id}/`,
      id: attempt.id,
      user: userById(attempt.userId).username,
      date: formatDate(attempt.startMicros, attempt.dateStyle),
      total_questions: attempt.total_questions,
      score: formatDecimal(scoreHundredths(exam, attempt)),
      review_url: `${base}${api}/attempts/${attempt.id}/review/`,
      questions_url: `${base}${api}/attempts/${attempt.id}/questions/`,
      percentile: attempt.percentile,
      correct_count: attempt.correct_count,
      incorrect_count: attempt.incorrect_count,
      last_started_time: formatDate(attempt.lastStartedMicros, attempt.dateStyle),
      remaining_time: formatDuration(Math.max(0, exam.durationSeconds - attempt.timeTakenSeconds)),
      time_taken: formatDuration(attempt.timeTakenSeconds),
      state: stateAs(attempt.state),
      rank: attempt.rank,
      max_rank: attempt.max_rank,
      // A string, and not always with two decimals ("10"), as in testpress-api.md.
      percentage: String(Math.round((attempt.correct_count / attempt.total_questions) * 100)),
      unanswered_count: attempt.unanswered_count,
    };
  }

  function attemptJson(base: string, api: string, exam: TestpressExam, attempt: TestpressAttempt) {
    const user = userById(attempt.userId);
    // On the exam's attempts list `user` is an object and a few fields are added (docs/providers/testpress.md, "Attempts").
    return {
      ...ownAttemptJson(base, api, exam, attempt),
      ...(options.v21FieldsOnly ? {} : currentAttemptFields(exam)),
      user: {
        id: user.id,
        url: `${base}${api}/users/${user.id}/`,
        username: user.username,
        display_name: `${user.first_name} ${user.last_name}`,
        first_name: user.first_name,
        last_name: user.last_name,
        photo: null,
      },
      review_pdf_url: `${base}${api}/attempts/${attempt.id}/review/pdf/`,
      rank_enabled: exam.enable_ranks,
      speed: Math.round((attempt.total_questions / Math.max(1, attempt.timeTakenSeconds)) * 3600) / 100,
      accuracy:
        attempt.correct_count + attempt.incorrect_count === 0
          ? 0
          : Math.round((attempt.correct_count / (attempt.correct_count + attempt.incorrect_count)) * 100),
    };
  }

  function adminAttemptJson(base: string, attempt: TestpressAttempt) {
    const exam = examById(attempt.examId);
    const user = userById(attempt.userId);
    const score = scoreHundredths(exam, attempt);
    const percentage = Math.round((attempt.correct_count / attempt.total_questions) * 10000) / 100;
    // Admin v2.5 writes microseconds and mostly `Z` (docs/providers/testpress.md, "Admin attempts"); `time_taken` may carry microseconds.
    return {
      id: attempt.id,
      date: formatDate(attempt.startMicros, attempt.dateStyle === 'ist-micros' ? 'ist-micros' : 'utc-micros'),
      exam_id: exam.id,
      user_id: user.id,
      email: user.email,
      name: `${user.first_name} ${user.last_name}`,
      phone: user.phone,
      correct_answers_count: attempt.correct_count,
      incorrect_answers_count: attempt.incorrect_count,
      unanswered_count: attempt.unanswered_count,
      score: formatDecimal(score),
      // A number here, unlike the student API's string (docs/providers/testpress.md, "Admin attempts").
      percentage,
      time_taken: formatDuration(attempt.timeTakenSeconds, attempt.dateStyle === 'utc-micros' ? attempt.lastStartedMicros % 1_000_000 : 0),
      remaining_time: attempt.state === 'Running' ? formatDuration(Math.max(0, exam.durationSeconds - attempt.timeTakenSeconds)) : null,
      result: attempt.state === 'Running' ? 'Not taken' : percentage >= 40 ? 'Pass' : 'Fail',
      state: stateAs(attempt.state),
      last_started_time: formatDate(attempt.lastStartedMicros, 'utc-micros'),
      // When the attempt ended (inferred); while it runs, the last answer saved so far.
      last_answer_updated_time: formatDate(
        attempt.endMicros ?? attempt.lastStartedMicros + attempt.timeTakenSeconds * 1_000_000,
        'utc-micros',
      ),
      speed: Math.round((attempt.total_questions / Math.max(1, attempt.timeTakenSeconds)) * 3600) / 100,
      exam_url: `${base}/api/v2.5/admin/exams/${exam.slug}/`,
      user_url: `${base}/api/v2.5/admin/users/${user.id}/`,
    };
  }

  return routes;
}

function examJson(base: string, api: string, exam: TestpressExam) {
  return {
    url: `${base}${api}/exams/${exam.slug}/`,
    id: exam.id,
    title: exam.title,
    description: exam.description,
    course: exam.course,
    start_date: formatDate(exam.startMicros, 'ist-seconds'),
    end_date: exam.endMicros === null ? null : formatDate(exam.endMicros, 'ist-seconds'),
    duration: formatDuration(exam.durationSeconds),
    number_of_questions: exam.number_of_questions,
    negative_marks: formatDecimal(exam.negativeMarksHundredths),
    mark_per_question: formatDecimal(exam.markPerQuestionHundredths),
    template_type: exam.template_type,
    allow_retake: exam.allow_retake,
    max_retakes: exam.max_retakes,
    enable_ranks: exam.enable_ranks,
    rank_publishing_date: null,
    attempts_url: `${base}${api}/exams/${exam.slug}/attempts/`,
    allow_pdf: exam.allow_pdf,
    created: formatDate(exam.createdMicros, 'utc-seconds'),
    slug: exam.slug,
    variable_mark_per_question: exam.variable_mark_per_question,
    show_answers: exam.show_answers,
    comments_count: exam.comments_count,
  };
}

/** Fields the current API adds to an exam (Testpress's Android SDK model; docs/providers/testpress.md, "Exams"). */
function currentExamFields(exam: TestpressExam, nowMicros: number) {
  return {
    pass_percentage: exam.enable_ranks ? 40 : null,
    show_score: true,
    show_percentile: exam.enable_ranks,
    total_marks: formatDecimal(exam.number_of_questions * exam.markPerQuestionHundredths),
    exam_data_modified_on: formatDate(Math.min(nowMicros, exam.createdMicros + 86_400_000_000), 'utc-micros'),
  };
}

/** Fields the current API adds to an attempt on the exam's list (docs/providers/testpress.md, "Attempts"). */
function currentAttemptFields(exam: TestpressExam) {
  return {
    commented_questions_count: 0,
    comments_count: 0,
    allow_retake: exam.allow_retake,
    remaining_attempts: exam.max_retakes === null ? null : Math.max(0, exam.max_retakes - 1),
    total_bonus: '0.00',
  };
}

/** DRF PageNumberPagination: `?page=N`, absolute `next`/`previous` keeping the other query params. */
function paginate<T>(
  request: SimulatorRequest,
  base: string,
  items: readonly T[],
  perPage: number,
  render: (item: T) => unknown,
): SimulatorResponse {
  const pageText = request.query.get('page') ?? '1';
  const page = /^\d+$/.test(pageText) ? Number(pageText) : Number.NaN;
  const pages = Math.max(1, Math.ceil(items.length / perPage));
  if (!Number.isInteger(page) || page < 1 || page > pages) return { status: 404, body: { detail: 'Invalid page.' } };
  const link = (target: number): string | null => {
    if (target < 1 || target > pages) return null;
    const query = new URLSearchParams(request.query);
    if (target === 1) query.delete('page');
    else query.set('page', String(target));
    const text = query.toString();
    return `${base}${request.path}${text ? `?${text}` : ''}`;
  };
  return {
    body: {
      count: items.length,
      next: link(page + 1),
      previous: link(page - 1),
      per_page: perPage,
      results: items.slice((page - 1) * perPage, page * perPage).map(render),
    },
  };
}

/** DRF's throttle answer; also what the kit's `rate-limit` fault sends (docs/providers/testpress.md, "Errors"). */
export function throttleResponse(seconds: number): SimulatorResponse {
  return {
    status: 429,
    headers: { 'retry-after': String(seconds) },
    body: { detail: `Request was throttled. Expected available in ${seconds} seconds.` },
  };
}

function unauthorized(detail: string): SimulatorResponse {
  return { status: 401, headers: wwwAuthenticate(), body: { detail } };
}

function wwwAuthenticate(): Record<string, string> {
  return { 'www-authenticate': 'JWT realm="api"' };
}

/** DRF's Http404 answer, for an exam slug that names no exam (never was, or deleted since it was listed). */
function notFound(): SimulatorResponse {
  return { status: 404, body: { detail: 'Not found.' } };
}

function parseBody(request: SimulatorRequest): { username?: unknown; password?: unknown } {
  const type = String(request.headers['content-type'] ?? '');
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(request.body));
  const parsed: unknown = JSON.parse(request.body || '{}');
  if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
  return parsed as { username?: unknown; password?: unknown };
}
