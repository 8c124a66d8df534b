// One sync in progress: reads each partition's listing through its cursor, writes SCHEMA, RECORD,
// ACTIVATE_VERSION and STATE in a safe order, and concludes what each listing lets the run commit.

import type { HttpClient } from '@tapline/http';
import type { SingerMessage } from '@tapline/singer';
import type { Bookmarks } from './bookmarks.js';
import type { StreamSelection } from './catalog.js';
import type { Context, StreamContext } from './declare.js';
import { activationDoubt, type FetchWatch, type Listing, type ListingVerdict, requestedListing, unreadReason } from './listing.js';
import type { Logger } from './log.js';
import { PartitionCursor } from './partition-cursor.js';
import { REJECTS_KEY, REJECTS_STREAM, type RejectedRecord } from './record-reader.js';
import { followedUrl, pickFields } from './records.js';
import type { RunSummary } from './run-summary.js';
import { budgetSnapshot, type StateStore } from './state.js';
import {
  contextsOf,
  doubtVersion,
  partitionLabel,
  partitionName,
  partitionPrefix,
  rejectsSchema,
  type StreamRun,
  unreadChildren,
} from './stream-run.js';

export interface SyncRunOptions {
  config: unknown;
  log: Logger;
  /** The raw client (its rate budget travels with the state) and the watch that hands it to hooks. */
  http: HttpClient;
  watch: FetchWatch;
  store: StateStore;
  bookmarks: Bookmarks;
  summary: RunSummary;
  rejectsSelection: StreamSelection;
  /** The sync start, which also versions full-table streams. */
  signpost: Date;
  signal: AbortSignal;
  baseUrl: string;
  write: (message: SingerMessage) => void | Promise<void>;
  onRecords?: (stream: string, count: number) => void;
}

/** One partition being read: its stream, context, hooks' context and cursor (incremental runs only). */
interface Partition {
  run: StreamRun;
  context: Context;
  /** The context its bookmark is kept under: its own when partitioned, else the stream's. */
  bookmarkContext: Context | undefined;
  ctx: StreamContext<unknown>;
  cursor: PartitionCursor | undefined;
}

export class SyncRun {
  private rejectsAnnounced = false;

  constructor(private readonly o: SyncRunOptions) {}

  async writeState(): Promise<void> {
    // The budget's history travels with the bookmarks, so the next run (maybe minutes away) counts these requests.
    if (this.o.http.budget) this.o.store.setRateBudget(budgetSnapshot(this.o.http.budget));
    await this.o.write({ type: 'STATE', value: this.o.store.value() });
  }

  /** SCHEMA for every selected stream of a tree, before any of its records; full-table streams get their version. */
  async announce(run: StreamRun): Promise<void> {
    if (run.selection.selected) {
      await this.o.write({
        type: 'SCHEMA',
        stream: run.def.name,
        schema: run.schema,
        key_properties: [...run.def.key],
        ...(run.incremental ? { bookmark_properties: [run.def.incremental!.cursor] } : {}),
      });
      if (run.def.activateVersion) run.version = this.o.signpost.getTime();
    }
    for (const child of run.children) if (child.needed) await this.announce(child);
  }

  /** After every context of a stream tree ran: shared bookmarks, ACTIVATE_VERSION, metrics. */
  async finish(run: StreamRun): Promise<void> {
    const { log } = this.o;
    for (const child of run.children) if (child.needed) await this.finish(child);
    const shared = run.shared?.final();
    if (shared !== undefined) this.o.bookmarks.commit(run, shared.value, undefined, shared.hold);
    if (run.selection.selected && run.version !== undefined) {
      if (run.versionDoubt !== undefined) {
        log.warn(
          `stream ${run.def.name}: ${run.versionDoubt}; ACTIVATE_VERSION is not sent this run, so nothing is removed downstream on a listing that may have missed live records (the next whole listing sends it).`,
        );
      } else {
        // Sent after the last record, so an interrupted run never tells the target to drop rows.
        await this.o.write({ type: 'ACTIVATE_VERSION', stream: run.def.name, version: run.version });
      }
    }
    if (run.selection.selected) log.metric('counter', 'record_count', run.recordCount, { stream: run.def.name });
  }

