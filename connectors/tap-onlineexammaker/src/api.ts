// The OnlineExamMaker API profile: `code` auth (legacy query parameter, or the v1 signed header),
// bare-array bodies, errors as HTTP 200 objects, and start/limit paging.
import { createHash } from 'node:crypto';
import {
  type Auth,
  byBody,
  type Classifier,
  type Outcome,
  offsetPaging,
  type QueryValue,
  successShape,
  vendorMessage,
} from '@tapline/http';
import { SECRET_SETTING } from '@tapline/singer';
import { defineApi, type StreamEndpoint } from '@tapline/tap-kit';
import { z } from 'zod';

export const configSchema = z.object({
  code: z.string().min(1).describe('The account verification code (API & SSO settings); a secret.').meta(SECRET_SETTING),
  base_url: z.url().default('https://onlineexammaker.com').describe('Where index.php lives (your own host for LAN Exam Maker).'),
  api: z
    .enum(['legacy', 'v1'])
    .default('legacy')
    .describe('"legacy": index.php?task=api.queryResults; "v1": the signed api/v1 API (premium accounts; every value a string).'),
  v1_base_url: z.url().default('https://api.onlineexammaker.com').describe('Host of the v1 API.'),
  start_date: z.iso.datetime({ offset: true }).optional().describe('Results that ended before this are not read on the first run.'),
});

export type OemConfig = z.output<typeof configSchema>;

/** The legacy front controller: every task is one URL, told apart by `task` (docs/providers/onlineexammaker.md). */
export const INDEX_PHP = '/index.php';
export const legacyQuery = (task: string) => ({ option: 'com_exams', task, format: 'raw' });
export const V1_RESULTS_PATH = '/api/v1/student/queryresults';

/**
 * Legacy calls carry `code` as a query parameter. v1 calls also carry `time` and the header
 * `Authorization: md5(time + code)` (docs/providers/onlineexammaker.md), recomputed for every attempt.
 */
function codeAuth(config: OemConfig): Auth {
  return {
    secretNames: ['code', 'authorization'],
    apply(request, ctx) {
      ctx.addSecret(config.code);
      request.url.searchParams.set('code', config.code);
      if (request.url.pathname.endsWith(V1_RESULTS_PATH)) {
        const time = String(Math.floor(Date.now() / 1000));
        const signature = createHash('md5')
          .update(time + config.code)
          .digest('hex');
        ctx.addSecret(signature);
        request.url.searchParams.set('time', time);
        request.headers.authorization = signature;
      }
    },
  };
}

/**
 * The vendor's error object, its message, else undefined: `{"status":"error","error":"..."}` as documented
 * (docs/providers/onlineexammaker.md), and the spellings PHP APIs also use (`"msg"`, `"message"`, `"status": "fail"`,
 * an `error` without `status`; inferred). The words come from whichever key holds them.
 */
function vendorError(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { status, error } = body as { status?: unknown; error?: unknown };
  const isError =
    (typeof status === 'string' && /^(error|fail|failed)$/i.test(status)) || (error !== undefined && error !== null && error !== '');
  if (!isError) return undefined;
  return vendorMessage(body) ?? JSON.stringify(body);
}

/** The legacy API's page: a bare JSON array (docs/providers/onlineexammaker.md). */
const legacyPage = successShape('a JSON array (the legacy API’s answer)', Array.isArray);

/** The v1 API's page: `{"data": [...]}`, with `"status": "ok"` when present (docs/providers/onlineexammaker.md). */
const v1Page = successShape('{"status": "ok", "data": [...]} (the v1 API’s answer)', (body) => {
  const envelope = body as { status?: unknown; data?: unknown } | null;
  return (
    typeof envelope === 'object' &&
    envelope !== null &&
    Array.isArray(envelope.data) &&
    (envelope.status === undefined || envelope.status === 'ok')
  );
});

