// Shared test wiring: a client with a fake clock, a captured log and fixed jitter.

import { createFakeClock, createHttpClient } from '../../src/index.js';
import type { FakeClock, HttpClient, HttpClientOptions, Logger, RequestEvent } from '../../src/index.js';

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
  return { client, clock, lines, events };
}
