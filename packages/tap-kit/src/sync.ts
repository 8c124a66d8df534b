// The sync runner: walks the stream tree, pages through the API, validates records, keeps bookmarks
// and writes SCHEMA, RECORD, ACTIVATE_VERSION and STATE messages in a safe order.

import {
  type HttpClient,
  type HttpRequest,
  type HttpResponse,
  noPaging,
  type Page,
  type PaginateEnd,
  type Pagination,
  type Paginator,
  type QueryValue,
} from '@tapline/http';
import type { SingerMessage } from '@tapline/singer';
import type { z } from 'zod';
import { resolveRejectsSelection, resolveSelection, type StreamSelection } from './catalog.js';
import { createApiClient } from './client.js';
import { normaliseIsoDateTime } from './coerce.js';
import { type Context, lookbackOf, type StreamContext, type StreamDefinition, type TapDefinition } from './declare.js';
import { describeDuration, describeSpan, subtractDuration } from './duration.js';
import { isRateLimited, TapError } from './errors.js';
import { type CursorKind, cursorKind, type JsonSchema, propertySchema, recordJsonSchema } from './json-schema.js';
import type { Logger } from './log.js';
import { REJECTS_KEY, REJECTS_SCHEMA, REJECTS_STREAM, RecordReader, type RejectedRecord, streamJsonSchema } from './record-reader.js';
import { fillPath, followedUrl, pickFields, selectRecords } from './records.js';
import { RunSummary } from './run-summary.js';
import {
  bookmarkProblem,
  budgetSnapshot,
  type CursorValue,
  compareCursor,
  contextId,
  rateBudgetOf,
  StateStore,
  type TapState,
} from './state.js';

export interface SyncOptions<TConfig> {
  tap: TapDefinition<TConfig>;
  /** The parsed config. `start_date`, when present, bounds the first run of incremental streams. */
  config: TConfig;
  state?: unknown;
  catalog?: unknown;
  /** Receives every message in order; may return a promise (backpressure). */
  write: (message: SingerMessage) => void | Promise<void>;
  log: Logger;
  /** The HTTP client; by default the API's `client` builds one (and it is closed at the end). */
  http?: HttpClient;
  /** The clock; the sync start is the signpost that caps every bookmark. */
  now?: () => Date;
  signal?: AbortSignal;
  /** Told how many records each stream emitted, as they go (for a progress line). */
  onRecords?: (stream: string, count: number) => void;
  /** Where `state` came from (the --state file), for messages about it. */
  stateFile?: string;
  /** Collects what the run did (records, cut-short listings, rows kept on a "no results"); the CLI prints it last. */
  summary?: RunSummary;
}

/** One stream's plan for this run. */
interface StreamRun {
  def: StreamDefinition<z.ZodObject, unknown>;
  selection: StreamSelection;
  children: StreamRun[];
  /** Selected, or drives a selected descendant. */
  needed: boolean;
  schema: JsonSchema;
  /** Transforms and validates its records, keeps undeclared fields, sets aside what cannot be read. */
  reader: RecordReader;
  kind: CursorKind | undefined;
  incremental: boolean;
  /** One bookmark per context. */
  partitioned: boolean;
  /** Runs in several contexts sharing one bookmark: commit only when all are done. */
  sharedBookmark: boolean;
  pendingMax: CursorValue | undefined;
  /** With a shared bookmark: the oldest pending record's cursor over all contexts. */
  pendingHold: CursorValue | undefined;
  /** With a shared bookmark: a context's listing was cut short where its unread records could be anywhere, so it stays put. */
  bookmarkKept: boolean;
  version: number | undefined;
  /** Why this run's listing may be incomplete (then no ACTIVATE_VERSION), from any of its contexts. */
  versionDoubt: string | undefined;
  recordCount: number;
}

/** What a partition's paging showed about its listing's completeness. */
interface Listing {
  pages: number;
  /** The paginator can tell whether the pages shifted (it declares `incomplete`). */
  checked: boolean;
  doubt: string | undefined;
  /** A skipped response ended the listing after pages were read: the pages after it are unread. */
  cutShort: { pages: number; message: string } | undefined;
  /** The paginator saw records go missing between pages (`Paginator.lost`): one may have slid onto a page already read. */
  lost: string | undefined;
  /** The partition's first response was skipped ("not found / no results"): the classifier's sentence, with the vendor's words. */
  notFound: string | undefined;
}

