// A scripted HTTP server on 127.0.0.1 (random port) for tests: each request is answered by the next
// handler in line for its path, and an unexpected request fails the test.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as is. */
  body?: unknown;
  /** Wait this long before sending headers (for timeout tests). */
  delayMs?: number;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /** Send headers and half the body, then pause this long before the rest (body timeout tests). */
  stallBodyMs?: number;
  /** Take over the response (trickling, huge or endless bodies); the other fields are ignored. */
  respond?: (res: ServerResponse) => void;
}

export type Handler = Reply | ((req: ReceivedRequest) => Reply);

export interface TestServer {
  baseUrl: string;
  received: ReceivedRequest[];
  /** Queue handlers for `path` (answered in order; the last one repeats when `repeat` is set). */
  on(path: string, ...handlers: Handler[]): TestServer;
  /** Answer every request for `path` with this handler. */
  always(path: string, handler: Handler): TestServer;
  /** Requests that matched no handler (a test should expect this to be empty). */
  unexpected: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const queues = new Map<string, Handler[]>();
  const fixed = new Map<string, Handler>();
  const received: ReceivedRequest[] = [];
  const unexpected: ReceivedRequest[] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const r: ReceivedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(r);
      const handler = queues.get(r.path)?.shift() ?? fixed.get(r.path);
      if (!handler) {
        unexpected.push(r);
        res.writeHead(599, { 'content-type': 'text/plain' }).end(`unexpected request ${r.method} ${r.url}`);
        return;
      }
      const reply = typeof handler === 'function' ? handler(r) : handler;
      const send = () => {
        if (reply.respond) {
          reply.respond(res);
          return;
        }
        if (reply.drop) {
          req.socket.destroy();
          return;
        }
        const isText = typeof reply.body === 'string';
        const payload = reply.body === undefined ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body);
        res.writeHead(reply.status ?? 200, {
          'content-type': isText ? 'text/plain' : 'application/json',
          ...reply.headers,
        });
        if (reply.stallBodyMs) {
          res.write(payload.slice(0, Math.floor(payload.length / 2)));
          setTimeout(() => res.end(payload.slice(Math.floor(payload.length / 2))), reply.stallBodyMs);
          return;
        }
        res.end(payload);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const api: TestServer = {
    baseUrl: `http://127.0.0.1:${port}`,
    received,
    unexpected,
    on(path, ...handlers) {
      queues.set(path, [...(queues.get(path) ?? []), ...handlers]);
      return api;
    },
    always(path, handler) {
      fixed.set(path, handler);
      return api;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return api;
}
