// Builds the one HTTP client a run uses from the API profile: lossless JSON, METRIC lines, secrets.
import { createHttpClient, formatRequestMetric, type HttpClient } from '@tapline/http';
import { parseJson } from '@tapline/singer';
import type { ApiProfile } from './declare.js';
import type { Logger } from './log.js';

/** Config values under secret-looking keys, so they are redacted from every log line and error. */
export function secretValues(config: unknown): string[] {
  if (typeof config !== 'object' || config === null) return [];
  return Object.entries(config)
    .filter(([key, value]) => /key|secret|token|password|passwd|signature|credential|pass_code/i.test(key) && typeof value === 'string' && value.length >= 4)
    .map(([, value]) => value as string);
}

export function createApiClient<TConfig>(api: ApiProfile<TConfig>, config: TConfig, log: Logger): HttpClient {
  const options = api.http?.(config) ?? {};
  const values = [...secretValues(config), ...(options.secrets?.values ?? [])];
  return createHttpClient({
    // Big integers and long decimals keep their digits (LosslessNumber) unless the connector says otherwise.
    parseJson,
    ...options,
    baseUrl: api.baseUrl(config),
    logger: log,
    secrets: { ...options.secrets, values },
    onRequest: (event) => {
      log.info(formatRequestMetric(event));
      options.onRequest?.(event);
    },
  });
}