/** Runs a sync and returns the final state. A RateLimitedError is re-thrown after the state is written. */
export async function sync<TConfig>(options: SyncOptions<TConfig>): Promise<TapState> {
  const { tap, config, log } = options;
  const summary = options.summary ?? new RunSummary();
  const now = options.now ?? (() => new Date());
  const signpost = now();
  const signal = options.signal ?? new AbortController().signal;
  const store = new StateStore(options.state);
  const selection = resolveSelection(tap.streams, options.catalog);
  const http = options.http ?? createApiClient(tap.api, config, log, { budgetState: rateBudgetOf(options.state) });
  const ownsHttp = options.http === undefined;
  // The partitions being read, innermost last (a child runs inside its parent's page), and the one
  // client every stream gets, which tells the innermost when a skipped response cut its listing short.
  const reading: Listing[] = [];
  const watched = watchingSkips(http, reading);
  const runs = planRuns(tap.streams, selection, log, summary);
  const rejectsSelection = resolveRejectsSelection(options.catalog);
  let rejectsAnnounced = false;
  const writeState = () => {
    // The budget's history travels with the bookmarks, so the next run (maybe minutes away) counts these requests.
    if (http.budget) store.setRateBudget(budgetSnapshot(http.budget));
    return options.write({ type: 'STATE', value: store.value() });
  };
  const startDate = (config as { start_date?: unknown } | null)?.start_date;
  const baseUrl = tap.api.baseUrl(config);

  const emit = async (run: StreamRun, record: Record<string, unknown>, extractedAt: string) => {
    run.recordCount += 1;
    summary.recorded(run.def.name);
    options.onRecords?.(run.def.name, 1);
    await options.write({
      type: 'RECORD',
      stream: run.def.name,
      record: pickFields(record, run.selection.fields),
      ...(run.version !== undefined ? { version: run.version } : {}),
      time_extracted: extractedAt,
    });
  };

  /**
   * A record that cannot be read is kept whole in the rejects stream, before the STATE that moves
   * past it, and the run is partial. It never stops the stream: being kept, it need not be read again.
   */
  const setAside = async (run: StreamRun, reject: RejectedRecord, context: Context) => {
    summary.rejected(run.def.name);
    const kept = rejectsSelection.selected;
    const orphans = unreadChildren(run, reject);
    log.warn(
      `stream ${run.def.name}${partitionLabel(context)}: a record could not be read (${reject.reason}); ${kept ? `it is kept in ${REJECTS_STREAM} (reject_id ${reject.reject_id.slice(0, 12)}…) and the stream goes on` : `${REJECTS_STREAM} is not selected, so it is kept only here: ${reject.record_json}`}${orphans.length > 0 ? `; its ${orphans.join(', ')} were not read, and keep their bookmarks and rows` : ''}.`,
    );
    // Its row (if an earlier run loaded one) is not in this listing, so this run's ACTIVATE_VERSION must not retire it.
    if (run.version !== undefined) {
      const where = Object.keys(context).length > 0 ? `partition ${JSON.stringify(context)}: ` : '';
      run.versionDoubt ??= `${where}a record could not be read and was set aside in ${REJECTS_STREAM}, so the row it would update is not in this listing`;
    }
    if (!kept) return;
    if (!rejectsAnnounced) {
      rejectsAnnounced = true;
      await options.write({
        type: 'SCHEMA',
        stream: REJECTS_STREAM,
        schema: rejectsSchema(rejectsSelection.fields),
        key_properties: [...REJECTS_KEY],
      });
    }
    await options.write({
      type: 'RECORD',
      stream: REJECTS_STREAM,
      record: pickFields({ ...reject }, rejectsSelection.fields),
      time_extracted: reject.rejected_at,
    });
  };

  /** `hold`: the oldest pending record's cursor, which the bookmark never passes. */
  const commit = (run: StreamRun, value: CursorValue, context: Context | undefined, hold: CursorValue | undefined) => {
    const cursor = run.def.incremental!.cursor;
    let capped = value;
    // The signpost: never bookmark past the sync start, so records written during the run are re-read.
    if (run.kind === 'datetime' && compareCursor('datetime', value, signpost.toISOString()) > 0) capped = signpost.toISOString();
    if (hold !== undefined && compareCursor(run.kind!, hold, capped) < 0) capped = hold;
    const existing = store.get(run.def.name, cursor, context);
    // Never backwards, except to a pending record seen behind the bookmark (e.g. a state written
    // before `pending` was declared): re-reading costs requests, passing it loses its final form.
    if (
      existing !== undefined &&
      compareCursor(run.kind!, existing, capped) >= 0 &&
      (hold === undefined || compareCursor(run.kind!, existing, capped) === 0)
    )
      return;
    store.set(run.def.name, cursor, capped, context);
  };

  const startFor = (run: StreamRun, context: Context | undefined): CursorValue | undefined => {
    const inc = run.def.incremental!;
    const bookmark = store.get(run.def.name, inc.cursor, context);
    let start: CursorValue | undefined = bookmark;
    const lookback = lookbackOf(inc, config, run.def.name);
    if (start !== undefined && lookback && run.kind === 'datetime') {
      start = subtractDuration(new Date(normaliseIsoDateTime(String(start)) ?? String(start)), lookback).toISOString();
    }
    if (start === undefined && typeof startDate === 'string' && startDate !== '') {
      start = run.kind === 'datetime' ? (normaliseIsoDateTime(startDate) ?? startDate) : startDate;
    }
    // Where the reading would begin, before any look-back: what a clamp would really skip.
    const origin = bookmark ?? start;
    if (inc.maxLookback && run.kind === 'datetime') {
      // From the clock now, not the sync start: a partition read late in a long (waiting) run must
      // still ask for no more than the API serves at that moment.
      const margin = inc.maxLookbackMargin ? -subtractDuration(new Date(0), inc.maxLookbackMargin).getTime() : 0;
      const floor = new Date(subtractDuration(now(), inc.maxLookback).getTime() + margin).toISOString();
      const served = `${describeDuration(inc.maxLookback)} back${inc.maxLookbackMargin ? `, less a margin of ${describeDuration(inc.maxLookbackMargin)}` : ''}`;
      if (origin === undefined) {
        log.info(`stream ${run.def.name}: no bookmark or start_date; starting at ${floor}, as far back as the API serves (${served}).`);
        start = floor;
      } else if (compareCursor('datetime', origin, floor) < 0) {
        const skipped = Date.parse(floor) - Date.parse(normaliseIsoDateTime(String(origin)) ?? String(origin));
        log.warn(
          `stream ${run.def.name}${partitionLabel(context)}: the ${bookmark !== undefined ? 'bookmark' : 'start_date'} ${origin} is older than the API serves (${served}); what falls in the ${describeSpan(skipped)} from then to ${floor} can no longer be read and is skipped; starting at ${floor}.`,
        );
        start = floor;
      } else if (start !== undefined && compareCursor('datetime', start, floor) < 0) {
        start = floor; // only the look-back reaches past what the API serves: nothing unread is skipped
      }
    }
    return start;
  };

  const runPartition = async (run: StreamRun, context: Context, url?: string): Promise<void> => {
    const def = run.def;
    const inc = run.incremental ? def.incremental : undefined;
    const bookmarkContext = run.partitioned ? context : undefined;
    const start = inc ? startFor(run, bookmarkContext) : undefined;
    const ctx: StreamContext<unknown> = { stream: def.name, config, http: watched, log, context, start, signal };
    let sorted = inc?.sorted === true || inc?.sorted === 'asc';
    // Newest first: once a record is older than the start, every later one is too, so paging stops
    // after that page, as long as the order held in everything read (else every page is read).
    let newestFirst = inc?.sorted === 'desc' && start !== undefined;
    let previous: CursorValue | undefined;
    let reachedOlder = false;
    let max: CursorValue | undefined;
    let hold: CursorValue | undefined;
    let boundaryKeys = new Set<string>();
    let skippedOld = 0;
    let warnedNoCursor = false;
    let sinceCheckpoint = 0;
    const commitsPerPage = () => sorted && !run.sharedBookmark;
    log.debug(`stream ${def.name}: syncing ${JSON.stringify(context)}${start !== undefined ? ` from ${start}` : ''}`);

    const listing: Listing = { pages: 0, checked: false, doubt: undefined, cutShort: undefined, lost: undefined, notFound: undefined };
    for await (const page of pagesOf(run, ctx, url, listing, reading)) {
      const extractedAt = new Date().toISOString();
      for (const raw of page) {
        const read = run.reader.read(raw, ctx, extractedAt);
        if (read.kind === 'skipped') continue;
        if (read.kind === 'rejected') {
          const value = inc ? read.cursor : undefined;
          if (value !== undefined && start !== undefined && compareCursor(run.kind!, value, start) < 0) {
            reachedOlder = true; // behind the start: skipped as a readable record would be, unless still pending
            if (!read.pending) {
              skippedOld += 1;
              continue;
            }
          }
          // Kept, so the bookmark may pass it: its cursor counts as a record's would, and one read twice
          // at the high-water value (a page edge) is set aside once. One still pending (as far as can be
          // read) holds the bookmark, so its final form is read when it comes.
          if (value !== undefined && read.pending && (hold === undefined || compareCursor(run.kind!, value, hold) < 0)) hold = value;
          if (value !== undefined) {
            const rejectKey = `reject ${read.reject.reject_id}`;
            const order = max === undefined ? 1 : compareCursor(run.kind!, value, max);
            if (order === 0 && boundaryKeys.has(rejectKey)) continue;
            if (order > 0) {
              max = value;
              boundaryKeys = new Set();
            }
            if (order >= 0) boundaryKeys.add(rejectKey);
          }
          await setAside(run, read.reject, context);
          continue;
        }
        const record = read.record;

        if (inc) {
          const value = record[inc.cursor] as CursorValue | null | undefined;
          const pending = inc.pending?.(record, config) === true;
          if (value === null || value === undefined) {
            if (!warnedNoCursor && !pending)
              log.warn(`stream ${def.name}: a record has no ${inc.cursor}; it is emitted but cannot move the bookmark.`);
            warnedNoCursor ||= !pending;
          } else {
            if (newestFirst && previous !== undefined && compareCursor(run.kind!, value, previous) > 0) {
              log.warn(
                `stream ${def.name}: declared newest first, but ${inc.cursor} went up from ${previous} to ${value}; reading every page of this partition.`,
              );
              newestFirst = false;
            }
            previous = value;
            // A pending record holds the bookmark at its cursor, and is kept even behind the start.
            if (pending && (hold === undefined || compareCursor(run.kind!, value, hold) < 0)) hold = value;
            if (start !== undefined && compareCursor(run.kind!, value, start) < 0) {
              reachedOlder = true;
              if (!pending) {
                skippedOld += 1;
                continue;
              }
            }
            const keyId = JSON.stringify(def.key.map((k) => record[k]));
            const order = max === undefined ? 1 : compareCursor(run.kind!, value, max);
            if (order === 0) {
              // Boundary de-duplication: a record at the current high-water value was already emitted.
              if (boundaryKeys.has(keyId)) continue;
              boundaryKeys.add(keyId);
            } else if (order > 0) {
              max = value;
              boundaryKeys = new Set([keyId]);
            } else if (sorted) {
              log.warn(
                `stream ${def.name}: declared sorted, but ${inc.cursor} went back from ${max} to ${value}; the bookmark will only move at the end of this partition.`,
              );
              sorted = false;
            }
          }
        }
        if (run.selection.selected) await emit(run, record, extractedAt);
        for (const child of run.children) {
          if (!child.needed) continue;
          const follow = child.def.parent!.follow;
          let url: string | undefined;
          if (follow !== undefined) {
            url = followedUrl(record[follow], baseUrl, `stream ${child.def.name}: the ${def.name} record's ${follow}`);
            if (url === undefined) {
              log.warn(`stream ${child.def.name}: a ${def.name} record has no ${follow}; its ${child.def.name} were skipped.`);
              continue;
            }
          }
          for (const childContext of contextsOf(child, record)) await runPartition(child, childContext, url);
        }
        sinceCheckpoint += 1;
        if (def.checkpointEvery && sinceCheckpoint >= def.checkpointEvery && commitsPerPage() && max !== undefined) {
          commit(run, max, bookmarkContext, hold);
          await writeState();
          sinceCheckpoint = 0;
        }
      }
      if (commitsPerPage() && max !== undefined) commit(run, max, bookmarkContext, hold);
      await writeState();
      sinceCheckpoint = 0;
      if (newestFirst && reachedOlder) {
        log.debug(`stream ${def.name}: newest first and past ${start}; no further pages for ${JSON.stringify(context)}.`);
        break;
      }
    }

    // Why records of this listing may be unread: it stopped at a skipped response, or records went
    // missing between two pages, so the ones after them moved onto a page already read.
    const cutShort = listing.cutShort;
    let unread: string | undefined;
    if (cutShort !== undefined) {
      const pages = `${cutShort.pages} page${cutShort.pages === 1 ? '' : 's'}`;
      listing.doubt = `its listing stopped at a skipped response after ${pages} (${cutShort.message})`;
      unread = `the listing stopped at a skipped response after ${pages}, so the records on the pages after it were not read`;
    } else if (listing.lost !== undefined) {
      unread = `${listing.lost}; one of those may not have been read`;
    }
    // Cut short, an ascending listing's unread records all come after what was read. Any other
    // order, or a record missed among the pages read, may hide one behind the newest read.
    const maxUnsafe = unread !== undefined && (listing.lost !== undefined || !sorted);
    if (unread !== undefined) {
      const bookmark = !inc
        ? ''
        : !maxUnsafe && max !== undefined
          ? `; the bookmark moves only as far as the records read (${String(max)})`
          : commitsPerPage() && max !== undefined
            ? '; the bookmark already moved with each page read (the listing is declared oldest first), so it may have passed that record'
            : '; the bookmark stays where it was, so the next run reads them';
      log.warn(`stream ${def.name}${partitionLabel(context)}: ${unread}${bookmark}.`);
      summary.cutShort(def.name, partitionName(context));
    }
    if (listing.notFound !== undefined && run.version !== undefined) holdBackForNotFound(run, context, listing.notFound);
    if (run.version !== undefined && run.versionDoubt === undefined) {
      // ACTIVATE_VERSION removes downstream whatever this run did not emit: only for a listing known whole.
      const doubt =
        listing.doubt ??
        (listing.pages > 1 && !listing.checked
          ? `its ${listing.pages} pages were read by a paginator that cannot tell whether records moved between them (declare its total or overlap)`
          : undefined);
      if (doubt !== undefined)
        run.versionDoubt = `${Object.keys(context).length > 0 ? `partition ${JSON.stringify(context)}: ` : ''}${doubt}`;
    }
    if (inc && unread !== undefined && (maxUnsafe || max === undefined)) {
      // The bookmark keeps its place. A shared bookmark is kept whole: holding back only this
      // context's own maximum would not do, as the others' would still carry it past them.
      if (run.sharedBookmark) run.bookmarkKept = true;
    } else if (inc && max !== undefined) {
      // Cut short but ascending, a shared bookmark is held at the last record read, as a pending
      // record holds it: every unread record of this context comes at or after it.
      const held = unread !== undefined ? (hold ?? max) : hold; // a pending record's hold is never past max
      if (run.sharedBookmark) {
        if (run.pendingMax === undefined || compareCursor(run.kind!, max, run.pendingMax) > 0) run.pendingMax = max;
        if (held !== undefined && (run.pendingHold === undefined || compareCursor(run.kind!, held, run.pendingHold) < 0))
          run.pendingHold = held;
      } else commit(run, max, bookmarkContext, hold);
    }
    if (skippedOld > 0) log.debug(`stream ${def.name}: skipped ${skippedOld} records older than ${start}.`);
    await writeState();
  };

  /**
   * A partition that answered "not found / no results" (a revoked pass code, a deleted exam) is no
   * proof that its rows are gone: ACTIVATE_VERSION would retire every row earlier runs loaded from it.
   * So the stream sends none this run, and a WARNING and the summary name the partition.
   */
  const holdBackForNotFound = (run: StreamRun, context: Context, answer: string) => {
    const partition = partitionName(context);
    log.warn(
      `stream ${run.def.name}${partitionLabel(context)} answered "not found / no results" (${answer}); that is no proof its rows are gone, so the rows earlier runs loaded from it are kept: ACTIVATE_VERSION is not sent for ${run.def.name} this run. If it is gone for good, remove it from the config (or let its parent stop listing it) and the next run retires its rows.`,
    );
    summary.notRetired(run.def.name, partition);
    run.versionDoubt ??= `${Object.keys(context).length > 0 ? `partition ${JSON.stringify(context)} ` : ''}answered "not found / no results", which is no proof its rows are gone`;
  };

  /** After every context of a stream tree ran: shared bookmarks, ACTIVATE_VERSION, metrics. */
  const finish = async (run: StreamRun): Promise<void> => {
    for (const child of run.children) if (child.needed) await finish(child);
    if (run.pendingMax !== undefined && !run.bookmarkKept) commit(run, run.pendingMax, undefined, run.pendingHold);
    if (run.selection.selected && run.version !== undefined) {
      if (run.versionDoubt !== undefined) {
        log.warn(
          `stream ${run.def.name}: ${run.versionDoubt}; ACTIVATE_VERSION is not sent this run, so nothing is removed downstream on a listing that may have missed live records (the next whole listing sends it).`,
        );
      } else {
        // Sent after the last record, so an interrupted run never tells the target to drop rows.
        await options.write({ type: 'ACTIVATE_VERSION', stream: run.def.name, version: run.version });
      }
    }
    if (run.selection.selected) log.metric('counter', 'record_count', run.recordCount, { stream: run.def.name });
  };

  const announce = async (run: StreamRun): Promise<void> => {
    if (run.selection.selected) {
      const key = [...run.def.key];
      await options.write({
        type: 'SCHEMA',
        stream: run.def.name,
        schema: run.schema,
        key_properties: key,
        ...(run.incremental ? { bookmark_properties: [run.def.incremental!.cursor] } : {}),
      });
      if (run.def.activateVersion) run.version = signpost.getTime();
    }
    for (const child of run.children) if (child.needed) await announce(child);
  };

  // The selected streams not yet finished, for the summary of a run the rate limit stops.
  let unfinished = (): string[] => [];
  try {
    checkBookmarks(runs, store, options.stateFile);
    // One unit per top-level stream, or per declared partition of it. A run goes round them once,
    // starting where the last run stopped (a rate budget used up, a kill), so the units after that
    // point are never starved by the ones before it; those come last instead.
    const units = runs
      .filter((run) => run.needed)
      .flatMap((run) => {
        const contexts = run.def.partitions ? run.def.partitions(config) : [{}];
        return contexts.length === 0
          ? [{ run, context: undefined }]
          : contexts.map((context) => ({ run, context: context as Context | undefined }));
      });
    const from = resumeIndex(units, store.resumePoint);
    if (from > 0) {
      const { run, context } = units[from]!;
      log.info(
        `stream ${run.def.name}: resuming${run.def.partitions && context ? ` at partition ${JSON.stringify(context)}` : ''}, where the last run stopped; what comes before it is read after the rest.`,
      );
    }
    const left = new Map<StreamRun, number>();
    for (const unit of units) left.set(unit.run, (left.get(unit.run) ?? 0) + 1);
    const announced = new Set<StreamRun>();
    const ordered = [...units.slice(from), ...units.slice(0, from)];
    unfinished = () => [...new Set(ordered.filter(({ run }) => (left.get(run) ?? 0) > 0).flatMap(({ run }) => selectedIn(run)))];
    for (const { run, context } of ordered) {
      if (!announced.has(run)) {
        announced.add(run);
        await announce(run);
      }
      store.setCurrentlySyncing(run.def.name, run.def.partitions ? context : undefined);
      if (context !== undefined) await runPartition(run, context);
      left.set(run, left.get(run)! - 1);
      if (left.get(run) === 0) await finish(run);
    }
    store.setCurrentlySyncing(null);
    await writeState();
    return store.value();
  } catch (error) {
    // Stopping on the rate limit is a clean end: say where to resume (the state covers every record sent).
    if (isRateLimited(error)) {
      await writeState();
      summary.rateLimited(error.retryAt, unfinished());
    }
    throw error;
  } finally {
    if (ownsHttp) await http.close?.();
  }
}

