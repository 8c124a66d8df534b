// The tap's state: its shape, reading a --state file tolerantly, bookmarks per stream or partition.
import { readFileSync } from 'node:fs';
import type { RateBudget, RateBudgetState } from '@tapline/http';
import { normaliseIsoDateTime } from './coerce.js';
import type { Context } from './declare.js';
import { TapError } from './errors.js';
import type { CursorKind } from './json-schema.js';

export type CursorValue = string | number;

export interface PartitionBookmark {
  context: Context;
  replication_key?: string;
  replication_key_value?: CursorValue;
}

export interface StreamBookmark {
  replication_key?: string;
  replication_key_value?: CursorValue;
  partitions?: PartitionBookmark[];
}

/** The STATE value every Tapline tap emits and accepts back through --state. */
export interface TapState {
  bookmarks: Record<string, StreamBookmark>;
  currently_syncing?: string | null;
  /**
   * The partition of `currently_syncing` being read (streams with declared `partitions`), so a run
   * that stopped there (the rate budget, a kill) resumes there instead of at the first partition.
   */
  currently_syncing_partition?: Context;
  /**
   * The API's rate budget, when it declares one: the epoch-ms times of the requests made within
   * its window (at most `limit` of them) and a server-imposed pause, so back-to-back runs share
   * one budget. Stream-independent; absent when there is nothing to remember.
   */
  rate_budget?: RateBudgetState;
}

/**
 * A rate budget kept in a state, read tolerantly: anything malformed counts as no history. The CLI
 * refuses such a --state file first (`readStateFile`); this is for states handed to `sync` directly.
 */
export function rateBudgetOf(state: unknown): RateBudgetState | undefined {
  const kept = (state as { rate_budget?: unknown } | null | undefined)?.rate_budget as
    | Partial<Record<keyof RateBudgetState, unknown>>
    | undefined;
  if (typeof kept !== 'object' || kept === null || !Array.isArray(kept.request_times)) return undefined;
  const times = kept.request_times.filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  const blocked = typeof kept.blocked_until === 'number' && Number.isFinite(kept.blocked_until) ? kept.blocked_until : undefined;
  return { request_times: times, ...(blocked !== undefined ? { blocked_until: blocked } : {}) };
}

/** What a state keeps of a budget: its window's requests, never more than its limit (the newest). */
export function budgetSnapshot(budget: RateBudget): RateBudgetState | undefined {
  const snapshot = budget.snapshot();
  const kept: RateBudgetState = { request_times: snapshot.request_times.slice(-budget.limit) };
  if (snapshot.blocked_until !== undefined) kept.blocked_until = snapshot.blocked_until;
  return kept.request_times.length > 0 || kept.blocked_until !== undefined ? kept : undefined;
}

/** The keys of a tap state; an object with none of them is not one. */
const STATE_KEYS = ['bookmarks', 'currently_syncing', 'currently_syncing_partition', 'rate_budget'];

const MAX_STATE_DEPTH = 100;

/** Whether objects and arrays nest deeper than `limit` (walked without recursion). */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

/** "a string", "an array", "null": what a JSON value is, for sentences. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : type === 'boolean' ? `${String(value)}` : `a ${type}`;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Why a parsed --state value cannot be a tap state (undefined when it can). Only the documented
 * keys are checked; keys the tap does not know are kept. Malformed bookmark values are the sync's
 * to name, since only it knows each stream's cursor.
 */
export function stateShapeProblem(value: unknown, where = ''): string | undefined {
  if (!isObject(value)) return `${where || 'it'} holds ${kindOf(value)}, not a state object`;
  // A state is a few levels deep; far deeper nesting would overflow the stack when the state is copied.
  if (deeperThan(value, MAX_STATE_DEPTH)) return `it nests deeper than ${MAX_STATE_DEPTH} levels`;
  const keys = Object.keys(value);
  if (keys.length > 0 && !keys.some((key) => STATE_KEYS.includes(key))) {
    return `it has none of the keys of a tap state ("bookmarks", "currently_syncing", "rate_budget"), only ${keys.map((key) => JSON.stringify(key)).join(', ')}`;
  }
  const { bookmarks, currently_syncing: current, currently_syncing_partition: partition, rate_budget: budget } = value;
  if (bookmarks !== undefined) {
    if (!isObject(bookmarks)) return `"bookmarks" is ${kindOf(bookmarks)}, not an object of stream bookmarks`;
    for (const [stream, entry] of Object.entries(bookmarks)) {
      const problem = streamBookmarkProblem(stream, entry);
      if (problem) return problem;
    }
  }
  if (current !== undefined && current !== null && typeof current !== 'string')
    return `"currently_syncing" is ${kindOf(current)}, not a stream name or null`;
  if (partition !== undefined && !isObject(partition))
    return `"currently_syncing_partition" is ${kindOf(partition)}, not a partition's context object`;
  if (budget !== undefined) {
    const times = isObject(budget) ? budget.request_times : undefined;
    const blocked = isObject(budget) ? budget.blocked_until : undefined;
    const isTime = (t: unknown) => typeof t === 'number' && Number.isFinite(t);
    if (!Array.isArray(times) || !times.every(isTime) || (blocked !== undefined && !isTime(blocked))) {
      return '"rate_budget" is not an object with a "request_times" array of epoch milliseconds';
    }
  }
  return undefined;
}

