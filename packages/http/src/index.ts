// Public API of @tapline/http: everything a tap kit or connector may use.

export type { Auth, AuthContext, OutgoingRequest, TokenAuthOptions } from './auth.js';
export { headerAuth, queryAuth, staticTokenAuth, tokenAuth } from './auth.js';
export type { RetryOptions } from './backoff.js';
export { backoffDelay, DEFAULT_RETRY } from './backoff.js';
export type {
  Action,
  Classifier,
  ClassifyInput,
  NetworkErrorToClassify,
  Outcome,
  RequestSummary,
  ResponseToClassify,
  SuccessShape,
} from './classify.js';
export {
  byBody,
  byStatus,
  composeClassifiers,
  defaultClassifier,
  parseRetryAfter,
  successShape,
  unrecognisedBody,
  vendorMessage,
} from './classify.js';
export type { Expect, HttpClient, HttpClientOptions, HttpRequest, HttpResponse, HttpTimeouts, PaginateEnd } from './client.js';
export { createHttpClient, DEFAULT_TIMEOUTS, DEFAULT_USER_AGENT } from './client.js';
export type { Clock, FakeClock } from './clock.js';
export { createFakeClock, systemClock } from './clock.js';
export type { Blame } from './errors.js';
export { HttpError, PaginationError, RateLimitedError, TapError } from './errors.js';
export { DEFAULT_MAX_RESPONSE_BYTES, type LimitCode, ResponseLimitError } from './limits.js';
export type {
  BodyCursorPagingOptions,
  NextUrlPagingOptions,
  OffsetPagingOptions,
  Page,
  PageNumberPagingOptions,
  PageView,
  Pagination,
  Paginator,
  PatchQuery,
  Reader,
  RequestPatch,
  ResponseView,
  TokenPlacement,
} from './paginators.js';
export {
  applyPatch,
  bodyCursorPaging,
  linkHeaderNext,
  nextUrlPaging,
  noPaging,
  offsetPaging,
  pageNumberPaging,
  readPath,
} from './paginators.js';
export type { OnRateLimit, RateBudgetOptions, RateBudgetRuntime, RateBudgetState } from './rate-budget.js';
export { DEFAULT_MAX_RATE_LIMIT_WAIT_MS, RateBudget } from './rate-budget.js';
export type { Redactor, RedactorOptions } from './redact.js';
export { createRedactor, DEFAULT_SECRET_NAMES, REDACTED } from './redact.js';
export type { Logger, LogLevel, Metric, RequestEvent } from './request-log.js';
export {
  createStderrLogger,
  formatRequestLine,
  formatRequestMetric,
  redactingLogger,
  requestMetric,
  silentLogger,
} from './request-log.js';
export type { Query, QueryScalar, QueryValue } from './url.js';
export { joinUrl, setQuery } from './url.js';