function planRuns(
  streams: readonly StreamDefinition[],
  selection: Map<string, StreamSelection>,
  log: Logger,
  summary: RunSummary,
): StreamRun[] {
  const byDef = new Map<StreamDefinition, StreamRun>();
  for (const def of streams) {
    const chosen = selection.get(def.name)!;
    const schema = streamJsonSchema(def as StreamDefinition<z.ZodObject, unknown>);
    if (chosen.fields) {
      const properties = schema.properties as Record<string, unknown>;
      schema.properties = Object.fromEntries(Object.entries(properties).filter(([name]) => chosen.fields!.has(name)));
      if (Array.isArray(schema.required)) schema.required = schema.required.filter((name) => chosen.fields!.has(String(name)));
    }
    const incremental = def.incremental !== undefined && chosen.replicationMethod === 'INCREMENTAL';
    const cursorProperty = def.incremental ? propertySchema(recordJsonSchema(def.record), def.incremental.cursor) : undefined;
    const multiContext = def.parent !== undefined || def.partitions !== undefined;
    byDef.set(def, {
      def: def as StreamDefinition<z.ZodObject, unknown>,
      selection: chosen,
      children: [],
      needed: false,
      schema,
      reader: new RecordReader(
        def as StreamDefinition<z.ZodObject, unknown>,
        log,
        (field) => chosen.selected && summary.undeclared(def.name, field),
      ),
      kind: cursorProperty ? cursorKind(cursorProperty) : undefined,
      incremental,
      partitioned: incremental && multiContext && def.incremental?.partitioned === true,
      sharedBookmark: incremental && multiContext && def.incremental?.partitioned !== true,
      pendingMax: undefined,
      pendingHold: undefined,
      bookmarkKept: false,
      version: undefined,
      versionDoubt: undefined,
      recordCount: 0,
    });
  }
  for (const def of streams) if (def.parent) byDef.get(def.parent.stream)!.children.push(byDef.get(def)!);
  const markNeeded = (run: StreamRun): boolean => {
    const childNeeded = run.children.map(markNeeded).some(Boolean);
    run.needed = run.selection.selected || childNeeded;
    return run.needed;
  };
  const roots = streams.filter((def) => !def.parent).map((def) => byDef.get(def)!);
  roots.forEach(markNeeded);
  return roots;
}

