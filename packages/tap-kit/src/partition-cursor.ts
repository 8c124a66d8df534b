// The bookmark rules of one partition's listing: which records are new, where the bookmark may move,
// and what a listing that ended early still lets it commit.

import type { IncrementalSettings } from './declare.js';
import type { CursorKind } from './json-schema.js';
import type { Logger } from './log.js';
import { type CursorValue, compareCursor } from './state.js';

/** What a partition's cursor needs to know of its stream. */
export interface CursorRules {
  stream: string;
  cursor: string;
  key: readonly string[];
  kind: CursorKind;
  sorted: IncrementalSettings<unknown>['sorted'];
  pending: ((record: Record<string, unknown>, config: unknown) => boolean) | undefined;
  /** The stream's contexts share one bookmark: it moves only once all are read (see SharedBookmark). */
  shared: boolean;
}

/** What the end of a listing lets the bookmark do, and the words for a warning about unread records. */
export type Settlement =
  /** Unread records may sit behind the newest read: the bookmark stays (a shared one is kept whole). */
  | { action: 'keep'; note: string }
  /** Move to `value`, never past `hold`; `sharedHold` is what a shared bookmark is held at. */
  | { action: 'commit'; value: CursorValue; hold: CursorValue | undefined; sharedHold: CursorValue | undefined; note: string }
  /** Nothing was read that could move it. */
  | { action: 'none'; note: string };

/**
 * Sees each record of one partition's listing, in order, and answers whether it is new (emit it) and
 * what may be committed. It keeps the high-water value (`max`), the oldest pending record (`hold`,
 * which the bookmark never passes), the keys already emitted at the high-water value (a page edge
 * read twice), and whether the declared order held.
 */
export class PartitionCursor {
  private sorted: boolean;
  /**
   * Newest first: once a record is older than the start, every later one is too, so paging stops
   * after that page, as long as the order held in everything read (else every page is read).
   */
  private newestFirst: boolean;
  private previous: CursorValue | undefined;
  private reachedOlder = false;
  private max: CursorValue | undefined;
  private hold: CursorValue | undefined;
  private boundaryKeys = new Set<string>();
  private warnedNoCursor = false;
  /** Records skipped for being older than the start. */
  skippedOld = 0;

  constructor(
    private readonly rules: CursorRules,
    readonly start: CursorValue | undefined,
    private readonly config: unknown,
    private readonly log: Logger,
  ) {
    this.sorted = rules.sorted === true || rules.sorted === 'asc';
    this.newestFirst = rules.sorted === 'desc' && start !== undefined;
  }

  /** Whether a readable record is to be emitted (false: behind the start, or already emitted at a page edge). */
  admit(record: Record<string, unknown>): boolean {
    const { stream, cursor, kind } = this.rules;
    const value = record[cursor] as CursorValue | null | undefined;
    const pending = this.rules.pending?.(record, this.config) === true;
    if (value === null || value === undefined) {
      if (!this.warnedNoCursor && !pending)
        this.log.warn(`stream ${stream}: a record has no ${cursor}; it is emitted but cannot move the bookmark.`);
      this.warnedNoCursor ||= !pending;
      return true;
    }
    if (this.newestFirst && this.previous !== undefined && compareCursor(kind, value, this.previous) > 0) {
      this.log.warn(
        `stream ${stream}: declared newest first, but ${cursor} went up from ${this.previous} to ${value}; reading every page of this partition.`,
      );
      this.newestFirst = false;
    }
    this.previous = value;
    // A pending record holds the bookmark at its cursor, and is kept even behind the start.
    if (pending) this.holdAt(value);
    if (this.behindStart(value, pending)) return false;
    const keyId = JSON.stringify(this.rules.key.map((k) => record[k]));
    const order = this.max === undefined ? 1 : compareCursor(kind, value, this.max);
    if (order === 0) {
      // Boundary de-duplication: a record at the current high-water value was already emitted.
      if (this.boundaryKeys.has(keyId)) return false;
      this.boundaryKeys.add(keyId);
    } else if (order > 0) {
      this.max = value;
      this.boundaryKeys = new Set([keyId]);
    } else if (this.sorted) {
      this.log.warn(
        `stream ${stream}: declared sorted, but ${cursor} went back from ${this.max} to ${value}; the bookmark will only move at the end of this partition.`,
      );
      this.sorted = false;
    }
    return true;
  }

