// The Testpress API profile: JWT auth against the institute's host, DRF page envelopes, and what 401/403 mean.
import { byStatus, type Classifier, nextUrlPaging, type Outcome, type ResponseToClassify, successShape, tokenAuth } from '@tapline/http';
import { SECRET_SETTING } from '@tapline/singer';
import { defineApi } from '@tapline/tap-kit';
import { z } from 'zod';

export const configSchema = z.object({
  base_url: z.url().describe("Your institute's Testpress address, e.g. https://demo.testpress.in."),
  username: z
    .string()
    .min(1)
    .describe('Login of a Testpress staff account (the admin attempts API needs one; a student account reads only its own attempts).'),
  password: z.string().min(1).describe('Password of that account; a secret.').meta(SECRET_SETTING),
  course: z.string().min(1).optional().describe('Only exams of this course (the exams list `course` filter).'),
  exam_state: z.enum(['available', 'upcoming', 'history']).optional().describe('Only exams in this state (the exams list `state` filter).'),
  attempts_source: z
    .enum(['admin', 'exam'])
    .default('admin')
    .describe(
      '"admin": every student’s attempts, from the v2.5 admin attempts API (staff accounts); "exam": each exam’s attempts list, which Testpress documents as the logged-in account’s own attempts.',
    ),
  start_date: z.iso.datetime({ offset: true }).optional().describe('Attempts started before this are not read on the first run.'),
});

export type TestpressConfig = z.output<typeof configSchema>;

/** Student API version (testpress-api.md documents v2.1; v2.2 has the same shapes, docs/providers/testpress.md, "Host and versions"). */
export const API = '/api/v2.1';

/** DRF's auth failures; some deployments answer an expired token with 403 instead of 401 (docs/providers/testpress.md, "Errors"). */
const TOKEN_PROBLEMS =
  /signature has expired|error decoding signature|invalid signature|authentication credentials were not provided|token/i;

function detail(input: ResponseToClassify): string {
  const body = input.body as { detail?: unknown } | null;
  return typeof body?.detail === 'string' ? body.detail : input.text.slice(0, 200);
}

/** A DRF list page: `{"count", "next", "previous", "results": [...]}` (docs/providers/testpress.md). */
const drfPage = successShape('a DRF page {"count", "next", "results": [...]}', (body) => {
  const page = body as { results?: unknown } | null;
  return typeof page === 'object' && page !== null && !Array.isArray(page) && Array.isArray(page.results);
});

/** POST /auth-token/ answers `{"token": "<JWT>"}` (docs/providers/testpress.md). */
const tokenAnswer = successShape('an object holding the token', (body) => {
  const token = (body as { token?: unknown } | null)?.token;
  return typeof token === 'string' && token !== '';
});

/** A 403 that is about the token is re-authenticated once (the client then fails with a config blame). */
const expiredTokenAs403 = byStatus({
  403: (input): Outcome | undefined =>
    TOKEN_PROBLEMS.test(detail(input))
      ? {
          action: 'refresh_auth',
          blame: 'config',
          message: `Testpress refused the token (HTTP 403: ${detail(input)}); check username and password`,
        }
      : undefined,
  401: (input): Outcome => ({
    action: 'refresh_auth',
    blame: 'config',
    message: `Testpress refused the credentials (HTTP 401: ${detail(input)}); check username and password`,
  }),
});

/** For one exam's attempts: a 403 that is not about the token means the exam is not available to this user. */
export const skipForbiddenExam: Classifier = (input) => {
  if (input.kind !== 'response' || input.status !== 403 || TOKEN_PROBLEMS.test(detail(input))) return undefined;
  return {
    action: 'skip',
    blame: 'config',
    message: `this exam is not available to the configured user (HTTP 403: ${detail(input)}); its attempts were skipped`,
  };
};

/** DRF's answer for an object that does not exist: 404 `{"detail": "Not found."}` (docs/providers/testpress.md, "Errors"). */
const NOT_FOUND = /^not found\.?$/i;

/**
 * For one exam's attempts: DRF's 404 means the exam is gone, deleted after the exams list named it
 * (inferred: the documents give the 404 body, not when it is sent). Only that body: Django's HTML 404
 * for a path that does not exist is not about the exam and still fails (DRF's "Invalid page." is `listingShrank`'s).
 */