/** The unit a resumed run starts at: the partition it stopped in, else that stream's first; 0 when unknown. */
function resumeIndex(units: ReadonlyArray<{ run: StreamRun; context: Context | undefined }>, point: StateStore['resumePoint']): number {
  if (point === undefined) return 0;
  const wanted = point.context === undefined ? undefined : contextId(point.context);
  const partition = units.findIndex((u) => u.run.def.name === point.stream && u.context !== undefined && contextId(u.context) === wanted);
  if (partition >= 0) return partition;
  return Math.max(
    0,
    units.findIndex((u) => u.run.def.name === point.stream),
  );
}

/** A bookmark the run cannot use is the state's owner's to fix: one sentence, before any request. */
function checkBookmarks(runs: readonly StreamRun[], store: StateStore, stateFile: string | undefined): void {
  for (const run of runs) {
    checkBookmarks(run.children, store, stateFile);
    if (!run.needed || !run.incremental || run.kind === undefined) continue;
    for (const { context, value } of store.kept(run.def.name, run.def.incremental!.cursor)) {
      const problem = bookmarkProblem(run.kind, value);
      if (problem === undefined) continue;
      const where = context === undefined ? '' : ` (partition ${JSON.stringify(context)})`;
      throw new TapError(
        `${stateFile === undefined ? 'The state' : `The state file ${stateFile}`} holds a bookmark for stream ${run.def.name}${where} that ${problem}: ${JSON.stringify(value)?.slice(0, 80)}; correct it, or remove it to read that stream from start_date again.`,
        'config',
      );
    }
  }
}

