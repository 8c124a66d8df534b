// ClassMarker response envelopes (ok / no_results / error) in JSON and XML [doc; docs/providers/classmarker.md].
import { type SimulatorResponse, toXml } from '@tapline/simulator-kit';

export type Format = 'json' | 'xml';

/** Every error code the ClassMarker document lists, plus `invalidInput` (docs/providers/classmarker.md, "Errors"). */
export const ERROR_MESSAGES = {
  apiKeyAuthFail: 'Access denied. Your API key authorization failed. Check your API key and API SECRET and try again.',
  apiKeyInactive:
    'Access denied. Your API key authorization is currently not active. Check with the person in charge of the your API key to check the keys active state or its start and finish active dates.',
  apiKeyNoGroupPermission: 'Access denied. Your API key does not have permission to access the group id.',
  incorrectUrl:
    'The requested URL you have tried to access does not exist. Please refer to https://www.classmarker.com/online-testing/docs/ for more information. Some issues could be: Incorrect URL, Incorrect ID used, Incorrect HTTP METHOD used.',
  incorrectUrlVersionNumber:
    'The requested URL version number is incorrect or missing. Please refer to https://www.classmarker.com/online-testing/docs/ for more information.',
  incorrectUrlId:
    'A requested URL ID is incorrect or missing. Please refer to https://www.classmarker.com/online-testing/docs/ for more information.',
  incorrectRequestMethod:
    'The request Method: %METHOD% is incorrect for this action. Please refer to https://www.classmarker.com/online-testing/docs/ for more information.',
  rateLimitExceeded:
    'You have reached the rate limit of %LIMIT% requests per hour. You can next make a request after the UNIX epoch timestamp value set in: next_request_after',
  timeStampOutOfRange:
    'Access denied. Timestamp issue. Recalculate the digital signature with each call. (There is a 5-minute window of time variance allowed.) Use seconds since the UNIX Epoch, not milliseconds. Make sure your server calling our service is in sync with an atomic clock.',
  finishedAfterTimestampTooEarly:
    'Your finishedAfterTimestamp is too early. It can only be within the last 3 months. Contact Us to activate a 7 day period to download all your results.',
  offlineMaintenance:
    'Access denied. ClassMarker is currently down for maintenance. Check https://www.classmarker.com/msg/ for more details',
  noApiKeyExists: 'Access denied. No API key exists.',
  accountNotUpgraded: 'Access denied. The ClassMarker account is not currently upgraded. Upgrade for API access.',
  internalError100: 'Internal error. Contact ClassMarker with API Error code 100 if error persists.',
  internalError101: 'Internal database error. Contact ClassMarker with API Error code 101 if error persists.',
  invalidJson: 'Invalid JSON. Please check your payload',
  NotAllowedActionForQuestionType: 'This operation is not supported this question type',
  payloadValidationError: 'The payload has invalid data.',
  requestParamValidationError: 'the request parameter has invalid data',
  invalidInput: 'Invalid input.',
  custom_error: 'A custom message will display applicable to the action taken.',
} as const;

export type ErrorCode = keyof typeof ERROR_MESSAGES;

/**
 * The HTTP status sent with an error envelope when the simulator runs with `errorHttpStatus`.
 * ClassMarker itself answers HTTP 200 for every API error ("All ClassMarker's requests return a
 * HTTP 200 Success header even if an API system error occurs") — that is the default.
 */
const HTTP_STATUS: Record<ErrorCode, number> = {
  apiKeyAuthFail: 401,
  apiKeyInactive: 403,
  apiKeyNoGroupPermission: 403,
  incorrectUrl: 404,
  incorrectUrlVersionNumber: 404,
  incorrectUrlId: 404,
  incorrectRequestMethod: 405,
  rateLimitExceeded: 429,
  timeStampOutOfRange: 401,
  finishedAfterTimestampTooEarly: 400,
  offlineMaintenance: 503,
  noApiKeyExists: 401,
  accountNotUpgraded: 403,
  internalError100: 500,
  internalError101: 500,
  invalidJson: 400,
  NotAllowedActionForQuestionType: 400,
  payloadValidationError: 400,
  requestParamValidationError: 400,
  invalidInput: 400,
  custom_error: 400,
};

export interface RenderOptions {
  format: Format;
  numbersAsStrings: boolean;
  errorHttpStatus: boolean;
}

/** Fields kept numeric even in the string-typed (2012 sample) vintage, as in that sample [doc CM-S1]. */
const ALWAYS_NUMERIC = new Set([
  'server_timestamp',
  'finished_after_timestamp_used',
  'num_results_available',
  'num_results_returned',
  'next_finished_after_timestamp',
  'next_request_after',
  'link_result_id',
  'points_scored',
  'points_available',
]);

/** The 2012 sample sends ids, percentages and timestamps inside results as strings [doc; docs/providers/classmarker.md, "Variants"]. */
function stringifyNumbers(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => stringifyNumbers(item));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stringifyNumbers(v, k)]));
  if (typeof value === 'number' && !ALWAYS_NUMERIC.has(key)) return String(value);
  return value;
}

/**
 * JSON wraps each list item in a one-key object (`[{"result": {...}}]`); XML has no per-item
 * wrapper (`<results><result>…</result></results>`) and writes false as an empty element [docs/providers/classmarker.md, "XML"].
 */
function toXmlShape(value: unknown): unknown {
  if (value === false || value === null || value === undefined) return '';
  if (value === true) return 'true';
  if (Array.isArray(value)) {
    const byTag: Record<string, unknown[]> = {};
    for (const item of value) {
      const [tag, inner] = Object.entries(item as Record<string, unknown>)[0] ?? ['item', item];
      byTag[tag] ??= [];
      byTag[tag].push(toXmlShape(inner));
    }
    return byTag;
  }
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toXmlShape(v)]));
  return value;
}

export function render(envelope: Record<string, unknown>, options: RenderOptions, httpStatus = 200): SimulatorResponse {
  const body = options.numbersAsStrings ? (stringifyNumbers(envelope) as Record<string, unknown>) : envelope;
  if (options.format === 'xml') {
    return {
      status: httpStatus,
      headers: { 'content-type': 'application/xml; charset=utf-8' },
      body: toXml('response', toXmlShape(body) as Record<string, unknown>),
    };
  }
  return { status: httpStatus, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
}

export interface ErrorDetails {
  requestPath: string;
  serverTimestamp: number;
  finishedAfterTimestampUsed?: number;
  nextRequestAfter?: number;
  substitutions?: Record<string, string>;
}

export function errorEnvelope(code: ErrorCode, details: ErrorDetails): Record<string, unknown> {
  let message: string = ERROR_MESSAGES[code];
  for (const [name, value] of Object.entries(details.substitutions ?? {})) message = message.replace(`%${name}%`, value);
  const error: Record<string, unknown> = { error_code: code, error_message: message };
  if (details.nextRequestAfter !== undefined) error.next_request_after = details.nextRequestAfter;
  return {
    status: 'error',
    request_path: details.requestPath,
    server_timestamp: details.serverTimestamp,
    ...(details.finishedAfterTimestampUsed === undefined ? {} : { finished_after_timestamp_used: details.finishedAfterTimestampUsed }),
    error,
  };
}

export function renderError(code: ErrorCode, details: ErrorDetails, options: RenderOptions): SimulatorResponse {
  return render(errorEnvelope(code, details), options, options.errorHttpStatus ? HTTP_STATUS[code] : 200);
}
