// Builds the one HTTP client a run uses from the API profile: lossless JSON, METRIC lines, secrets.
import { createHttpClient, formatRequestMetric, RateBudget, type HttpClient, type RateBudgetState } from '@tapline/http';
import { parseJson } from '@tapline/singer';
import type { SharedSettings } from './config.js';
import type { ApiProfile } from './declare.js';
import type { Logger } from './log.js';

/** Config values under secret-looking keys, so they are redacted from every log line and error. */
export function secretValues(config: unknown): string[] {
  if (typeof config !== 'object' || config === null) return [];
  return Object.entries(config)
    .filter(([key, value]) => /key|secret|token|password|passwd|signature|credential|pass_code/i.test(key) && typeof value === 'string' && value.length >= 4)
    .map(([, value]) => value as string);
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