/** What the user should do about an error the API gave: one sentence, by what the message is about. */
function refusal(message: string, v1: boolean): string {
  // Inferred wording (the v1 failure example is cut off in the stored document): the signature's
  // `time` is checked against the server's clock, so this error means our clock is off, not the code.
  if (v1 && /\btime\b/i.test(message) && /\b(invalid|expired)\b/i.test(message)) {
    return `OnlineExamMaker refused the signed v1 request: ${message}. The signature carries this machine's clock time, so its clock is probably off: set it right (e.g. turn on NTP) and run again`;
  }
  if (/premium/i.test(message)) {
    return `OnlineExamMaker refused the request: ${message}. The v1 API is for premium accounts: upgrade, or set api to "legacy" in your config`;
  }
  return `OnlineExamMaker refused the request: ${message}. Check code${v1 ? ' (and that the account is premium, which api "v1" needs)' : ''} in your config`;
}

/**
 * Errors arrive as HTTP 200 `{"status":"error","error":"..."}` instead of the array (docs/providers/onlineexammaker.md).
 * Every one stops the run (the account's to fix); only a results request may skip its exam (see
 * `examSkips`), so a page of the exam list is never skipped and never followed by ACTIVATE_VERSION.
 */
const errorObjects = byBody((body, input): Outcome | undefined => {
  // No rate limit is documented; a 429 is the server's limit whatever its body says (inferred), so
  // the kit's default waits for Retry-After (or backs off) and retries.
  if (input.status === 429) return undefined;
  const message = vendorError(body);
  if (message === undefined) return undefined;
  return { action: 'fail', blame: 'config', message: refusal(message, input.request.path.endsWith(V1_RESULTS_PATH)) };
});

/**
 * Whether an error is about one exam (e.g. deleted since the list was read) rather than the account.
 * Inferred: the wording is undocumented for these tasks. "exam" must be a word of its own (not inside
 * "OnlineExamMaker", as in "Your OnlineExamMaker account has expired"), and a message that also names
 * the account, the code or the signature is the account's.
 */
function isAboutOneExam(message: string): boolean {
  return (
    /\bexams?\b/i.test(message) &&
    !/\b(account|code|premium|authori[sz]\w*|unauthori[sz]ed|signature|time|permission|login)\b/i.test(message)
  );
}

/** One exam's results requests (legacy, or the v1 URL): an error about that exam skips it, naming it. */
export function examSkips(eid: QueryValue): Classifier {
  return byBody((body, input): Outcome | undefined => {
    const message = input.status === 429 ? undefined : vendorError(body);
    if (message === undefined || !isAboutOneExam(message)) return undefined;
    return { action: 'skip', blame: 'config', message: `OnlineExamMaker skipped exam ${String(eid)}: ${message}` };
  });
}

/** The v1 API's results endpoint for one exam, on its own host; undefined for the legacy API (the stream's path). */
export function resultsEndpoint(config: OemConfig, eid: QueryValue): StreamEndpoint | undefined {
  return config.api === 'v1' ? { url: `${config.v1_base_url}${V1_RESULTS_PATH}`, query: { eid }, success: v1Page } : undefined;
}

/**
 * start/limit paging, 100 per page (the v1 maximum; the legacy default is 30). No total is given, and a
 * server that caps `limit` below what we asked would make a short page look like the end, so paging
 * ends on an empty page instead (one extra request per exam).
 */
export const startLimitPaging = offsetPaging({ limit: 100, offsetParam: 'start', limitParam: 'limit', stopOnShortPage: false });

export const oem = defineApi<OemConfig>({
  config: configSchema,
  baseUrl: (config) => config.base_url,
  http: (config) => ({ apiName: 'OnlineExamMaker', auth: codeAuth(config), classify: errorObjects }),
  success: legacyPage,
  // Legacy bodies are bare arrays; v1 wraps them in `data`.
  pagination: startLimitPaging,
  records: (body) =>
    Array.isArray(body) ? body : Array.isArray((body as { data?: unknown })?.data) ? (body as { data: unknown[] }).data : [],
  test: { path: INDEX_PHP, query: { ...legacyQuery('api.getExams'), start: 0, limit: 1 } },
});
