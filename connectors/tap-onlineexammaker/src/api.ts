// The OnlineExamMaker API profile: `code` auth (legacy query parameter, or the v1 signed header),
// bare-array bodies, errors as HTTP 200 objects, and start/limit paging.
import { createHash } from 'node:crypto';
import { byBody, offsetPaging, type Auth, type Outcome } from '@tapline/http';
import { defineApi } from '@tapline/tap-kit';
import { z } from 'zod';

export const configSchema = z.object({
  code: z.string().min(1).describe('The account verification code (API & SSO settings); a secret.'),
  base_url: z.url().default('https://onlineexammaker.com').describe('Where index.php lives (your own host for LAN Exam Maker).'),
  api: z
    .enum(['legacy', 'v1'])
    .default('legacy')
    .describe('"legacy": index.php?task=api.queryResults; "v1": the signed api/v1 API (premium accounts; every value a string).'),
  v1_base_url: z.url().default('https://api.onlineexammaker.com').describe('Host of the v1 API.'),
  start_date: z.iso.datetime({ offset: true }).optional().describe('Results that ended before this are not read on the first run.'),
});

export type OemConfig = z.output<typeof configSchema>;

/** The legacy front controller: every task is one URL, told apart by `task` (onlineexammaker-api.txt). */
export const INDEX_PHP = '/index.php';
export const legacyQuery = (task: string) => ({ option: 'com_exams', task, format: 'raw' });
export const V1_RESULTS_PATH = '/api/v1/student/queryresults';

/**
 * Legacy calls carry `code` as a query parameter. v1 calls also carry `time` and the header
 * `Authorization: md5(time + code)` (providers.md §3.3), recomputed for every attempt.
 */
function codeAuth(config: OemConfig): Auth {
  return {
    secretNames: ['code', 'authorization'],
    apply(request, ctx) {
      ctx.addSecret(config.code);
      request.url.searchParams.set('code', config.code);
      if (request.url.pathname.endsWith(V1_RESULTS_PATH)) {
        const time = String(Math.floor(Date.now() / 1000));
        const signature = createHash('md5').update(time + config.code).digest('hex');
        ctx.addSecret(signature);
        request.url.searchParams.set('time', time);
        request.headers.authorization = signature;
      }
    },
  };
}

/**
 * Errors arrive as HTTP 200 `{"status":"error","error":"..."}` instead of the array (providers.md §3.2).
 * The wording is undocumented for these tasks (inferred): an error naming the exam skips that exam
 * (it may have been deleted since the list was read); any other is the account's to fix.
 */
const errorObjects = byBody((body, input): Outcome | undefined => {
  // No rate limit is documented; a 429 is the server's limit whatever its body says (inferred), so
  // the kit's default waits for Retry-After (or backs off) and retries.
  if (input.status === 429) return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { status, error } = body as { status?: unknown; error?: unknown };
  if (status !== 'error') return undefined;
  const message = typeof error === 'string' ? error : JSON.stringify(error);
  if (/exam/i.test(message)) {
    return { action: 'skip', blame: 'config', message: `OnlineExamMaker skipped an exam: ${message}` };
  }
  return {
    action: 'fail',
    blame: 'config',
    message: `OnlineExamMaker refused the request: ${message}. Check code (and, for api "v1", that the account is premium) in your config`,
  };
});

/**
 * start/limit paging, 100 per page (the v1 maximum; the legacy default is 30). No total is given, and a
 * server that caps `limit` below what we asked would make a short page look like the end, so paging
 * ends on an empty page instead (one extra request per exam).
 */
export const startLimitPaging = offsetPaging({ limit: 100, offsetParam: 'start', limitParam: 'limit', stopOnShortPage: false });

export const oem = defineApi<OemConfig>({
  config: configSchema,
  baseUrl: (config) => config.base_url,
  http: (config) => ({ auth: codeAuth(config), classify: errorObjects }),
  // Legacy bodies are bare arrays; v1 wraps them in `data`.
  pagination: startLimitPaging,
  records: (body) => (Array.isArray(body) ? body : Array.isArray((body as { data?: unknown })?.data) ? (body as { data: unknown[] }).data : []),
  test: { path: INDEX_PHP, query: { ...legacyQuery('api.getExams'), start: 0, limit: 1 } },
});
