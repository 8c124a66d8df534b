// The sync runner: plans the stream trees, goes round their partitions once (resuming where the last
// run stopped), and leaves each partition to SyncRun, which keeps bookmarks and writes the messages.

import type { HttpClient } from '@tapline/http';
import type { SingerMessage } from '@tapline/singer';
import { Bookmarks } from './bookmarks.js';
import { resolveRejectsSelection, resolveSelection } from './catalog.js';
import { createApiClient } from './client.js';
import type { Context, TapDefinition } from './declare.js';
import { isRateLimited } from './errors.js';
import { FetchWatch } from './listing.js';
import type { Logger } from './log.js';
import { RunSummary } from './run-summary.js';
import { contextId, rateBudgetOf, StateStore, type TapState } from './state.js';
import { checkBookmarks, planRuns, type StreamRun, selectedIn } from './stream-run.js';
import { SyncRun } from './sync-run.js';

export { formatStart } from './listing.js';

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

/** Runs a sync and returns the final state. A RateLimitedError is re-thrown after the state is written. */
export async function sync<TConfig>(options: SyncOptions<TConfig>): Promise<TapState> {
  const { tap, config, log } = options;
  const summary = options.summary ?? new RunSummary();
  const now = options.now ?? (() => new Date());
  const signpost = now();
  const store = new StateStore(options.state);
  const selection = resolveSelection(tap.streams, options.catalog);
  const http = options.http ?? createApiClient(tap.api, config, log, { budgetState: rateBudgetOf(options.state) });
  const runs = planRuns(tap.streams, selection, log, summary);
  const syncRun = new SyncRun({
    config,
    log,
    http,
    watch: new FetchWatch(http),
    store,
    bookmarks: new Bookmarks(store, signpost, now, config, log),
    summary,
    rejectsSelection: resolveRejectsSelection(options.catalog),
    signpost,
    signal: options.signal ?? new AbortController().signal,
    baseUrl: tap.api.baseUrl(config),
    write: options.write,
    ...(options.onRecords ? { onRecords: options.onRecords } : {}),
  });
  // The selected streams not yet finished, for the summary of a run the rate limit stops.
  let unfinished = (): string[] => [];
  try {
    checkBookmarks(runs, store, options.stateFile);
    const ordered = unitsInOrder(runs, config, store, log);
    const left = new Map<StreamRun, number>();
    for (const unit of ordered) left.set(unit.run, (left.get(unit.run) ?? 0) + 1);
    unfinished = () => [...new Set(ordered.filter(({ run }) => (left.get(run) ?? 0) > 0).flatMap(({ run }) => selectedIn(run)))];
    const announced = new Set<StreamRun>();
    for (const { run, context } of ordered) {
      if (!announced.has(run)) {
        announced.add(run);
        await syncRun.announce(run);
      }
      store.setCurrentlySyncing(run.def.name, run.def.partitions ? context : undefined);
      if (context !== undefined) await syncRun.runPartition(run, context);
      left.set(run, left.get(run)! - 1);
      if (left.get(run) === 0) await syncRun.finish(run);
    }
    store.setCurrentlySyncing(null);
    await syncRun.writeState();
    return store.value();
  } catch (error) {
    // Stopping on the rate limit is a clean end: say where to resume (the state covers every record sent).
    if (isRateLimited(error)) {
      await syncRun.writeState();
      summary.rateLimited(error.retryAt, unfinished());
    }
    throw error;
  } finally {
    if (options.http === undefined) await http.close?.();
  }
}

/** One top-level stream in one of its declared partitions (undefined: it declared none this run). */
interface Unit {
  run: StreamRun;
  context: Context | undefined;
}

/**
 * One unit per top-level stream, or per declared partition of it. A run goes round them once,
 * starting where the last run stopped (a rate budget used up, a kill), so the units after that
 * point are never starved by the ones before it; those come last instead.
 */
function unitsInOrder<TConfig>(runs: readonly StreamRun[], config: TConfig, store: StateStore, log: Logger): Unit[] {
  const units = runs
    .filter((run) => run.needed)
    .flatMap((run): Unit[] => {
      const contexts = run.def.partitions ? run.def.partitions(config) : [{}];
      return contexts.length === 0 ? [{ run, context: undefined }] : contexts.map((context) => ({ run, context }));
    });
  const from = resumeIndex(units, store.resumePoint);
  if (from > 0) {
    const { run, context } = units[from]!;
    log.info(
      `stream ${run.def.name}: resuming${run.def.partitions && context ? ` at partition ${JSON.stringify(context)}` : ''}, where the last run stopped; what comes before it is read after the rest.`,
    );
  }
  return [...units.slice(from), ...units.slice(0, from)];
}

/** The unit a resumed run starts at: the partition it stopped in, else that stream's first; 0 when unknown. */
function resumeIndex(units: readonly Unit[], point: StateStore['resumePoint']): number {
  if (point === undefined) return 0;
  const wanted = point.context === undefined ? undefined : contextId(point.context);
  const partition = units.findIndex((u) => u.run.def.name === point.stream && u.context !== undefined && contextId(u.context) === wanted);
  if (partition >= 0) return partition;
  return Math.max(
    0,
    units.findIndex((u) => u.run.def.name === point.stream),
  );
}
