// Typed failures: every error a tap can see carries a blame, so exit code and wording follow from it.

/** Who must act: `config` = the user fixes their config; `transient` = try later; `system` = our bug. */
export type Blame = 'config' | 'transient' | 'system';

/** Base of every error this package (and tap-kit) raises on purpose; `message` is one user-facing sentence. */
export class TapError extends Error {
  readonly blame: Blame;
  constructor(message: string, blame: Blame, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TapError';
    this.blame = blame;
  }
}

/** A request that ended in failure after classification (and retries, when the outcome allowed them). */
export class HttpError extends TapError {
  /** HTTP status, or undefined when no response arrived (network error, timeout); set when the headers came but the body did not. */
  readonly status: number | undefined;
  readonly method: string;
  /** The request URL with secrets redacted. */
  readonly url: string;
  readonly attempts: number;
  constructor(init: {
    message: string;
    blame: Blame;
    status: number | undefined;
    method: string;
    url: string;
    attempts: number;
    cause?: unknown;
  }) {
    super(init.message, init.blame, { cause: init.cause });
    this.name = 'HttpError';
    this.status = init.status;
    this.method = init.method;
    this.url = init.url;
    this.attempts = init.attempts;
  }
}

/**
 * The vendor's rate limit (or our own budget) forbids another request before `retryAt`, and the
 * client was told not to wait that long. A tap catches this to stop cleanly with its state saved.
 */
export class RateLimitedError extends TapError {
  readonly retryAt: Date;
  constructor(message: string, retryAt: Date) {
    super(message, 'transient');
    this.name = 'RateLimitedError';
    this.retryAt = retryAt;
  }
}

/** A paginator saw something it cannot trust (a repeated token, the same page twice). */
export class PaginationError extends TapError {
  constructor(message: string) {
    super(message, 'system');
    this.name = 'PaginationError';
  }
}