  /** Reads one partition (and, record by record, its children's), then concludes what it lets the run commit. */
  async runPartition(run: StreamRun, context: Context, url?: string): Promise<void> {
    const partition = this.open(run, context);
    const { ctx, cursor } = partition;
    this.o.log.debug(`stream ${run.def.name}: syncing ${JSON.stringify(context)}${ctx.start !== undefined ? ` from ${ctx.start}` : ''}`);
    const stop = () => cursor?.pastStart() === true;
    const listing: Listing = run.def.fetch ? this.o.watch.listing(run.def.fetch(ctx), stop) : requestedListing(run, ctx, url, stop);
    let step = await listing.next();
    try {
      while (!step.done) {
        await this.readPage(partition, step.value);
        if (stop())
          this.o.log.debug(`stream ${run.def.name}: newest first and past ${ctx.start}; no further pages for ${JSON.stringify(context)}.`);
        step = await listing.next();
      }
    } finally {
      // A failure mid-listing still closes its pagination.
      if (!step.done) await listing.return(undefined as never);
    }
    await this.conclude(partition, step.value);
  }

  private open(run: StreamRun, context: Context): Partition {
    const { config, log, signal } = this.o;
    const bookmarkContext = run.partitioned ? context : undefined;
    const inc = run.incremental ? run.def.incremental : undefined;
    const start = inc ? this.o.bookmarks.startFor(run, bookmarkContext) : undefined;
    const ctx: StreamContext<unknown> = { stream: run.def.name, config, http: this.o.watch.http, log, context, start, signal };
    const cursor =
      inc === undefined
        ? undefined
        : new PartitionCursor(
            {
              stream: run.def.name,
              cursor: inc.cursor,
              key: run.def.key,
              kind: run.kind!,
              sorted: inc.sorted,
              pending: inc.pending as ((record: Record<string, unknown>, config: unknown) => boolean) | undefined,
              shared: run.shared !== undefined,
            },
            start,
            config,
            log,
          );
    return { run, context, bookmarkContext, ctx, cursor };
  }

  /** One page: each record read, admitted by the cursor, emitted, its children read; a STATE after the page. */
  private async readPage(partition: Partition, page: readonly unknown[]): Promise<void> {
    const { run, context, ctx, cursor } = partition;
    const extractedAt = new Date().toISOString();
    let sinceCheckpoint = 0;
    for (const raw of page) {
      const read = run.reader.read(raw, ctx, extractedAt);
      if (read.kind === 'skipped') continue;
      if (read.kind === 'rejected') {
        const admitted = cursor === undefined || cursor.admitRejected(read.cursor, read.pending, read.reject.reject_id);
        if (admitted) await this.setAside(run, read.reject, context);
        continue;
      }
      const record = read.record;
      if (cursor !== undefined && !cursor.admit(record)) continue;
      if (run.selection.selected) await this.emit(run, record, extractedAt);
      await this.runChildren(run, record);
      sinceCheckpoint += 1;
      if (run.def.checkpointEvery && sinceCheckpoint >= run.def.checkpointEvery && this.commitSoFar(partition)) {
        await this.writeState();
        sinceCheckpoint = 0;
      }
    }
    this.commitSoFar(partition);
    await this.writeState();
  }

  /** Commits what the cursor allows mid-listing; whether it allowed anything. */
  private commitSoFar({ run, bookmarkContext, cursor }: Partition): boolean {
    const committable = cursor?.committable();
    if (committable === undefined) return false;
    this.o.bookmarks.commit(run, committable.value, bookmarkContext, committable.hold);
    return true;
  }

  /** Each needed child, in every context this record hands it (read from the URL it carries, when it follows one). */
  private async runChildren(run: StreamRun, record: Record<string, unknown>): Promise<void> {
    for (const child of run.children) {
      if (!child.needed) continue;
      const follow = child.def.parent!.follow;
      let url: string | undefined;
      if (follow !== undefined) {
        url = followedUrl(record[follow], this.o.baseUrl, `stream ${child.def.name}: the ${run.def.name} record's ${follow}`);
        if (url === undefined) {
          this.o.log.warn(`stream ${child.def.name}: a ${run.def.name} record has no ${follow}; its ${child.def.name} were skipped.`);
          continue;
        }
      }
      for (const childContext of contextsOf(child, record)) await this.runPartition(child, childContext, url);
    }
  }