function contextsOf(child: StreamRun, parentRecord: Record<string, unknown>): readonly Context[] {
  const produced = child.def.parent!.contexts(parentRecord);
  if (produced === null || produced === undefined) return [];
  return Array.isArray(produced) ? produced : [produced as Context];
}

/**
 * A parent record set aside hands no context to its children, so their records under it are unread:
 * a bookmark they share stays put and a full-table child sends no ACTIVATE_VERSION this run. Returns
 * the names of the children affected (a partitioned child's own bookmarks are untouched anyway).
 */
function unreadChildren(run: StreamRun, reject: RejectedRecord): string[] {
  const names: string[] = [];
  for (const child of run.children) {
    if (!child.needed) continue;
    names.push(child.def.name, ...unreadChildren(child, reject));
    if (child.sharedBookmark) child.bookmarkKept = true;
    if (child.version !== undefined) {
      child.versionDoubt ??= `a ${run.def.name} record could not be read and was set aside in ${REJECTS_STREAM} (reject_id ${reject.reject_id.slice(0, 12)}…), so its ${child.def.name} were not read`;
    }
  }
  return names;
}

/** The rejects stream's schema with only the selected fields. */
function rejectsSchema(fields: Set<string> | undefined): JsonSchema {
  if (!fields) return REJECTS_SCHEMA;
  const properties = Object.fromEntries(
    Object.entries(REJECTS_SCHEMA.properties as Record<string, JsonSchema>).filter(([name]) => fields.has(name)),
  );
  return { ...REJECTS_SCHEMA, properties, required: (REJECTS_SCHEMA.required as string[]).filter((name) => fields.has(name)) };
}

