// The simulator HTTP server: a real node:http server on 127.0.0.1 serving a route table.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultController, type FaultSpec, parseFaultSpec } from './faults.js';
import { type LoggedRequest, RequestLog } from './request-log.js';
import {
  type CompiledRoute,
  compileRoute,
  matchRoute,
  type RouteDefinition,
  type SimulatorRequest,
  type SimulatorResponse,
} from './routes.js';

/** Control endpoints for simulators started from the CLI (never logged as API requests). */
export const CONTROL_PREFIX = '/__simulator';

export interface SimulatorDefinition<TConfig> {
  /** Shown in errors, e.g. "classmarker". */
  name: string;
  routes: readonly RouteDefinition[];
  /** A ready-to-use tap config pointing at this simulator. */
  tapConfig(baseUrl: string): TConfig;
  /** The vendor's rate-limit answer, used by the `rate-limit` fault (default: 429 + Retry-After). */
  rateLimitResponse?(request: SimulatorRequest, retryAfterSeconds: number): SimulatorResponse;
  /** The vendor's answer for an unknown path or method (default: 404 JSON). */
  notFound?(request: Omit<SimulatorRequest, 'params' | 'route'>, reason: 'no-route' | 'wrong-method'): SimulatorResponse;
  /** Named admin actions tests or CLI users can trigger: POST /__simulator/actions/<name> with JSON args. */
  actions?: Record<string, (args: Record<string, unknown>) => unknown>;
}

export interface StartOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Faults active from the first request. */
  faults?: readonly FaultSpec[];
  /**
   * A request no route serves (a tap calling a wrong path) makes `close()` fail, naming it, so the
   * test that sent it fails. 'allow' is for a test that sends one on purpose, and for the bins.
   */
  unexpected?: 'fail' | 'allow';
}

