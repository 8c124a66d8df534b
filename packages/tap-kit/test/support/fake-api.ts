// A tiny strict fake API on 127.0.0.1 for the kit's own tests: routes by path, logs every request,
// and answers 599 (failing the test) to anything unexpected.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
}

export type FakeHandler = (request: FakeRequest) => { status?: number; body: unknown; headers?: Record<string, string> };

export interface FakeApi {
  baseUrl: string;
  requests: FakeRequest[];
  unexpected: FakeRequest[];
  close(): Promise<void>;
}

/** Starts a fake API; routes are matched on `METHOD /path` (path without query). */
export async function startFakeApi(routes: Record<string, FakeHandler>): Promise<FakeApi> {
  const requests: FakeRequest[] = [];
  const unexpected: FakeRequest[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const request: FakeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
    };
    requests.push(request);
    const handler = routes[`${request.method} ${request.path}`];
    if (!handler) {
      unexpected.push(request);
      res.writeHead(599, { 'content-type': 'application/json' }).end('{"error":"unexpected request"}');
      return;
    }
    const answer = handler(request);
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    unexpected,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * One fake API per test: `const api = fakeApiPerTest(); const fake = await api.start(routes)`. After
 * each test it fails on any unexpected request, then closes the server.
 */
export function fakeApiPerTest(afterEach: (hook: () => Promise<void>) => void): {
  start(routes: Record<string, FakeHandler>): Promise<FakeApi>;
} {
  let current: FakeApi | undefined;
  afterEach(async () => {
    const fake = current;
    current = undefined;
    await fake?.close();
    if (fake && fake.unexpected.length > 0)
      throw new Error(`unexpected requests: ${JSON.stringify(fake.unexpected.map((r) => `${r.method} ${r.path}`))}`);
  });
  return {
    async start(routes) {
      current = await startFakeApi(routes);
      return current;
    },
  };
}
