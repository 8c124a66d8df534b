// The OnlineExamMaker APIs as the simulator serves them: the legacy index.php tasks, the v1 API and viewResult links.
import { createHash, createHmac } from 'node:crypto';
import type { RouteDefinition, SimulatorRequest, SimulatorResponse } from '@tapline/simulator-kit';
import type { OemExam, OemResult, OemWorld } from './world.js';

/**
 * What the every-candidate answer carries beyond the document's section (2) shape (docs/providers/onlineexammaker.md,
 * "Variants"). Real deployments send `status`, `passed` and `tid`; every value may arrive as a string.
 */
export interface OemVariant {
  /** The legacy every-candidate answer carries `status` (0–4). */
  status: boolean;
  /** How the legacy answer sends `passed`: not at all, true/false, 1/0, "1"/"0", or "true"/"false". */
  passed: 'absent' | 'boolean' | 'number' | 'string' | 'text';
  /** Both APIs send `tid`, the attempt id (a real deployment prints it as the certificate number). */
  tid: boolean;
  /** Every value of the legacy answer is a string (`"score":"30"`, `"startTime":"1539075728"`), as in the v1 API. */
  strings: boolean;
  /**
   * The every-candidate request is answered in the document's section (1) shape, the one-candidate
   * answer: `viewResult`, `score`, `startTime`, `endTime`, `status`, with no `sid` and no `name`.
   */
  oneCandidateShape: boolean;
}

export const DOCUMENT_VARIANT: OemVariant = { status: false, passed: 'absent', tid: false, strings: false, oneCandidateShape: false };

/** The id a result's `tid` carries (inferred format: an integer, like the other ids). */
export const tidOf = (result: OemResult): number => 700_000 + result.id;

export interface OemApiOptions {
  world: OemWorld;
  /** Which fields the answers carry and how; tests and the `variant` action change it between runs. */
  variant: OemVariant;
  /** The account's verification code. */
  code: string;
  /** Live time in milliseconds (signature window, link expiry). */
  now(): number;
  /** Largest page served; a bigger `limit` is silently capped (the v1 document caps at 100; inferred for legacy). */
  maxLimit: number;
  /** Premium accounts only (docs/providers/onlineexammaker.md): when false the v1 API refuses this account. */
  v1Enabled: boolean;
  /** Secret behind viewResult link tokens. */
  linkSecret: string;
}

/** viewResult links stop working after 30 minutes (docs/providers/onlineexammaker.md). */
export const VIEW_RESULT_TTL_SECONDS = 30 * 60;
/** Inferred: the document gives no window for the v1 `time`; five minutes either way. */
const SIGNATURE_WINDOW_SECONDS = 300;
const DEFAULT_LIMIT = 30;