function streamBookmarkProblem(stream: string, entry: unknown): string | undefined {
  const name = JSON.stringify(stream);
  if (!isObject(entry)) return `the bookmark of stream ${name} is ${kindOf(entry)}, not an object`;
  if (entry.partitions === undefined) return undefined;
  if (!Array.isArray(entry.partitions)) return `"partitions" of stream ${name} is ${kindOf(entry.partitions)}, not an array`;
  const index = entry.partitions.findIndex((p) => !isObject(p) || !isObject(p.context));
  return index < 0 ? undefined : `partition ${index + 1} of stream ${name} has no "context" object`;
}

/**
 * The state in a --state file: the value of the last STATE message, as every runner passes it.
 * Also taken: a whole STATE message (its value is used) and a Meltano export (`{"singer_state": …}`).
 * `null`, an empty file or a STATE message with a null value mean no state, as on a first run (an
 * INFO line says so). Any other shape stops the run with one sentence naming the file (blame
 * config): taking it as "no state" would re-read everything, spending the vendor's request budget.
 */
export function readStateFile(path: string, log: { info(message: string): void }): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TapError(`Cannot read the state file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}.`, 'config');
  }
  const noState = (what: string) => {
    log.info(`The state file ${path} ${what}: starting without state, as on a first run.`);
    return undefined;
  };
  if (text.trim() === '') return noState('is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TapError(`The state file ${path} is not valid JSON (${(error as Error).message}).`, 'config');
  }
  const refuse = (problem: string) =>
    new TapError(
      `The state file ${path} is not a state this tap can use: ${problem}; pass the value of the last STATE message the tap wrote ({"bookmarks": {...}, ...}), or no --state to start from scratch.`,
      'config',
    );
  if (value === null) return noState('holds null');
  let where = '';
  if (isObject(value) && typeof value.type === 'string') {
    if (value.type !== 'STATE') throw refuse(`it holds a ${value.type} message, not a state`);
    if (!('value' in value)) throw refuse('its STATE message has no "value"');
    if (value.value === null) return noState('holds a STATE message with a null value');
    value = value.value;
    where = 'its STATE message';
  } else if (isObject(value) && Object.keys(value).length === 1 && isObject(value.singer_state)) {
    value = value.singer_state;
    where = 'its "singer_state"';
  }
  const problem = stateShapeProblem(value, where);
  if (problem) throw refuse(problem);
  if (where === 'its STATE message') log.info(`The state file ${path} holds a whole STATE message; using its value.`);
  return value;
}

/**
 * The state to pass a tap for a full refresh: the stored one without what says how far reading got
 * (`bookmarks`, emptied, and `currently_syncing`/`currently_syncing_partition`), keeping everything
 * else, above all `rate_budget`: requests already spent this hour stay spent. Undefined when nothing
 * else is left (pass no --state then).
 */
export function fullRefreshState(state: unknown): Record<string, unknown> | undefined {
  if (!isObject(state)) return undefined;
  const { bookmarks: _bookmarks, currently_syncing: _stream, currently_syncing_partition: _partition, ...kept } = state;
  return Object.keys(kept).length === 0 ? undefined : { bookmarks: {}, ...kept };
}

/** Contexts compare by content, whatever the key order. */
export function contextId(context: Context): string {
  return JSON.stringify(
    Object.keys(context)
      .sort()
      .map((key) => [key, context[key]]),
  );
}

