// When the loader commits, and which STATE a commit may store (README, "State and commits").
//
// A commit happens only at a STATE (or at the end of input), and stores that STATE with every row
// before it: flushing all streams first is the loader's part. This part decides *whether* a STATE
// is a commit point, and keeps the bookkeeping that says whether the pending STATE may still be
// committed alone after an error (no row or delete after it has reached the database).

/**
 * How a destination's commits are paced, beyond `batch_size_rows` (DialectCapabilities.commits).
 * Every field is optional; the defaults suit a database whose commit costs little per table.
 */
export interface CommitCadence {
  /**
   * A STATE commits once this many tables were written or changed since the last commit.
   * Default 200: PostgreSQL's lock table (sized for 64 locks a connection) ran out near 2,000
   * tables in one transaction ("out of shared memory").
   */
  readonly maxTablesPerCommit?: number;
  /**
   * A STATE commits once this long passed since the last commit (and rows arrived), so that a
   * slow trickle of records still advances the state. Default 60 s (the Meltano SDK drains every 5 minutes).
   */
  readonly maxCommitIntervalMs?: number;
  /**
   * Hold rows until a commit needs them. When set, `batch_size_rows` counts rows *written* to the
   * database (a stream's batch filled up), not rows received, and rows still held in the streams'
   * batches make a commit due once they pass this many bytes. For a database whose every commit
   * costs per table it touched (DuckDB re-writes blocks of each), so that a sync of many small
   * tables writes each once per run, not once per `batch_size_rows` rows received over all of them.
   */
  readonly heldBytesPerCommit?: number;
}

export const DEFAULT_MAX_TABLES_PER_COMMIT = 200;
export const DEFAULT_COMMIT_INTERVAL_MS = 60_000;

/** What the commit policy counts since the last commit, and the STATE waiting for one. */
export class CommitPolicy {
  private readonly maxTables: number;
  private readonly maxIntervalMs: number;
  private readonly heldBytesCap: number | undefined;

  /** The newest STATE not yet committed (compact JSON text). */
  private pending: string | undefined;
  /** Rows or deletes after `pending` already reached the database (so it cannot be committed alone). */
  private tainted = false;
  /** Rows received since the last commit. */
  private rowsReceived = 0;
  /** Rows handed to the database since the last commit. */
  private rowsWritten = 0;
  /** `rowsReceived` when `pending` arrived: the rows it covers. */
  private rowsCovered = 0;
  private lastCommitAt = Date.now();
  /** Tables written or changed since the last commit. */
  private readonly tables = new Set<string>();

  constructor(
    private readonly rowsPerCommit: number,
    cadence: CommitCadence = {},
  ) {
    this.maxTables = cadence.maxTablesPerCommit ?? DEFAULT_MAX_TABLES_PER_COMMIT;
    this.maxIntervalMs = cadence.maxCommitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
    this.heldBytesCap = cadence.heldBytesPerCommit;
  }

  /** The STATE a commit would store now, if any. */
  get pendingState(): string | undefined {
    return this.pending;
  }

  /** Whether the pending STATE may be committed alone (rows after it are only held, never written). */
  get pendingStateIsClean(): boolean {
    return this.pending !== undefined && !this.tainted;
  }

  /** Rows received since the last commit. */
  get rowsSinceCommit(): number {
    return this.rowsReceived;
  }

  /** Rows received after the pending STATE (or since the last commit when none is pending). */
  get rowsAfterPendingState(): number {
    return this.rowsReceived - this.rowsCovered;
  }

  recordsReceived(count: number): void {
    this.rowsReceived += count;
  }

  /** A table was created or altered. */
  tableChanged(table: string): void {
    this.tables.add(table);
  }

  /** Rows reached the database; `afterPendingState`: some arrived after the pending STATE. */
  rowsWrittenTo(table: string, rows: number, afterPendingState: boolean): void {
    this.tables.add(table);
    this.rowsWritten += rows;
    if (afterPendingState) this.taint();
  }

  /** Something other than rows (an ACTIVATE_VERSION's delete) reached the database after the pending STATE. */
  taint(): void {
    if (this.pending !== undefined) this.tainted = true;
  }

  /**
   * A STATE arrived: it is now the pending one, covering every row received so far. Answers
   * whether to commit now; `heldBytes` (the bytes of rows held in the streams' batches) is asked
   * only under a held-bytes cap.
   */
  stateArrived(state: string, heldBytes: () => number): boolean {
    this.pending = state;
    this.tainted = false;
    this.rowsCovered = this.rowsReceived;
    const rows = this.heldBytesCap === undefined ? this.rowsReceived : this.rowsWritten;
    return (
      rows >= this.rowsPerCommit ||
      (this.rowsReceived > 0 && Date.now() - this.lastCommitAt >= this.maxIntervalMs) ||
      this.tables.size >= this.maxTables ||
      (this.heldBytesCap !== undefined && heldBytes() >= this.heldBytesCap)
    );
  }

  /** A commit is under way: start counting afresh. Returns the STATE it stores, if any. */
  committing(): string | undefined {
    const state = this.pending;
    this.pending = undefined;
    this.tainted = false;
    this.rowsReceived = 0;
    this.rowsWritten = 0;
    this.rowsCovered = 0;
    this.lastCommitAt = Date.now();
    this.tables.clear();
    return state;
  }
}
