// The CBTHost API profile: config, the Accept header every call needs, and what each error envelope means.
import { byStatus, type Outcome, type ResponseToClassify } from '@tapline/http';
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

/** `message` from either envelope: `{serverstatus, message}` (single) or `{status: "error", message}` (mass). */
function vendorMessage(input: ResponseToClassify): string {
  const body = input.body as { message?: unknown } | null;
  return typeof body?.message === 'string' ? body.message : `HTTP ${input.status}`;
}

/** Which pass code a request was for: the path segment (mass) or the redacted header is not available, so the path. */
function subject(input: ResponseToClassify): string {
  return input.request.path === '/api/result' ? 'a configured single result' : `exam ${input.request.path.split('/').pop()}`;
}

const outcomes = byStatus({
  // 404 on either endpoint means "nothing here" for that one exam or result: report it, sync the rest.
  404: (input): Outcome => ({ action: 'skip', blame: 'config', message: `CBTHost has no results for ${subject(input)}: ${vendorMessage(input)}` }),
  // cbthost-api.txt: "Missing or invalid credentials will return a 401 Unauthorized response."
  401: (input): Outcome => ({
    action: 'fail',
    blame: 'config',
    message: `CBTHost refused the credentials for ${subject(input)} (HTTP 401: ${vendorMessage(input)}); check the pass codes and test ids in your config`,
  }),
  400: (input): Outcome => ({
    action: 'fail',
    blame: 'config',
    message: `CBTHost rejected the request for ${subject(input)} (HTTP 400: ${vendorMessage(input)}); check pass_code and test_id in your config`,
  }),
});

export const cbthost = defineApi<CbthostConfig>({
  config: configSchema as unknown as z.ZodType<CbthostConfig>,
  baseUrl: (config) => config.base_url,
  // cbthost-api.txt marks Accept: application/json required on both endpoints ("ensures JSON output").
  http: () => ({ headers: { accept: 'application/json' }, classify: outcomes }),
  records: 'data',
  test: async ({ config, http }) => {
    const first = config.pass_codes[0];
    if (first !== undefined) await http.request({ path: `/api/result/${encodeURIComponent(first)}`, endpoint: '/api/result/{pass_code}' });
    else await http.request({ path: '/api/result', headers: singleHeaders(config.results[0]!), endpoint: '/api/result' });
  },
});

/** The single endpoint's credentials travel in headers (cbthost-api.txt). */
export function singleHeaders(result: { pass_code: string; test_id: string }): Record<string, string> {
  return { 'cbt-pass-code': result.pass_code, 'test-id': result.test_id };
}