export function skipDeletedExam(examId: unknown): Classifier {
  return (input) => {
    // The same body with HTTP 200 (a proxy or an older deployment rewriting the status; inferred) says the same.
    const status = input.kind === 'response' ? input.status : 0;
    if (input.kind !== 'response' || (status !== 404 && status !== 200) || !NOT_FOUND.test(detail(input).trim())) return undefined;
    return {
      action: 'skip',
      blame: 'config',
      message: `exam ${String(examId)} no longer exists (HTTP ${status}: ${detail(input)}); it was deleted after the exams list was read, so its attempts were skipped`,
    };
  };
}

/** DRF's answer for a page number past the last page: 404 `{"detail": "Invalid page."}`. */
const INVALID_PAGE = /^invalid page\.?$/i;

/**
 * A next link (`?page=N`) that became "Invalid page." by the time it was followed: the listing shrank
 * between two pages (an exam or attempt deleted meanwhile). The pages read stand and the rest of that
 * listing is skipped this run, which the tap kit treats as a listing cut short: the bookmark stays,
 * no ACTIVATE_VERSION, and the next run reads it whole. On a first page it is not about shrinking
 * (a first page always exists), so it still fails.
 */
const listingShrank: Classifier = (input) => {
  if (input.kind !== 'response' || input.status !== 404 || (input.request.page ?? 1) < 2 || !INVALID_PAGE.test(detail(input).trim()))
    return undefined;
  return {
    action: 'skip',
    blame: 'transient',
    message: `page ${input.request.page} of the listing no longer exists (HTTP 404: ${detail(input)}): records were deleted while it was read`,
  };
};

/** The admin API answers 403 to a student account. */
export const adminOnly: Classifier = (input) => {
  if (input.kind !== 'response' || input.status !== 403 || TOKEN_PROBLEMS.test(detail(input))) return undefined;
  return {
    action: 'fail',
    blame: 'config',
    message: `the admin attempts API needs a staff account (HTTP 403: ${detail(input)}); use a staff login or set attempts_source to "exam"`,
  };
};

/**
 * DRF throttling: 429 with `Retry-After` and `{"detail": "Request was throttled. Expected available in
 * N seconds."}`. Testpress's own SDK reads the wait from the detail (docs/providers/testpress.md, "Errors"), so a 429
 * without the header still waits as long as the server said, not a guessed backoff.
 */
const drfThrottle = byStatus({
  429: (input): Outcome | undefined => {
    if (input.headers['retry-after'] !== undefined) return undefined; // the default classifier reads the header
    const seconds = /in (\d+(?:\.\d+)?) seconds?/.exec(detail(input))?.[1];
    return seconds === undefined
      ? undefined
      : {
          action: 'rate_limited',
          blame: 'transient',
          message: `Testpress throttled the request (HTTP 429: ${detail(input)})`,
          retryAfterMs: Math.ceil(Number(seconds) * 1000),
        };
  },
});

/** POST /auth-token/ with the username and password; a 400 there means the credentials are wrong. */
const badCredentials: Classifier = (input) =>
  input.kind === 'response' && input.status === 400
    ? {
        action: 'fail',
        blame: 'config',
        message: `Testpress refused the username or password (${input.text.slice(0, 200)}); check them in your config`,
      }
    : undefined;

export const testpress = defineApi<TestpressConfig>({
  config: configSchema,
  baseUrl: (config) => config.base_url,
  http: (config) => ({
    apiName: 'Testpress',
    // Fetched once per run; re-fetched once after a 401 (or a token 403), then the run fails.
    auth: tokenAuth({
      scheme: 'JWT',
      fetchToken: async ({ http }) => {
        const response = await http.request<{ token?: unknown }>({
          method: 'POST',
          path: `${API}/auth-token/`,
          body: { username: config.username, password: config.password },
          auth: false,
          classify: badCredentials,
          success: tokenAnswer,
        });
        return String(response.body?.token ?? '');
      },
    }),
    // An array, not composeClassifiers (which ends with the default and would answer ok before the success shape is checked).
    classify: [expiredTokenAs403, drfThrottle, listingShrank],
  }),
  success: drfPage,
  records: 'results',
  pagination: nextUrlPaging(),
  test: { path: `${API}/exams/` },
});
