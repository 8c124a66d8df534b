// Runs database work one operation at a time while the caller keeps parsing: one batch being written, one waiting.

/**
 * A serial queue: operations run one after another, in order. `submit` returns as soon as the
 * new operation is queued behind at most one other, so parsing goes on while the database works
 * and a slow commit (a WAL flush, a checkpoint) does not stall it; memory stays bounded (one
 * batch being written, one waiting, one being filled). With room for only one, the parser waited
 * ~5% of a 1M-record PostgreSQL load. The first failure is kept and rethrown by every later
 * `submit` and by `drain`.
 */
export class WorkQueue {
  /** Every queued operation, chained. */
  private inFlight: Promise<void> | null = null;
  /** The chain up to the operation before the newest: once it settles, there is room for one more. */
  private older: Promise<void> | null = null;
  private failure: { error: unknown } | null = null;

  /** Wait until at most one operation is ahead, then queue `operation` without waiting for it. */
  async submit(operation: () => Promise<void>): Promise<void> {
    if (this.older) await this.older;
    if (this.failure) throw this.failure.error;
    this.older = this.inFlight;
    this.enqueue(operation);
  }

  /**
   * Chain `operation` after the one in flight without waiting for capacity. For small steps that
   * hold no rows (a commit and its state echo), so parsing the next batch is not held up by them.
   * It is skipped when an earlier operation failed (a failed write is never committed).
   */
  enqueue(operation: () => Promise<void>): void {
    const previous = this.inFlight ?? Promise.resolve();
    this.inFlight = previous
      .then(() => (this.failure === null ? operation() : undefined))
      .then(
        () => {},
        (error: unknown) => {
          this.failure ??= { error };
        },
      );
  }

  /** Wait until nothing is in flight; rethrow the first failure. */
  async drain(): Promise<void> {
    if (this.inFlight) await this.inFlight;
    this.inFlight = null;
    if (this.failure) throw this.failure.error;
  }

  /** The first failure, if any (without waiting). */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** Wait for the operation in flight, ignoring its outcome (cleanup after an error). */
  async settle(): Promise<void> {
    if (this.inFlight) await this.inFlight;
    this.inFlight = null;
  }
}