export interface RunningSimulator<TConfig> {
  /** e.g. http://127.0.0.1:54321 (no trailing slash). */
  baseUrl: string;
  port: number;
  /** The ready-to-use tap config. */
  config: TConfig;
  requests: RequestLog;
  faults: FaultController;
  /** Runs a named admin action (same as the control endpoint). */
  act(name: string, args?: Record<string, unknown>): unknown;
  /** Stops serving; then fails, naming them, when it served unexpected requests (unless started with `unexpected: 'allow'`). */
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function encode(response: SimulatorResponse): { status: number; headers: Record<string, string>; body: Buffer } {
  const headers: Record<string, string> = { ...response.headers };
  let body: Buffer;
  if (response.body === undefined) body = Buffer.alloc(0);
  else if (Buffer.isBuffer(response.body)) body = response.body;
  else if (typeof response.body === 'string') body = Buffer.from(response.body, 'utf8');
  else {
    body = Buffer.from(JSON.stringify(response.body), 'utf8');
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  headers['content-length'] = String(body.length);
  return { status: response.status ?? 200, headers, body };
}

function send(res: ServerResponse, response: SimulatorResponse): number {
  const { status, headers, body } = encode(response);
  res.writeHead(status, headers);
  res.end(body);
  return status;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a running simulator's request handlers share. */
interface Serving<TConfig> {
  definition: SimulatorDefinition<TConfig>;
  routes: readonly CompiledRoute[];
  requests: RequestLog;
  faults: FaultController;
  /** Requests no route served; kept apart from the request log, which a test may clear between its phases. */
  unexpected: LoggedRequest[];
  act(name: string, args?: Record<string, unknown>): unknown;
}

export async function startSimulator<TConfig>(
  definition: SimulatorDefinition<TConfig>,
  options: StartOptions = {},
): Promise<RunningSimulator<TConfig>> {
  const faults = new FaultController();
  for (const fault of options.faults ?? []) faults.inject(fault);
  const serving: Serving<TConfig> = {
    definition,
    routes: definition.routes.map(compileRoute),
    requests: new RequestLog(),
    faults,
    unexpected: [],
    act: (name, args = {}) => {
      const action = definition.actions?.[name];
      if (!action) throw new Error(`${definition.name} simulator has no action "${name}"`);
      return action(args);
    },
  };
  const server = createServer((req, res) => {
    handle(serving, req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: String(error) } });
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 5_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://${host}:${port}`;

  return {
    baseUrl,
    port,
    config: definition.tapConfig(baseUrl),
    requests: serving.requests,
    faults,
    act: serving.act,
    close: async () => {
      await new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      if (serving.unexpected.length > 0 && options.unexpected !== 'allow') {
        const listed = serving.unexpected.map((r) => `${r.method} ${r.path}`);
        throw new Error(
          `${definition.name} simulator: no route serves ${[...new Set(listed)].join(', ')}; a test that sends such requests on purpose starts it with unexpected: 'allow'.`,
        );
      }
    },
  };
}

/** The control endpoints under CONTROL_PREFIX: the request log, faults and actions. */
async function control<TConfig>(serving: Serving<TConfig>, path: string, method: string, body: string, res: ServerResponse): Promise<void> {
  const { requests, faults } = serving;
  try {
    const parsed: unknown = body ? JSON.parse(body) : {};
    if (path === `${CONTROL_PREFIX}/requests` && method === 'GET') {
      send(res, { body: requests.all() });
    } else if (path === `${CONTROL_PREFIX}/requests` && method === 'DELETE') {
      requests.clear();
      send(res, { body: { ok: true } });
    } else if (path === `${CONTROL_PREFIX}/faults` && method === 'POST') {
      faults.inject(parseFaultSpec(parsed));
      send(res, { body: { ok: true } });
    } else if (path === `${CONTROL_PREFIX}/faults` && method === 'DELETE') {
      faults.clear();
      send(res, { body: { ok: true } });
    } else if (path.startsWith(`${CONTROL_PREFIX}/actions/`) && method === 'POST') {
      const result = await serving.act(path.slice(`${CONTROL_PREFIX}/actions/`.length), parsed as Record<string, unknown>);
      send(res, { body: { ok: true, result: result ?? null } });
    } else {
      send(res, { status: 404, body: { error: `no simulator control endpoint ${method} ${path}` } });
    }
  } catch (error) {
    send(res, { status: 400, body: { error: (error as Error).message } });
  }
}

/** One API request: the route that serves it (or the vendor's not-found answer), through any fault. */
async function handle<TConfig>(serving: Serving<TConfig>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { definition, requests } = serving;
  const url = new URL(req.url ?? '/', 'http://simulator.invalid');
  const method = (req.method ?? 'GET').toUpperCase();
  const body = await readBody(req);
  if (url.pathname.startsWith(CONTROL_PREFIX)) return control(serving, url.pathname, method, body, res);

  const base = { method, path: url.pathname, url, query: url.searchParams, headers: req.headers, body };
  const logEntry = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), body, at: Date.now() };
  const match = matchRoute(serving.routes, method, url.pathname);
  if (match.kind !== 'match') {
    const reason = match.kind === 'none' ? 'no-route' : 'wrong-method';
    const response = definition.notFound?.(base, reason) ?? {
      status: reason === 'no-route' ? 404 : 405,
      body: { error: `${definition.name} simulator: no route for ${method} ${url.pathname}` },
    };
    serving.unexpected.push(requests.record({ ...logEntry, route: null, status: send(res, response), fault: null }));
    return;
  }

  const route = match.route.definition;
  const request: SimulatorRequest = { ...base, params: match.params, route: route.name };
  const fault = serving.faults.take(route.name);
  const record = (status: number | null) => requests.record({ ...logEntry, route: route.name, status, fault: fault?.kind ?? null });
  if (fault !== undefined && (await answeredByFault(serving, fault, request, req, res, record))) return;

  let response: SimulatorResponse;
  try {
    response = await route.handle(request);
  } catch (error) {
    response = { status: 500, body: { error: `${definition.name} simulator bug: ${(error as Error).message}` } };
  }
  if (fault?.kind === 'malformed') {
    const real = encode(response).body.toString('utf8');
    response = { ...response, status: 200, body: fault.body ?? real.slice(0, Math.max(1, Math.floor(real.length / 2))) };
  }
  record(send(res, response));
}

/** Applies a fault before the route runs; true when the fault answered (or dropped) the request itself. */
async function answeredByFault<TConfig>(
  serving: Serving<TConfig>,
  fault: FaultSpec,
  request: SimulatorRequest,
  req: IncomingMessage,
  res: ServerResponse,
  record: (status: number | null) => void,
): Promise<boolean> {
  switch (fault.kind) {
    case 'drop':
      record(null);
      req.socket.destroy();
      return true;
    case 'status':
      record(send(res, { status: fault.status ?? 503, headers: fault.headers, body: fault.body ?? { error: 'simulated server error' } }));
      return true;
    case 'rate-limit': {
      const seconds = fault.retryAfterSeconds ?? 1;
      const response = serving.definition.rateLimitResponse?.(request, seconds) ?? {
        status: 429,
        headers: { 'retry-after': String(seconds) },
        body: { error: 'rate limit exceeded (simulated)' },
      };
      record(send(res, response));
      return true;
    }
    case 'respond':
      record(send(res, fault.response));
      return true;
    case 'delay':
      await sleep(fault.ms);
      return false;
    case 'act':
      await serving.act(fault.action, fault.args ?? {});
      return false;
    default:
      return false;
  }
}
