// The CBTHost API profile: config, the Accept header every call needs, and what each error envelope means.
import { byStatus, type HttpRequest, type Outcome, type ResponseToClassify } from '@tapline/http';
import { defineApi } from '@tapline/tap-kit';
import { z } from 'zod';

const singleResult = z.object({
  pass_code: z.string().min(1).describe("The student's CBT pass code (header cbt-pass-code)."),
  test_id: z.string().min(1).describe('The test identifier (header test-id).'),
});

export const configSchema = z
  .object({
    base_url: z.url().default('https://cbthost.com').describe('The CBTHost API address.'),
    pass_codes: z
      .array(z.string().min(1))
      .default([])
      .describe("Exam pass codes: every student's result of each is read from GET /api/result/{pass_code}."),
    results: z
      .array(singleResult)
      .default([])
      .describe('Single results to read from GET /api/result (pass code + test id pairs).'),
  })
  .refine((config) => config.pass_codes.length + config.results.length > 0, {
    message: 'name at least one exam in pass_codes or one result in results',
    path: ['pass_codes'],
  });

export type CbthostConfig = z.output<typeof configSchema>;

/** One configured read: an exam by its pass code (mass endpoint, `test_id` null) or one student's result. */
export type ResultTarget = { pass_code: string; test_id: string | null };

/** `message` from either envelope: `{serverstatus, message}` (single) or `{status: "error", message}` (mass). */
function vendorMessage(input: ResponseToClassify): string {
  const body = input.body as { message?: unknown } | null;
  return typeof body?.message === 'string' ? body.message : `HTTP ${input.status}`;
}

/** ` ("message")` when the body carries one, else nothing (an HTML page from a proxy or another site). */
function said(input: ResponseToClassify): string {
  const body = input.body as { message?: unknown } | null;
  return typeof body?.message === 'string' ? ` ("${body.message}")` : '';
}

/** The documented "nothing here" answers (docs/providers/cbthost.md), one per endpoint; any other 404 is not CBTHost saying "no results". */
function isDocumentedNotFound(input: ResponseToClassify, target: ResultTarget): boolean {
  const body = input.body as { status?: unknown; serverstatus?: unknown; message?: unknown } | null;
  if (typeof body !== 'object' || body === null || typeof body.message !== 'string') return false;
  const message = body.message.trim().toLowerCase();
  return target.test_id === null
    ? body.status === 'error' && message === 'no results found for this test id'
    : Number(body.serverstatus) === 404 && message === 'cbt pass code is invalid, or no record found';
}

/**
 * How CBTHost's answers to one target's request are read. Per request, so every sentence can name
 * the pass code: the single endpoint sends it in a header, which the response does not show.
 */
export function classifyFor(target: ResultTarget, config: CbthostConfig) {
  const subject = target.test_id === null ? `exam ${target.pass_code}` : `pass code ${target.pass_code} (test ${target.test_id})`;
  const url = (input: ResponseToClassify) => `${new URL(config.base_url).origin}${input.request.path}`;
  return byStatus({
    404: (input): Outcome =>
      isDocumentedNotFound(input, target)
        ? { action: 'skip', blame: 'config', message: `CBTHost has no results for ${subject}: ${vendorMessage(input)}` }
        : {
            // A wrong base_url (or a proxy) answers 404 too; reading it as "no results" would end the
            // run with ACTIVATE_VERSION and an empty table downstream, so it stops the run instead.
            action: 'fail',
            blame: 'config',
            message: `CBTHost answered HTTP 404${said(input)} at ${url(input)} for ${subject}, which is not its documented "no results" answer; check base_url (${config.base_url}) and that pass code in your config`,
          },
    // docs/providers/cbthost.md: "Missing or invalid credentials will return a 401 Unauthorized response."
    401: (input): Outcome => ({
      action: 'fail',
      blame: 'config',
      message: `CBTHost refused the pass code ${target.pass_code}${target.test_id === null ? '' : ` (test ${target.test_id})`} (HTTP 401: ${vendorMessage(input)}); check pass_codes and results in your config`,
    }),
    400: (input): Outcome => ({
      action: 'fail',
      blame: 'config',
      message: `CBTHost rejected the request for ${subject} (HTTP 400: ${vendorMessage(input)}); check pass_code and test_id in your config`,
    }),
  });
}

/** Shapes the request for one target: the mass endpoint's path, or the single endpoint's headers. */
export function requestFor(request: HttpRequest, target: ResultTarget, config: CbthostConfig): HttpRequest {
  const classify = classifyFor(target, config);
  if (target.test_id === null) return { ...request, classify };
  return { ...request, path: '/api/result', endpoint: '/api/result', headers: singleHeaders({ pass_code: target.pass_code, test_id: target.test_id }), classify };
}

export const cbthost = defineApi<CbthostConfig>({
  config: configSchema as unknown as z.ZodType<CbthostConfig>,
  baseUrl: (config) => config.base_url,
  // docs/providers/cbthost.md marks Accept: application/json required on both endpoints ("ensures JSON output").
  http: () => ({ apiName: 'CBTHost', headers: { accept: 'application/json' } }),
  records: 'data',
  // One read of the first target. Its documented "no results" 404 still proves base_url and the
  // pass code right; any other 404 fails, so a wrong base_url never passes.
  test: async ({ config, http }) => {
    const first = config.pass_codes[0];
    const target: ResultTarget = first !== undefined ? { pass_code: first, test_id: null } : config.results[0]!;
    const path = first !== undefined ? `/api/result/${encodeURIComponent(first)}` : '/api/result';
    await http.request(requestFor({ path, endpoint: '/api/result/{pass_code}' }, target, config));
  },
});

/** The single endpoint's credentials travel in headers (docs/providers/cbthost.md). */
export function singleHeaders(result: { pass_code: string; test_id: string }): Record<string, string> {
  return { 'cbt-pass-code': result.pass_code, 'test-id': result.test_id };
}
