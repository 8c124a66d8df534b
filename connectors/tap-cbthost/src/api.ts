// The CBTHost API profile: config, the Accept header every call needs, and what each error envelope means.
import { type Classifier, type Outcome, type ResponseToClassify, successShape, vendorMessage } from '@tapline/http';
import { SECRET_SETTING } from '@tapline/singer';
import { defineApi, type StreamEndpoint } from '@tapline/tap-kit';
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
      .describe("Exam pass codes: every student's result of each is read from GET /api/result/{pass_code}.")
      .meta(SECRET_SETTING),
    results: z.array(singleResult).default([]).describe('Single results to read from GET /api/result (pass code + test id pairs).'),
  })
  .refine((config) => config.pass_codes.length + config.results.length > 0, {
    message: 'name at least one exam in pass_codes or one result in results',
    path: ['pass_codes'],
  });

export type CbthostConfig = z.output<typeof configSchema>;

/** One configured read: an exam by its pass code (mass endpoint, `test_id` null) or one student's result. */
export type ResultTarget = { pass_code: string; test_id: string | null };

/** CBTHost's error envelopes: `{serverstatus, message}` (single) or `{status: "error", message}` (mass), with any HTTP status. */
interface ErrorEnvelope {
  /** The status the answer means: `serverstatus`, else the HTTP status. */
  status: number;
  message: string | undefined;
}

/** The error envelope in a response, with HTTP 200 too (a 200 whose body says error is an error), else undefined. */
function errorEnvelope(input: ResponseToClassify): ErrorEnvelope | undefined {
  const body = input.body as { status?: unknown; serverstatus?: unknown; message?: unknown } | null;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const declared = Number(body.serverstatus);
  const isError =
    body.status === 'error' || (Number.isInteger(declared) && declared >= 400) || (input.status >= 400 && typeof body.message === 'string');
  if (!isError) return undefined;
  return {
    status: Number.isInteger(declared) && declared >= 100 ? declared : input.status,
    message: vendorMessage(body),
  };
}

/**
 * The documented "nothing here" answers (docs/providers/cbthost.md): the mass endpoint's "No results found for
 * this test ID" and the single endpoint's "cbt pass code is invalid, or no record found", whichever
 * endpoint sends it and with whichever HTTP status (404 in the document, 200 from some deployments).
 */
function isDocumentedNotFound(envelope: ErrorEnvelope): boolean {
  const message = envelope.message?.trim().toLowerCase();
  return message === 'no results found for this test id' || message === 'cbt pass code is invalid, or no record found';
}

/**
 * How CBTHost's answers to one target's request are read. Per request, so every sentence can name
 * the pass code: the single endpoint sends it in a header, which the response does not show.
 */
export function classifyFor(target: ResultTarget, config: CbthostConfig): Classifier {
  const subject = target.test_id === null ? `exam ${target.pass_code}` : `pass code ${target.pass_code} (test ${target.test_id})`;
  const url = (input: ResponseToClassify) => `${new URL(config.base_url).origin}${input.request.path}`;
  const http = (input: ResponseToClassify, envelope: ErrorEnvelope) =>
    `HTTP ${input.status}${envelope.status !== input.status ? `, serverstatus ${envelope.status}` : ''}${envelope.message !== undefined ? `: ${envelope.message}` : ''}`;
  return (input) => {
    if (input.kind !== 'response' || input.parseError !== undefined) return undefined;
    const envelope = errorEnvelope(input);
    if (envelope === undefined) return undefined;
    // No results for this exam (or pass code): skipped, and the kit keeps the rows earlier runs loaded.
    if (isDocumentedNotFound(envelope))
      return { action: 'skip', blame: 'config', message: `CBTHost has no results for ${subject}: ${envelope.message}` };
    // docs/providers/cbthost.md: "Missing or invalid credentials will return a 401 Unauthorized response."
    if (envelope.status === 401) {
      return fix(
        `CBTHost refused the pass code ${target.pass_code}${target.test_id === null ? '' : ` (test ${target.test_id})`} (${http(input, envelope)}); check pass_codes and results in your config`,
      );
    }
    if (envelope.status === 400)
      return fix(`CBTHost rejected the request for ${subject} (${http(input, envelope)}); check pass_code and test_id in your config`);
    if (envelope.status === 404) {
      // A wrong base_url (or a proxy) answers 404 too; reading it as "no results" would end the
      // run with ACTIVATE_VERSION and an empty table downstream, so it stops the run instead.
      return fix(
        `CBTHost answered ${http(input, envelope)} at ${url(input)} for ${subject}, which is not its documented "no results" answer; check base_url (${config.base_url}) and that pass code in your config`,
      );
    }
    if (envelope.status === 429 || envelope.status >= 500) return undefined; // waited out or retried (the kit's default and unrecognisedBody)
    // Any other error, including one served with HTTP 200: never a page.
    return fix(
      `CBTHost answered with an error for ${subject} (${http(input, envelope)}); check base_url and the pass codes in your config`,
    );
  };
}