/** A stream run and its descendants that are selected: what a stop before it leaves unread. */
function selectedIn(run: StreamRun): string[] {
  return [...(run.selection.selected ? [run.def.name] : []), ...run.children.flatMap(selectedIn)];
}

/** How the summary names a partition: its context as JSON, or "(whole stream)". */
function partitionName(context: Context | undefined): string {
  return context === undefined || Object.keys(context).length === 0 ? '(whole stream)' : JSON.stringify(context);
}

function partitionLabel(context: Context | undefined): string {
  return context !== undefined && Object.keys(context).length > 0 ? ` (partition ${JSON.stringify(context)})` : '';
}

/**
 * `http` whose paginations tell the listing being read when a skipped response ended them. A skip
 * before any page is the partition answering "not found / no results": skipped whole, but no proof
 * its rows are gone, so it holds back ACTIVATE_VERSION. One after pages were read is a listing cut
 * short, which must not move a bookmark past, or delete downstream, what it never reached. A custom
 * `fetch` pages through this client too, so it is watched the same way. One per run: connectors may
 * key per-run caches on `ctx.http`.
 */
function watchingSkips(http: HttpClient, reading: readonly Listing[]): HttpClient {
  return {
    ...http,
    async *paginate<R>(
      request: HttpRequest,
      pagination: Pagination | Paginator,
      selectRecords: (body: unknown, response: HttpResponse) => readonly R[],
    ): AsyncGenerator<Page<R>, PaginateEnd, undefined> {
      const listing = reading.at(-1); // the partition whose pages this pagination serves
      const end = yield* http.paginate(request, pagination, selectRecords);
      if (listing && end.skipped !== undefined && end.pages > 0) listing.cutShort ??= { pages: end.pages, message: end.skipped.message };
      if (listing && end.skipped !== undefined && end.pages === 0) listing.notFound ??= end.skipped.message;
      return end;
    },
  };
}

