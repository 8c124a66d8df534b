// Request log: the logger interface, the one-line-per-request format and Singer SDK style METRIC lines.

import { createLogger, type LogLevel } from '@tapline/singer';
import type { Action } from './classify.js';

/** Where a tap's diagnostics go; every implementation must write to stderr (stdout carries Singer messages). */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type { LogLevel } from '@tapline/singer';

/** The shared stderr logger (@tapline/singer's): `LEVEL message` lines. */
export function createStderrLogger(options: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  return createLogger(options);
}

export { silentLogger } from '@tapline/singer';

/** Wrap a logger so every line passes through `redact` first. */
export function redactingLogger(logger: Logger, redact: (text: string) => string): Logger {
  return {
    debug: (m) => logger.debug(redact(m)),
    info: (m) => logger.info(redact(m)),
    warn: (m) => logger.warn(redact(m)),
    error: (m) => logger.error(redact(m)),
  };
}

/** One finished attempt, as given to the `onRequest` hook (all strings already redacted). */
export interface RequestEvent {
  method: string;
  /** The endpoint label: the request's `endpoint` (a path template) or its path. */
  endpoint: string;
  /** Path and non-secret query, redacted. */
  target: string;
  /** HTTP status, or undefined for a network error / timeout. */
  status: number | undefined;
  elapsedMs: number;
  /** 1-based attempt number within this request. */
  attempt: number;
  action: Action;
  /** Network error code when no response arrived, or the body did not (a timeout, `REQUEST_DEADLINE`, `RESPONSE_TOO_LARGE`). */
  errorCode?: string;
}

/** `GET /v1/links/recent_results.json?limit=200&signature=[REDACTED] 200 123ms attempt=1` */
export function formatRequestLine(event: RequestEvent): string {
  // A status with an error code: the headers arrived, the body did not (a timeout, a limit).
  const status = event.status === undefined ? (event.errorCode ?? 'ERR') : `${event.status}${event.errorCode ? ` ${event.errorCode}` : ''}`;
  const verdict = event.action === 'ok' ? '' : ` -> ${event.action}`;
  return `${event.method} ${event.target} ${status} ${Math.round(event.elapsedMs)}ms attempt=${event.attempt}${verdict}`;
}

/** A Singer SDK style metric, as an object (for loggers with their own `metric()` method). */
export interface Metric {
  type: 'timer' | 'counter';
  metric: string;
  value: number;
  tags: Record<string, unknown>;
}

/**
 * The `http_request_duration` timer for one attempt, as the Singer SDK emits it: value in seconds,
 * tags `endpoint`, `http_status_code` and `status` (succeeded/failed). Extra tags (stream, context) are merged in.
 */
export function requestMetric(event: RequestEvent, extraTags: Readonly<Record<string, unknown>> = {}): Metric {
  return {
    type: 'timer',
    metric: 'http_request_duration',
    value: Math.round(event.elapsedMs) / 1000,
    tags: {
      ...extraTags,
      endpoint: event.endpoint,
      http_status_code: event.status ?? null,
      status: event.action === 'ok' || event.action === 'skip' ? 'succeeded' : 'failed',
    },
  };
}

/**
 * `METRIC: {"type":"timer","metric":"http_request_duration","value":0.12,"tags":{"endpoint":"/v1.json","http_status_code":200,"status":"succeeded"}}`
 */
export function formatRequestMetric(event: RequestEvent, extraTags: Readonly<Record<string, unknown>> = {}): string {
  return `METRIC: ${JSON.stringify(requestMetric(event, extraTags))}`;
}