  /** What the listing's end lets the run commit: the bookmark (or its shared part) and ACTIVATE_VERSION. */
  private async conclude({ run, context, bookmarkContext, cursor }: Partition, verdict: ListingVerdict): Promise<void> {
    const name = run.def.name;
    const unread = unreadReason(verdict);
    const settled = cursor?.settle(unread !== undefined, verdict.lost !== undefined);
    if (unread !== undefined) {
      this.o.log.warn(`stream ${name}${partitionLabel(context)}: ${unread}${settled?.note ?? ''}.`);
      this.o.summary.cutShort(name, partitionName(context));
    }
    if (verdict.notFound !== undefined && run.version !== undefined) this.holdBackForNotFound(run, context, verdict.notFound);
    const doubt = activationDoubt(verdict);
    if (doubt !== undefined) doubtVersion(run, () => `${partitionPrefix(context, ': ')}${doubt}`);
    if (settled?.action === 'keep') run.shared?.keep();
    if (settled?.action === 'commit') {
      if (run.shared) run.shared.offer(settled.value, settled.sharedHold);
      else this.o.bookmarks.commit(run, settled.value, bookmarkContext, settled.hold);
    }
    if (cursor !== undefined && cursor.skippedOld > 0)
      this.o.log.debug(`stream ${name}: skipped ${cursor.skippedOld} records older than ${cursor.start}.`);
    await this.writeState();
  }

  /**
   * A partition that answered "not found / no results" (a revoked pass code, a deleted exam) is no
   * proof that its rows are gone: ACTIVATE_VERSION would retire every row earlier runs loaded from it.
   * So the stream sends none this run, and a WARNING and the summary name the partition.
   */
  private holdBackForNotFound(run: StreamRun, context: Context, answer: string): void {
    this.o.log.warn(
      `stream ${run.def.name}${partitionLabel(context)} answered "not found / no results" (${answer}); that is no proof its rows are gone, so the rows earlier runs loaded from it are kept: ACTIVATE_VERSION is not sent for ${run.def.name} this run. If it is gone for good, remove it from the config (or let its parent stop listing it) and the next run retires its rows.`,
    );
    this.o.summary.notRetired(run.def.name, partitionName(context));
    doubtVersion(run, () => `${partitionPrefix(context, ' ')}answered "not found / no results", which is no proof its rows are gone`);
  }

  private async emit(run: StreamRun, record: Record<string, unknown>, extractedAt: string): Promise<void> {
    run.recordCount += 1;
    this.o.summary.recorded(run.def.name);
    this.o.onRecords?.(run.def.name, 1);
    await this.o.write({
      type: 'RECORD',
      stream: run.def.name,
      record: pickFields(record, run.selection.fields),
      ...(run.version !== undefined ? { version: run.version } : {}),
      time_extracted: extractedAt,
    });
  }

  /**
   * A record that cannot be read is kept whole in the rejects stream, before the STATE that moves
   * past it, and the run is partial. It never stops the stream: being kept, it need not be read again.
   */
  private async setAside(run: StreamRun, reject: RejectedRecord, context: Context): Promise<void> {
    const { log, summary, rejectsSelection } = this.o;
    summary.rejected(run.def.name);
    const kept = rejectsSelection.selected;
    const orphans = unreadChildren(run, reject);
    log.warn(
      `stream ${run.def.name}${partitionLabel(context)}: a record could not be read (${reject.reason}); ${kept ? `it is kept in ${REJECTS_STREAM} (reject_id ${reject.reject_id.slice(0, 12)}…) and the stream goes on` : `${REJECTS_STREAM} is not selected, so it is kept only here: ${reject.record_json}`}${orphans.length > 0 ? `; its ${orphans.join(', ')} were not read, and keep their bookmarks and rows` : ''}.`,
    );
    // Its row (if an earlier run loaded one) is not in this listing, so this run's ACTIVATE_VERSION must not retire it.
    doubtVersion(
      run,
      () =>
        `${partitionPrefix(context, ': ')}a record could not be read and was set aside in ${REJECTS_STREAM}, so the row it would update is not in this listing`,
    );
    if (!kept) return;
    if (!this.rejectsAnnounced) {
      this.rejectsAnnounced = true;
      await this.o.write({
        type: 'SCHEMA',
        stream: REJECTS_STREAM,
        schema: rejectsSchema(rejectsSelection.fields),
        key_properties: [...REJECTS_KEY],
      });
    }
    await this.o.write({
      type: 'RECORD',
      stream: REJECTS_STREAM,
      record: pickFields({ ...reject }, rejectsSelection.fields),
      time_extracted: reject.rejected_at,
    });
  }
}
