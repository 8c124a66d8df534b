// What a run achieved, told once at its end as the tap's last stderr line, `SUMMARY: {json}`, so a
// runner (or a person) never has to guess from exit 0 whether everything was read.

/** Why a stream's run is partial. Each names what the next run will do about it. */
export interface StreamSummary {
  /** RECORD messages written. */
  records: number;
  /** Records that could not be read, set aside whole (raw JSON and reason) instead of loaded. */
  rejected: number;
  /** Partitions whose listing stopped early (a skipped response, records lost between pages): the next run reads them again. */
  cut_short: string[];
  /** Partitions that answered "not found / no results": rows earlier runs loaded from them were kept, not retired. */
  not_retired: string[];
  /**
   * Fields the vendor sent that the stream does not declare, in the order first seen: kept in
   * `_sdc_extra`, so nothing is lost and the run is not partial for them; listed so they are seen.
   */
  undeclared_fields: string[];
  /** The stream was not finished this run (e.g. the vendor's rate limit stopped the run before it). */
  unfinished: boolean;
}

export type RunStatus = 'complete' | 'partial';

export interface RunSummaryJson {
  status: RunStatus;
  streams: Record<string, StreamSummary>;
  /** Set when the vendor's rate limit (or our budget) ended the run: when to run again. */
  rate_limited?: { retry_at: string };
}

/** The line prefix a runner looks for on the tap's stderr. */
export const SUMMARY_PREFIX = 'SUMMARY: ';

/** Collects what a run did, stream by stream; `status` is partial as soon as anything was left for later. */
export class RunSummary {
  private readonly streams = new Map<string, StreamSummary>();
  private retryAt: Date | undefined;

  stream(name: string): StreamSummary {
    let entry = this.streams.get(name);
    if (entry === undefined) {
      entry = { records: 0, rejected: 0, cut_short: [], not_retired: [], undeclared_fields: [], unfinished: false };
      this.streams.set(name, entry);
    }
    return entry;
  }

  recorded(stream: string, count = 1): void {
    this.stream(stream).records += count;
  }

  rejected(stream: string, count = 1): void {
    this.stream(stream).rejected += count;
  }

  /** A field the stream does not declare was first seen (kept in `_sdc_extra`). */
  undeclared(stream: string, field: string): void {
    const fields = this.stream(stream).undeclared_fields;
    if (!fields.includes(field)) fields.push(field);
  }

  cutShort(stream: string, partition: string): void {
    this.stream(stream).cut_short.push(partition);
  }

  notRetired(stream: string, partition: string): void {
    this.stream(stream).not_retired.push(partition);
  }

  /** The rate limit stopped the run: every stream named is left unfinished until retryAt. */
  rateLimited(retryAt: Date, unfinished: readonly string[]): void {
    this.retryAt = retryAt;
    for (const name of unfinished) this.stream(name).unfinished = true;
  }

  get status(): RunStatus {
    if (this.retryAt !== undefined) return 'partial';
    for (const entry of this.streams.values()) {
      if (entry.rejected > 0 || entry.cut_short.length > 0 || entry.not_retired.length > 0 || entry.unfinished) return 'partial';
    }
    return 'complete';
  }

  toJSON(): RunSummaryJson {
    return {
      status: this.status,
      streams: Object.fromEntries(this.streams),
      ...(this.retryAt !== undefined ? { rate_limited: { retry_at: this.retryAt.toISOString() } } : {}),
    };
  }

  /** The line the tap prints last on stderr. */
  line(): string {
    return `${SUMMARY_PREFIX}${JSON.stringify(this.toJSON())}`;
  }
}
