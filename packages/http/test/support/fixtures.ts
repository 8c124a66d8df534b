// Shared test wiring: a client with a fake clock, a captured log and fixed jitter, and a strict
// test server per test.

import { afterEach, beforeEach, expect } from 'vitest';
import type { FakeClock, HttpClient, HttpClientOptions, Logger, RequestEvent } from '../../src/index.js';
import { createFakeClock, createHttpClient } from '../../src/index.js';
import type { TestServer } from './test-server.js';
import { startTestServer } from './test-server.js';

export interface Harness {
  client: HttpClient;
  clock: FakeClock;
  lines: string[];
  events: RequestEvent[];
}

export function captureLogger(lines: string[]): Logger {
  const at = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Clients made since the last test ended; `useStrictServer` closes them after each test. */
const openClients: HttpClient[] = [];

/**
 * A fresh test server before each test (handed to `onStart`), and after it: every client made by
 * `makeClient` closed, no unexpected request, the server closed.
 */
export function useStrictServer(onStart: (server: TestServer) => void): void {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
    onStart(server);
  });
  afterEach(async () => {
    for (const client of openClients.splice(0)) await client.close();
    expect(server.unexpected).toEqual([]);
    await server.close();
  });
}

export function makeClient(baseUrl: string, options: Partial<HttpClientOptions> = {}): Harness {
  const clock = createFakeClock();
  const lines: string[] = [];
  const events: RequestEvent[] = [];
  const client = createHttpClient({
    baseUrl,
    clock,
    logger: captureLogger(lines),
    random: () => 0.5,
    onRequest: (e) => void events.push(e),
    ...options,
  });
  openClients.push(client);
  return { client, clock, lines, events };
}
