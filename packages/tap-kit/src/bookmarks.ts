// Where an incremental partition starts reading, and how far a commit may move its bookmark.

import { normaliseIsoDateTime } from './coerce.js';
import { type Context, lookbackOf } from './declare.js';
import { describeDuration, describeSpan, subtractDuration } from './duration.js';
import type { Logger } from './log.js';
import { type CursorValue, compareCursor, type StateStore } from './state.js';
import { partitionLabel, type StreamRun } from './stream-run.js';

/** The run's bookmarks over the state store: the start of each partition, and commits capped at the sync start. */
export class Bookmarks {
  constructor(
    private readonly store: StateStore,
    /** The sync start: no bookmark passes it, so records written during the run are re-read. */
    private readonly signpost: Date,
    private readonly now: () => Date,
    private readonly config: unknown,
    private readonly log: Logger,
  ) {}

  /** Moves the bookmark to `value`; `hold`: the oldest pending record's cursor, which the bookmark never passes. */
  commit(run: StreamRun, value: CursorValue, context: Context | undefined, hold: CursorValue | undefined): void {
    const cursor = run.def.incremental!.cursor;
    const kind = run.kind!;
    let capped = value;
    const signpost = this.signpost.toISOString();
    if (kind === 'datetime' && compareCursor('datetime', value, signpost) > 0) capped = signpost;
    if (hold !== undefined && compareCursor(kind, hold, capped) < 0) capped = hold;
    const existing = this.store.get(run.def.name, cursor, context);
    // Never backwards, except to a pending record seen behind the bookmark (e.g. a state written
    // before `pending` was declared): re-reading costs requests, passing it loses its final form.
    if (
      existing !== undefined &&
      compareCursor(kind, existing, capped) >= 0 &&
      (hold === undefined || compareCursor(kind, existing, capped) === 0)
    )
      return;
    this.store.set(run.def.name, cursor, capped, context);
  }

  /** Where a partition starts: its bookmark less the look-back, else start_date, clamped to what the API serves. */
  startFor(run: StreamRun, context: Context | undefined): CursorValue | undefined {
    const inc = run.def.incremental!;
    const bookmark = this.store.get(run.def.name, inc.cursor, context);
    let start: CursorValue | undefined = bookmark;
    const lookback = lookbackOf(inc, this.config, run.def.name);
    if (start !== undefined && lookback && run.kind === 'datetime') {
      start = subtractDuration(new Date(normaliseIsoDateTime(String(start)) ?? String(start)), lookback).toISOString();
    }
    const startDate = (this.config as { start_date?: unknown } | null)?.start_date;
    if (start === undefined && typeof startDate === 'string' && startDate !== '') {
      start = run.kind === 'datetime' ? (normaliseIsoDateTime(startDate) ?? startDate) : startDate;
    }
    if (inc.maxLookback && run.kind === 'datetime') return this.clampToServed(run, context, bookmark, start);
    return start;
  }

  /**
   * A start the API no longer serves moves up to the furthest it does, with a WARNING naming what is
   * skipped. From the clock now, not the sync start: a partition read late in a long (waiting) run
   * must still ask for no more than the API serves at that moment.
   */
  private clampToServed(
    run: StreamRun,
    context: Context | undefined,
    bookmark: CursorValue | undefined,
    start: CursorValue | undefined,
  ): CursorValue | undefined {
    const inc = run.def.incremental!;
    // Where the reading would begin, before any look-back: what a clamp would really skip.
    const origin = bookmark ?? start;
    const margin = inc.maxLookbackMargin ? -subtractDuration(new Date(0), inc.maxLookbackMargin).getTime() : 0;
    const floor = new Date(subtractDuration(this.now(), inc.maxLookback!).getTime() + margin).toISOString();
    const served = `${describeDuration(inc.maxLookback!)} back${inc.maxLookbackMargin ? `, less a margin of ${describeDuration(inc.maxLookbackMargin)}` : ''}`;
    if (origin === undefined) {
      this.log.info(`stream ${run.def.name}: no bookmark or start_date; starting at ${floor}, as far back as the API serves (${served}).`);
      return floor;
    }
    if (compareCursor('datetime', origin, floor) < 0) {
      const skipped = Date.parse(floor) - Date.parse(normaliseIsoDateTime(String(origin)) ?? String(origin));
      this.log.warn(
        `stream ${run.def.name}${partitionLabel(context)}: the ${bookmark !== undefined ? 'bookmark' : 'start_date'} ${origin} is older than the API serves (${served}); what falls in the ${describeSpan(skipped)} from then to ${floor} can no longer be read and is skipped; starting at ${floor}.`,
      );
      return floor;
    }
    // Only the look-back reaches past what the API serves: nothing unread is skipped.
    if (start !== undefined && compareCursor('datetime', start, floor) < 0) return floor;
    return start;
  }
}
