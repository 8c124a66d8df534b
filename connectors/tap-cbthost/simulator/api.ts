// The CBTHost API as the simulator serves it: the single-result and mass-result endpoints (docs/providers/cbthost.md).
import type { RouteDefinition, SimulatorRequest, SimulatorResponse } from '@tapline/simulator-kit';
import type { CbtTest, CbtWorld } from './world.js';

/**
 * Where the mass answer puts the "summary" its prose promises (docs/providers/cbthost.md, "Fields"):
 * `none` as in the document's example (`data` is the array), `beside` the array (`data` and `summary`),
 * or `inside` (`data: {students: [...], summary: {...}}`). All three are inferred readings of the prose.
 */
export type MassShape = 'none' | 'beside' | 'inside';

export function cbthostRoutes(world: CbtWorld, options: { massShape?: MassShape } = {}): RouteDefinition[] {
  const testByPassCode = (passCode: string) => world.tests.find((test) => test.passCode === passCode);
  /** The exam a mass-endpoint code names. Inferred: the document calls it the exam's passcode but its
   * example passes a student's code (`cbthost-pssi-0069`), so both resolve to the exam. */
  const testByCode = (code: string): CbtTest | undefined =>
    testByPassCode(code) ?? testByPassCode(world.results.find((result) => result.passCode === code)?.examPassCode ?? '');

  return [
    {
      name: 'single_result',
      method: 'GET',
      path: '/api/result',
      handle: jsonOnly((request) => {
        const passCode = header(request, 'cbt-pass-code');
        const testId = header(request, 'test-id');
        if (!passCode || !testId) {
          // The document's general note says missing credentials answer 401, but this endpoint's own
          // section shows this 400 for missing headers, with its body: the specific example is followed.
          // The message names the headers with underscores although they are sent with hyphens (document's wording).
          return { status: 400, body: { serverstatus: 400, message: 'Missing required headers: cbt_pass_code, test_id' } };
        }
        const result = world.results.find((candidate) => candidate.passCode === passCode && candidate.testId === testId);
        const test = result && testByPassCode(result.examPassCode);
        if (result && test && !test.apiEnabled) return { status: 401, body: { serverstatus: 401, message: 'Unauthorized' } };
        if (!result || !test) {
          // Likewise the section's own 404 covers an invalid pass code ("cbt pass code is invalid, or no
          // record found"), so an unknown pair answers it rather than the general note's 401.
          return { status: 404, body: { serverstatus: 404, message: 'cbt pass code is invalid, or no record found' } };
        }
        return {
          body: {
            status: 'success',
            data: {
              cbt_test_id: result.testId,
              cbt_test_info: test.info,
              cbt_pass_code: result.passCode,
              cbt_total_score: result.score,
            },
          },
        };
      }),
    },
    {
      name: 'mass_results',
      method: 'GET',
      path: '/api/result/:pass_code',
      handle: jsonOnly((request) => {
        const test = testByCode(request.params.pass_code ?? '');
        // The pass code in the path is this endpoint's credential, and the document says "Missing or
        // invalid credentials will return a 401 Unauthorized response"; the mass section documents no
        // other answer for an unknown code, so it gets the 401. The body is not shown (inferred: the
        // mass envelope).
        if (!test?.apiEnabled) return { status: 401, body: { status: 'error', message: 'Unauthorized' } };
        // An exam's results, not every result under its test id: exams of one owner share the test id
        // (the `shared-test-id` variant) and are told apart by pass code (docs/providers/cbthost.md).
        const results = world.results.filter((result) => result.examPassCode === test.passCode);
        // The mass section's only documented error: a known exam that has no results.
        if (results.length === 0) return { status: 404, body: { status: 'error', message: 'No results found for this test ID' } };
        // The document's prose promises "student array and summary"; its JSON example has only the array,
        // the default. `massShape` serves the summary beside the array or wraps both (inferred readings).
        const students = results.map((result) => ({
          cbt_pass_code: result.passCode,
          cbt_test_id: result.testId,
          cbt_total_score: result.score,
        }));
        const scores = results.map((result) => result.score).filter((score): score is number => score !== null);
        const summary = {
          total_students: results.length,
          average_score: scores.length === 0 ? null : Math.round((scores.reduce((a, b) => a + b, 0) / scores.length) * 100) / 100,
          highest_score: scores.length === 0 ? null : Math.max(...scores),
          lowest_score: scores.length === 0 ? null : Math.min(...scores),
        };
        const shape = options.massShape ?? 'none';
        if (shape === 'beside') return { body: { status: 'success', data: students, summary } };
        if (shape === 'inside') return { body: { status: 'success', data: { students, summary } } };
        return { body: { status: 'success', data: students } };
      }),
    },
  ];
}

/** The document marks `Accept: application/json` required "to ensure JSON output". Inferred: without it the
 * (Laravel) server answers with an HTML page, with the status it would have sent. */
function jsonOnly(handler: (request: SimulatorRequest) => SimulatorResponse): (request: SimulatorRequest) => SimulatorResponse {
  return (request) => {
    const response = handler(request);
    if (acceptsJson(request)) return response;
    const status = response.status ?? 200;
    return {
      status,
      headers: { 'content-type': 'text/html; charset=UTF-8' },
      body: `<!DOCTYPE html><html><head><title>CBTHost</title></head><body><h1>${status === 200 ? 'Result' : `Error ${status}`}</h1></body></html>`,
    };
  };
}

function acceptsJson(request: SimulatorRequest): boolean {
  const accept = String(request.headers.accept ?? '').toLowerCase();
  return accept.split(',').some((part) => part.trim().split(';')[0] === 'application/json');
}

/** Header lookup; inferred: PHP also exposes the header with underscores, so `cbt_pass_code` works too. */
function header(request: SimulatorRequest, name: string): string | undefined {
  const value = request.headers[name] ?? request.headers[name.replace(/-/g, '_')];
  const text = Array.isArray(value) ? value[0] : value;
  return text?.trim() || undefined;
}