const fix = (message: string): Outcome => ({ action: 'fail', blame: 'config', message });

/** A page: `{"status": "success", "data": [...]}` (mass) or `{"status": "success", "data": {...}}` (single) (docs/providers/cbthost.md). */
const successEnvelope = successShape('{"status": "success", "data": ...}, the CBTHost result envelope', (body) => {
  const envelope = body as { status?: unknown; data?: unknown } | null;
  return (
    typeof envelope === 'object' &&
    envelope !== null &&
    envelope.status === 'success' &&
    typeof envelope.data === 'object' &&
    envelope.data !== null
  );
});

/**
 * The results in a success answer: `data` itself when it is the array (the mass example) or one result
 * (single); `data.students` when the mass answer wraps its "student array and summary" in `data` (the
 * prose's promise, inferred shape). The summary is an aggregate of those rows, not a record: not kept.
 */
export function resultsOf(body: unknown): readonly unknown[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (Array.isArray(data)) return data;
  if (typeof data !== 'object' || data === null) return [];
  const students = (data as { students?: unknown }).students;
  return Array.isArray(students) ? students : [data];
}

/** One target's endpoint: the mass endpoint (the stream's path) for an exam, or the single endpoint, whose credentials go in headers. */
export function endpointFor(target: ResultTarget): StreamEndpoint | undefined {
  if (target.test_id === null) return undefined;
  return { path: '/api/result', headers: singleHeaders({ pass_code: target.pass_code, test_id: target.test_id }) };
}

export const cbthost = defineApi<CbthostConfig>({
  config: configSchema as unknown as z.ZodType<CbthostConfig>,
  baseUrl: (config) => config.base_url,
  // docs/providers/cbthost.md marks Accept: application/json required on both endpoints ("ensures JSON output").
  http: () => ({ apiName: 'CBTHost', headers: { accept: 'application/json' } }),
  success: successEnvelope,
  records: resultsOf,
  // One read of the first target. Its documented "no results" 404 still proves base_url and the
  // pass code right; any other 404 fails, so a wrong base_url never passes.
  test: async ({ config, http }) => {
    const first = config.pass_codes[0];
    const target: ResultTarget = first !== undefined ? { pass_code: first, test_id: null } : config.results[0]!;
    const single = endpointFor(target);
    const where =
      single === undefined
        ? { path: `/api/result/${encodeURIComponent(first!)}`, endpoint: '/api/result/{pass_code}' }
        : { path: single.path!, endpoint: single.path!, headers: single.headers! };
    await http.request({ ...where, classify: classifyFor(target, config) });
  },
});

/** The single endpoint's credentials travel in headers (docs/providers/cbthost.md). */
export function singleHeaders(result: { pass_code: string; test_id: string }): Record<string, string> {
  return { 'cbt-pass-code': result.pass_code, 'test-id': result.test_id };
}
