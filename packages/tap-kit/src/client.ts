// Builds the one HTTP client a run uses from the API profile: lossless JSON, METRIC lines, secrets.
import { createHttpClient, formatRequestMetric, type HttpClient, RateBudget, type RateBudgetState } from '@tapline/http';
import { parseJson } from '@tapline/singer';
import type { SharedSettings } from './config.js';
import type { ApiProfile } from './declare.js';
import type { Logger } from './log.js';

const SECRET_KEY = /key|secret|token|password|passwd|signature|credential|pass_code/i;

/**
 * Config values under secret-looking keys, so they are redacted from every log line and error:
 * at any depth, and every string inside such a key (CBTHost's `pass_codes: [...]` and
 * `results: [{ pass_code }]` are credentials too).
 */
export function secretValues(config: unknown): string[] {
  const found: string[] = [];
  const walk = (value: unknown, secret: boolean): void => {
    if (typeof value === 'string') {
      if (secret && value.length >= 4) found.push(value);
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, secret);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) walk(item, secret || SECRET_KEY.test(key));
    }
  };
  walk(config, false);
  return found;
}

export interface ApiClientOptions {
  /** Recent requests from an earlier run's state, so the API's rate budget holds across runs. */
  budgetState?: RateBudgetState | undefined;
  /** The shared settings from the config (`request_timeout`, `max_response_mb`); the client's defaults without them. */
  settings?: SharedSettings | undefined;
}

export function createApiClient<TConfig>(api: ApiProfile<TConfig>, config: TConfig, log: Logger, extra: ApiClientOptions = {}): HttpClient {
  const options = api.http?.(config) ?? {};
  // A shared RateBudget instance keeps its own history; budget options get the state's.
  const budget =
    options.budget === undefined || options.budget instanceof RateBudget || extra.budgetState === undefined
      ? options.budget
      : { ...options.budget, state: extra.budgetState };
  const values = [...secretValues(config), ...(options.secrets?.values ?? [])];
  return createHttpClient({
    // Big integers and long decimals keep their digits (LosslessNumber) unless the connector says otherwise.
    parseJson,
    ...options,
    ...(options.success === undefined && api.success !== undefined ? { success: api.success } : {}),
    ...(budget !== undefined ? { budget } : {}),
    ...(extra.settings !== undefined
      ? {
          timeouts: { ...options.timeouts, totalMs: extra.settings.request_timeout * 1000 },
          maxResponseBytes: Math.floor(extra.settings.max_response_mb * 1024 * 1024),
        }
      : {}),
    limitSettings: { totalMs: 'request_timeout', maxResponseBytes: 'max_response_mb' },
    baseUrl: api.baseUrl(config),
    logger: log,
    secrets: { ...options.secrets, values },
    onRequest: (event) => {
      log.info(formatRequestMetric(event));
      options.onRequest?.(event);
    },
  });
}
