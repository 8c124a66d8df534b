// Runs database work one operation at a time while the caller keeps parsing: at most one batch in flight.

/**
 * A serial queue of depth one. `submit` waits for the previous operation to finish, starts the
 * new one and returns at once, so parsing the next batch overlaps the database's work on this one
 * and memory stays bounded (one batch being written, one being filled). The first failure is
 * kept and rethrown by every later `submit` and by `drain`.
 */
export class WorkQueue {
  private inFlight: Promise<void> | null = null;
  private failure: { error: unknown } | null = null;

  /** Wait for capacity, then start `operation` without waiting for it. */
  async submit(operation: () => Promise<void>): Promise<void> {
    await this.drain();
    this.inFlight = operation().then(
      () => {},
      (error: unknown) => {
        this.failure ??= { error };
      },
    );
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
