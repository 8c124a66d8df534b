// Route table for simulators: `/v1/groups/:group_id/tests/:test_id/recent_results.:format` patterns.
import type { IncomingHttpHeaders } from 'node:http';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a route handler sees: the parsed request, with path parameters already extracted. */
export interface SimulatorRequest {
  method: string;
  /** The path without the query string, e.g. `/v1/groups/recent_results.json`. */
  path: string;
  url: URL;
  query: URLSearchParams;
  /** Path parameters named in the route pattern. */
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The raw request body (empty string when none). */
  body: string;
  /** The name of the route that matched. */
  route: string;
}

/** What a handler returns. A string or Buffer body is sent as is; anything else is sent as JSON. */
export interface SimulatorResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface RouteDefinition {
  /** A stable name used by the request log and fault injection (e.g. "link_results"). */
  name: string;
  method: HttpMethod | readonly HttpMethod[];
  /** A path pattern; `:name` matches one segment up to the next `/` or `.`. */
  path: string;
  handle(request: SimulatorRequest): SimulatorResponse | Promise<SimulatorResponse>;
}

export interface CompiledRoute {
  definition: RouteDefinition;
  methods: readonly string[];
  pattern: RegExp;
  paramNames: string[];
}

export function compileRoute(definition: RouteDefinition): CompiledRoute {
  const paramNames: string[] = [];
  const source = definition.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)|([^:]+)/g, (_all, name, literal) => {
    if (name) {
      paramNames.push(name as string);
      return '([^/.]+)';
    }
    return (literal as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  const methods = typeof definition.method === 'string' ? [definition.method] : [...definition.method];
  return { definition, methods, pattern: new RegExp(`^${source}$`), paramNames };
}

export type RouteMatch =
  | { kind: 'match'; route: CompiledRoute; params: Record<string, string> }
  | { kind: 'wrong-method'; route: CompiledRoute }
  | { kind: 'none' };

/** Finds the route for a method and path; reports a path that exists under another method. */
export function matchRoute(routes: readonly CompiledRoute[], method: string, path: string): RouteMatch {
  let wrongMethod: CompiledRoute | undefined;
  for (const route of routes) {
    const found = route.pattern.exec(path);
    if (!found) continue;
    if (!route.methods.includes(method)) {
      wrongMethod ??= route;
      continue;
    }
    const params: Record<string, string> = {};
    route.paramNames.forEach((name, i) => {
      params[name] = decodeURIComponent(found[i + 1] ?? '');
    });
    return { kind: 'match', route, params };
  }
  return wrongMethod ? { kind: 'wrong-method', route: wrongMethod } : { kind: 'none' };
}
