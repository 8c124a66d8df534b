// Error-answer modes: a simulator serves its vendor's error shapes (HTTP 200 error bodies, null, HTML)
// from a named table, chosen by a CLI flag, a start option or an action at runtime.
import type { FaultSpec } from './faults.js';
import type { SimulatorResponse } from './routes.js';

/** One error answer to serve: a shape from the simulator's table, on a route (default every route). */
export interface ErrorAnswerSpec {
  shape: string;
  /** A route name; omitted or "*" means every API route. */
  route?: string;
  /** How many matching requests answer it (default: until cleared). */
  times?: number;
  /** Let this many matching requests through first (default 0). */
  after?: number;
}

/** A simulator's error shapes by name: `{ 'no-results-200': { status: 200, body: {...} } }`. */
export type ErrorAnswers = Readonly<Record<string, SimulatorResponse>>;

/** The shapes every JSON API may send when its backend fails: `null` and an HTML page, both with HTTP 200. */
export function commonErrorAnswers(site: string): ErrorAnswers {
  return {
    null: { status: 200, headers: { 'content-type': 'application/json' }, body: 'null' },
    html: {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!DOCTYPE html><html><head><title>${site} - Error</title></head><body><h1>Something went wrong</h1></body></html>`,
    },
  };
}

/** The fault that serves `spec` (a canned `respond`); throws a sentence listing the shapes for an unknown one. */
export function errorAnswerFault(answers: ErrorAnswers, spec: ErrorAnswerSpec): FaultSpec {
  const response = answers[spec.shape];
  if (response === undefined) throw new Error(`no error answer "${spec.shape}"; the shapes are: ${Object.keys(answers).join(', ')}`);
  return {
    kind: 'respond',
    response,
    ...(spec.route !== undefined ? { route: spec.route } : {}),
    times: spec.times === undefined || spec.times === null || spec.times === -1 ? Number.POSITIVE_INFINITY : spec.times,
    ...(spec.after !== undefined ? { after: spec.after } : {}),
  };
}

/** Reads `--error-answer SHAPE[@ROUTE]` (or a JSON ErrorAnswerSpec; a list repeats with commas: `null@exams,html`). */
export function parseErrorAnswers(text: string | undefined): ErrorAnswerSpec[] {
  if (text === undefined || text.trim() === '') return [];
  if (text.trim().startsWith('{')) return [JSON.parse(text) as ErrorAnswerSpec];
  return text.split(',').map((part) => {
    const [shape = '', route] = part.trim().split('@');
    return route === undefined ? { shape } : { shape, route };
  });
}

/** Args of the `error-answer` action (`POST /__simulator/actions/error-answer`), checked. */
export function errorAnswerArgs(args: Record<string, unknown>): ErrorAnswerSpec {
  if (typeof args.shape !== 'string') throw new Error('error-answer needs "shape" (and optionally "route", "times", "after")');
  return {
    shape: args.shape,
    ...(typeof args.route === 'string' ? { route: args.route } : {}),
    ...(typeof args.times === 'number' ? { times: args.times } : {}),
    ...(typeof args.after === 'number' ? { after: args.after } : {}),
  };
}