async function* pagesOf(
  run: StreamRun,
  ctx: StreamContext<unknown>,
  url: string | undefined,
  listing: Listing,
  reading: Listing[],
): AsyncIterable<readonly unknown[]> {
  reading.push(listing);
  try {
    yield* pagesIn(run, ctx, url, listing);
  } finally {
    reading.splice(reading.lastIndexOf(listing), 1);
  }
}

async function* pagesIn(
  run: StreamRun,
  ctx: StreamContext<unknown>,
  url: string | undefined,
  listing: Listing,
): AsyncIterable<readonly unknown[]> {
  const def = run.def;
  if (def.fetch) {
    for await (const page of def.fetch(ctx)) {
      listing.pages += 1;
      yield page;
    }
    return;
  }
  const api = def.api;
  const query: Record<string, QueryValue> = typeof def.query === 'function' ? def.query(ctx) : { ...(def.query ?? {}) };
  const send = def.incremental?.send;
  if (send && ctx.start !== undefined && run.incremental) {
    const spec = typeof send === 'string' ? { query: send.slice('query:'.length) } : send;
    query[spec.query] = formatStart(ctx.start, spec.format, spec.exclusive === true, run.kind!);
  }
  // A followed URL is read as sent; its label names where it came from (e.g. exams.attempts_url).
  const where =
    url !== undefined
      ? { url, endpoint: `${def.parent!.stream.name}.${def.parent!.follow!}` }
      : { path: fillPath(def.path!, ctx.context, def.name), endpoint: def.path! };
  let request: HttpRequest = { method: def.method ?? 'GET', ...where, query };
  if (def.request) request = def.request(request, ctx);
  if (api.request) request = api.request(request, ctx);
  const paginator = (def.pagination === null ? noPaging() : (def.pagination ?? api.pagination ?? noPaging())).start();
  listing.checked = typeof paginator.incomplete === 'function';
  const selector = def.records ?? api.records;
  try {
    for await (const page of ctx.http.paginate(request, paginator, (body) => selectRecords(body, selector))) {
      listing.pages += 1;
      yield page.records;
    }
  } finally {
    // Also when the reader stops early (newest first, past its start): the pages read count.
    listing.lost = paginator.lost?.();
  }
  listing.doubt = paginator.incomplete?.();
}

/** Writes a start value the way the API wants it; `exclusive` steps back one unit to keep the boundary. */
export function formatStart(
  start: CursorValue,
  format: NonNullable<Exclude<IncrementalSend, string>['format']> | undefined,
  exclusive: boolean,
  kind: CursorKind,
): string {
  if (typeof format === 'function') return format(start);
  if (kind !== 'datetime') return String(exclusive && typeof start === 'number' ? start - 1 : start);
  const ms = Date.parse(normaliseIsoDateTime(String(start)) ?? String(start));
  switch (format ?? 'iso') {
    case 'unix':
      return String(Math.floor(ms / 1000) - (exclusive ? 1 : 0));
    case 'unix-ms':
      return String(ms - (exclusive ? 1 : 0));
    case 'date':
      return new Date(ms - (exclusive ? 86_400_000 : 0)).toISOString().slice(0, 10);
    default:
      return exclusive ? new Date(ms - 1).toISOString() : String(start);
  }
}

type IncrementalSend = NonNullable<NonNullable<StreamDefinition['incremental']>['send']>;