  /**
   * Whether a record that cannot be read is to be set aside. Kept, so the bookmark may pass it: its
   * cursor (when that field reads) counts as a record's would, and one read twice at the high-water
   * value (a page edge) is set aside once. One still pending (as far as can be read) holds the
   * bookmark, so its final form is read when it comes.
   */
  admitRejected(value: CursorValue | undefined, pending: boolean, rejectId: string): boolean {
    if (value === undefined) return true;
    // Behind the start: skipped as a readable record would be, unless still pending.
    if (this.behindStart(value, pending)) return false;
    if (pending) this.holdAt(value);
    const rejectKey = `reject ${rejectId}`;
    const order = this.max === undefined ? 1 : compareCursor(this.rules.kind, value, this.max);
    if (order === 0 && this.boundaryKeys.has(rejectKey)) return false;
    if (order > 0) {
      this.max = value;
      this.boundaryKeys = new Set();
    }
    if (order >= 0) this.boundaryKeys.add(rejectKey);
    return true;
  }

  /** What may be committed now, mid-listing: only an ascending listing's own bookmark moves with each page. */
  committable(): { value: CursorValue; hold: CursorValue | undefined } | undefined {
    return this.commitsPerPage() && this.max !== undefined ? { value: this.max, hold: this.hold } : undefined;
  }

  /** Newest first and past the start: the pages after this one hold only older records. */
  pastStart(): boolean {
    return this.newestFirst && this.reachedOlder;
  }

  /**
   * What the bookmark may do once the listing ended. `unread`: the listing stopped at a skipped
   * response or lost records between pages (`lost`). Cut short, an ascending listing's unread records
   * all come after what was read; any other order, or a record missed among the pages read, may hide
   * one behind the newest read.
   */
  settle(unread: boolean, lost: boolean): Settlement {
    const maxUnsafe = unread && (lost || !this.sorted);
    const note = !unread
      ? ''
      : !maxUnsafe && this.max !== undefined
        ? `; the bookmark moves only as far as the records read (${String(this.max)})`
        : this.committable() !== undefined
          ? '; the bookmark already moved with each page read (the listing is declared oldest first), so it may have passed that record'
          : '; the bookmark stays where it was, so the next run reads them';
    if (unread && (maxUnsafe || this.max === undefined)) return { action: 'keep', note };
    if (this.max === undefined) return { action: 'none', note };
    // Cut short but ascending, a shared bookmark is held at the last record read, as a pending record
    // holds it: every unread record of this context comes at or after it. A pending record's hold is never past max.
    const sharedHold = unread ? (this.hold ?? this.max) : this.hold;
    return { action: 'commit', value: this.max, hold: this.hold, sharedHold, note };
  }

  private commitsPerPage(): boolean {
    return this.sorted && !this.rules.shared;
  }

  private holdAt(value: CursorValue): void {
    if (this.hold === undefined || compareCursor(this.rules.kind, value, this.hold) < 0) this.hold = value;
  }

  /** Whether a record is behind the start; one not pending is then skipped (and counted). */
  private behindStart(value: CursorValue, pending: boolean): boolean {
    if (this.start === undefined || compareCursor(this.rules.kind, value, this.start) >= 0) return false;
    this.reachedOlder = true;
    if (pending) return false;
    this.skippedOld += 1;
    return true;
  }
}

/**
 * One bookmark for a stream read in several contexts (a child of several parents, or partitions that
 * share it): each context offers its maximum and hold, and the bookmark is committed once all ran.
 * A context cut short where its unread records could be anywhere keeps it whole: holding back only
 * that context's own maximum would not do, as the others' would still carry it past them.
 */
export class SharedBookmark {
  private max: CursorValue | undefined;
  private hold: CursorValue | undefined;
  private kept = false;

  constructor(private readonly kind: CursorKind) {}

  offer(max: CursorValue, hold: CursorValue | undefined): void {
    if (this.max === undefined || compareCursor(this.kind, max, this.max) > 0) this.max = max;
    if (hold !== undefined && (this.hold === undefined || compareCursor(this.kind, hold, this.hold) < 0)) this.hold = hold;
  }

  /** Some context's unread records may sit anywhere: the bookmark stays where it was this run. */
  keep(): void {
    this.kept = true;
  }

  /** What to commit once every context ran, if anything. */
  final(): { value: CursorValue; hold: CursorValue | undefined } | undefined {
    return this.max !== undefined && !this.kept ? { value: this.max, hold: this.hold } : undefined;
  }
}