/** Orders two cursor values of the same kind; ISO timestamps compare as instants, to the microsecond. */
export function compareCursor(kind: CursorKind, a: CursorValue, b: CursorValue): number {
  if (kind === 'number') return Number(a) - Number(b);
  if (kind === 'datetime') {
    const left = instantParts(String(a));
    const right = instantParts(String(b));
    return left.ms - right.ms || left.micros - right.micros;
  }
  const left = String(a);
  const right = String(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

function instantParts(text: string): { ms: number; micros: number } {
  const normalised = normaliseIsoDateTime(text) ?? text;
  const fraction = /\.(\d+)Z$/.exec(normalised)?.[1] ?? '';
  return { ms: Date.parse(normalised), micros: Number(fraction.padEnd(6, '0').slice(3, 6)) };
}

/**
 * Why a kept bookmark cannot be a value of this cursor kind (undefined when it can): a date-time
 * cursor needs an ISO 8601 string, a number cursor a number. Read before any request, so a hand-edited
 * or foreign state stops the run with a sentence instead of a RangeError or a `NaN` sent to the API.
 */
export function bookmarkProblem(kind: CursorKind, value: unknown): string | undefined {
  if (kind === 'datetime') {
    const isDate = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && Number.isFinite(Date.parse(value));
    return typeof value === 'string' && (normaliseIsoDateTime(value) !== undefined || isDate) ? undefined : 'is not an ISO 8601 date-time';
  }
  if (kind === 'number') {
    const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
    return Number.isFinite(number) ? undefined : 'is not a number';
  }
  return typeof value === 'string' || typeof value === 'number' ? undefined : 'is not a string';
}

/** Holds the state during a run. Reads any JSON tolerantly; writes only the documented shape. */
export class StateStore {
  private readonly state: TapState;
  /** Where the run that wrote the initial state was when it last wrote it (undefined: it finished). */
  readonly resumePoint: { stream: string; context: Context | undefined } | undefined;

  constructor(initial: unknown) {
    const given = (initial ?? {}) as { bookmarks?: unknown; currently_syncing?: unknown; currently_syncing_partition?: unknown };
    const bookmarks = given.bookmarks;
    this.state = {
      bookmarks: typeof bookmarks === 'object' && bookmarks !== null ? structuredClone(bookmarks as Record<string, StreamBookmark>) : {},
    };
    const partition = given.currently_syncing_partition;
    this.resumePoint =
      typeof given.currently_syncing === 'string'
        ? {
            stream: given.currently_syncing,
            context: typeof partition === 'object' && partition !== null && !Array.isArray(partition) ? (partition as Context) : undefined,
          }
        : undefined;
  }

  /** The bookmark of a stream (context undefined) or of one partition, when it was kept for this cursor. */
  get(stream: string, cursor: string, context?: Context): CursorValue | undefined {
    const entry = this.entry(stream, context, false);
    if (!entry || entry.replication_key !== cursor) return undefined;
    const value = entry.replication_key_value;
    return typeof value === 'string' || typeof value === 'number' ? value : undefined;
  }

  /** Every bookmark kept for this stream and cursor, as stored (possibly malformed), with its partition's context. */
  kept(stream: string, cursor: string): Array<{ context: Context | undefined; value: unknown }> {
    const entry = this.state.bookmarks[stream];
    if (!entry || typeof entry !== 'object') return [];
    const found: Array<{ context: Context | undefined; value: unknown }> = [];
    if (entry.replication_key === cursor && entry.replication_key_value != null)
      found.push({ context: undefined, value: entry.replication_key_value });
    for (const partition of Array.isArray(entry.partitions) ? entry.partitions : []) {
      if (partition && typeof partition === 'object' && partition.replication_key === cursor && partition.replication_key_value != null) {
        found.push({ context: partition.context, value: partition.replication_key_value });
      }
    }
    return found;
  }

  set(stream: string, cursor: string, value: CursorValue, context?: Context): void {
    const entry = this.entry(stream, context, true)!;
    entry.replication_key = cursor;
    entry.replication_key_value = value;
  }

  /** The stream being read, and the declared partition of it when it has `partitions`. */
  setCurrentlySyncing(stream: string | null, partition?: Context): void {
    this.state.currently_syncing = stream;
    if (partition === undefined) delete this.state.currently_syncing_partition;
    else this.state.currently_syncing_partition = { ...partition };
  }

  /** Records the rate budget's current history (undefined drops it). */
  setRateBudget(budget: RateBudgetState | undefined): void {
    if (budget === undefined) delete this.state.rate_budget;
    else this.state.rate_budget = budget;
  }

  /** A deep copy for a STATE message. */
  value(): TapState {
    return structuredClone(this.state);
  }

  private entry(stream: string, context: Context | undefined, create: boolean): StreamBookmark | PartitionBookmark | undefined {
    let streamEntry = this.state.bookmarks[stream];
    if (!streamEntry || typeof streamEntry !== 'object') {
      if (!create) return undefined;
      streamEntry = this.state.bookmarks[stream] = {};
    }
    if (context === undefined) return streamEntry;
    const id = contextId(context);
    const partitions = Array.isArray(streamEntry.partitions) ? streamEntry.partitions : undefined;
    const found = partitions?.find((p) => p && typeof p.context === 'object' && contextId(p.context) === id);
    if (found || !create) return found;
    const partition: PartitionBookmark = { context: { ...context } };
    streamEntry.partitions ??= [];
    streamEntry.partitions.push(partition);
    return partition;
  }
}