// Long on purpose: the vendor's route table, one short handler per endpoint, in the document's order.
export function oemRoutes(options: OemApiOptions): RouteDefinition[] {
  const { world } = options;
  const nowSeconds = () => Math.floor(options.now() / 1000);

  function origin(request: SimulatorRequest): string {
    return `http://${request.headers.host ?? '127.0.0.1'}`;
  }

  function viewResultLink(request: SimulatorRequest, result: OemResult): string {
    const issued = nowSeconds();
    const signature = createHmac('sha256', options.linkSecret).update(`${result.id}-${issued}`).digest('hex').slice(0, 16);
    return `${origin(request)}/viewresult/${result.id}-${issued}-${signature}`;
  }

  /** Offset paging as the document describes: `start` default 0, `limit` default 30; PHP reads them with intval. */
  function page<T>(query: URLSearchParams, items: readonly T[]): T[] {
    const start = Math.max(0, phpInt(query.get('start')));
    const requested = phpInt(query.get('limit'));
    const limit = Math.min(requested > 0 ? requested : DEFAULT_LIMIT, options.maxLimit);
    return items.slice(start, start + limit);
  }

  function resultsOf(query: URLSearchParams): { error: string } | { results: OemResult[] } {
    const eidText = query.get('eid');
    if (eidText === null || eidText === '') return { error: 'Missing parameter: eid' };
    const eid = phpInt(eidText);
    // Inferred: the document shows no error for an unknown exam; answer like the other tasks do.
    if (!world.exams.some((exam) => exam.eid === eid)) return { error: 'The exam does not exist' };
    const sid = phpInt(query.get('sid'));
    return { results: world.results.filter((result) => result.eid === eid && (sid === 0 || result.sid === sid)) };
  }

  function examJson(exam: OemExam) {
    return {
      eid: exam.eid,
      title: exam.title,
      img: exam.img,
      url: exam.url,
      createTime: exam.createTime,
      available: exam.available,
      times: world.results.filter((result) => result.eid === exam.eid).length,
      category: exam.category,
    };
  }

  /**
   * Legacy record, in the document's shape for the form asked: with `sid` (section 1, one candidate)
   * `status` and no `sid`/`name`; without it (section 2, every candidate) `sid` and `name`, plus
   * whatever the variant adds (`status`, `passed`, `tid`, every value a string).
   */
  function legacyResultJson(request: SimulatorRequest, result: OemResult, oneCandidate: boolean) {
    const { variant } = options;
    const common = {
      viewResult: viewResultLink(request, result),
      score: result.score,
      startTime: result.startTime,
      endTime: result.endTime,
    };
    if (oneCandidate || variant.oneCandidateShape) return { ...common, status: result.status };
    const record: Record<string, unknown> = { ...common, sid: result.sid, name: result.name };
    if (variant.status) record.status = result.status;
    if (variant.passed !== 'absent') record.passed = passedAs(variant.passed, result.passed);
    if (variant.tid) record.tid = tidOf(result);
    if (!variant.strings) return record;
    return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, String(value)]));
  }

  /** v1 record: every value a string (docs/providers/onlineexammaker.md). */
  function v1ResultJson(request: SimulatorRequest, result: OemResult) {
    return {
      viewResult: `${viewResultLink(request, result)}?lang=en&src=api`,
      score: String(result.score),
      passed: String(result.passed),
      status: String(result.status),
      startTime: String(result.startTime),
      endTime: String(result.endTime),
      sid: String(result.sid),
      loginValue: result.loginValue,
      name: result.name,
      eid: String(result.eid),
      ...(options.variant.tid ? { tid: String(tidOf(result)) } : {}),
    };
  }

  return [
    {
      // Joomla's front controller: every legacy task is one URL, told apart by `task` (POST works too in PHP).
      name: 'index_php',
      method: ['GET', 'POST'],
      path: '/index.php',
      handle(request) {
        const query = new URLSearchParams(request.query);
        if (request.method === 'POST') for (const [key, value] of new URLSearchParams(request.body)) query.set(key, value);
        const task = query.get('task');
        if (query.get('option') !== 'com_exams') return htmlPage(404, 'Component not found');
        // Without format=raw Joomla wraps the output in the site's HTML template (inferred).
        if (query.get('format') !== 'raw') return htmlPage(200, 'OnlineExamMaker');
        if (task !== 'api.getExams' && task !== 'api.queryResults') return legacyError(`Unknown task: ${task ?? ''}`);
        const code = query.get('code');
        if (code === null || code === '') return legacyError('Missing parameter: code');
        if (code !== options.code) return legacyError('Invalid verification code');
        if (task === 'api.getExams') {
          const eid = phpInt(query.get('eid'));
          const exams = world.exams.filter((exam) => eid === 0 || exam.eid === eid);
          return { body: page(query, exams).map(examJson) };
        }
        const selected = resultsOf(query);
        if ('error' in selected) return legacyError(selected.error);
        // The document: "if the parameter is 0 or not provided, it will display all the candidates".
        const oneCandidate = phpInt(query.get('sid')) !== 0;
        return { body: page(query, selected.results).map((result) => legacyResultJson(request, result, oneCandidate)) };
      },
    },
    {
      name: 'v1_queryresults',
      method: 'GET',
      path: '/api/v1/student/queryresults',
      handle(request) {
        const query = request.query;
        const code = query.get('code') ?? '';
        const time = query.get('time') ?? '';
        if (code === '' || time === '') return v1Error('Missing parameter: code and time are required');
        if (!/^\d+$/.test(time) || Math.abs(Number(time) - nowSeconds()) > SIGNATURE_WINDOW_SECONDS) {
          return v1Error('The time parameter is invalid or expired');
        }
        const expected = createHash('md5')
          .update(time + code)
          .digest('hex');
        if (code !== options.code || (request.headers.authorization ?? '').toLowerCase() !== expected) {
          return v1Error('Authorization failed');
        }
        if (!options.v1Enabled) return v1Error('This API is available to premium accounts only');
        const selected = resultsOf(query);
        if ('error' in selected) return v1Error(selected.error);
        const login = query.get('loginValues');
        const results = login ? selected.results.filter((result) => result.loginValue === login) : selected.results;
        const body = { status: 'ok', data: page(query, results).map((result) => v1ResultJson(request, result)) };
        // The vendor's encoder escapes `&` as \u0026 (docs/providers/onlineexammaker.md); JSON.stringify would not.
        return {
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(body).replace(/&/g, '\\u0026'),
        };
      },
    },
    {
      name: 'view_result',
      method: 'GET',
      path: '/viewresult/:token',
      handle(request) {
        const [id, issued, signature] = (request.params.token ?? '').split('-');
        const expected = createHmac('sha256', options.linkSecret).update(`${id}-${issued}`).digest('hex').slice(0, 16);
        if (!id || !issued || signature !== expected) return htmlPage(404, 'Result not found');
        // Inferred: an expired link answers 403 with a page asking to fetch a new one.
        if (nowSeconds() - Number(issued) > VIEW_RESULT_TTL_SECONDS) return htmlPage(403, 'This link has expired');
        return htmlPage(200, `Result ${id}`);
      },
    },
  ];
}

/** Legacy errors are HTTP 200 with an object instead of the array (docs/providers/onlineexammaker.md). */
function legacyError(message: string): SimulatorResponse {
  return { body: { status: 'error', error: message } };
}

/** Inferred: the v1 failure example was cut off in the stored document; same object as legacy. */
function v1Error(message: string): SimulatorResponse {
  return { body: { status: 'error', error: message } };
}

function passedAs(form: Exclude<OemVariant['passed'], 'absent'>, passed: 0 | 1): unknown {
  if (form === 'boolean') return passed === 1;
  if (form === 'number') return passed;
  if (form === 'string') return String(passed);
  return passed === 1 ? 'true' : 'false';
}

function htmlPage(status: number, title: string): SimulatorResponse {
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body: `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`,
  };
}

/** PHP intval: leading digits, anything else 0. */
function phpInt(value: string | null): number {
  const match = /^\s*(-?\d+)/.exec(value ?? '');
  return match ? Number(match[1]) : 0;
}
