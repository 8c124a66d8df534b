// The declaration API: defineApi (a provider's API profile), api.stream (one stream) and defineTap.

import type { Classifier, HttpClient, HttpClientOptions, HttpRequest, Pagination, QueryValue, SuccessShape } from '@tapline/http';
import type { z } from 'zod';
import { assertDuration, type Duration } from './duration.js';
import type { Logger } from './log.js';
import { isBuiltInSubcommand, replayRejectsCommand } from './replay.js';

/** Values a parent record hands to a child stream: fill `{placeholders}` in its path and land in its state. */
export type Context = Record<string, string | number | boolean | null>;

/** Where the records sit in a response body: a dotted path ('data.items', 'results[*].result') or a function. */
export type RecordSelector = string | ((body: unknown) => readonly unknown[]);

/** How a start value is written into the request. */
export type StartFormat = 'iso' | 'unix' | 'unix-ms' | 'date' | ((start: string | number) => string);

export interface IncrementalSettings<TRecord, TConfig = unknown> {
  /** The record field that only grows as records change (the replication key). */
  cursor: keyof TRecord & string;
  /**
   * Where the start value goes: 'query:<param>', or an object for its format. `exclusive: true`
   * means the API returns records strictly after the value; the kit then sends one unit less so the
   * boundary value is re-read and de-duplicated rather than lost. Omitted: the kit filters locally.
   */
  send?: `query:${string}` | { query: string; format?: StartFormat; exclusive?: boolean };
  /**
   * The order the API returns records in, by cursor. `true` / 'asc' (oldest first): the bookmark
   * advances every page. 'desc' (newest first): paging stops after the first page that reaches
   * records older than the start; the bookmark moves at the end of the partition. `false`: no
   * order; every page is read and the bookmark moves at the end. A declared order the data breaks
   * is logged and the partition falls back to reading everything.
   */
  sorted: boolean | 'asc' | 'desc';
  /**
   * Re-read this far behind the bookmark, for records whose cursor is written late: a duration, or
   * one read from the parsed config (a setting the user tunes; undefined for none).
   */
  lookback?: Duration | ((config: TConfig) => Duration | undefined);
  /**
   * The furthest back the API lets anyone read, from now (e.g. '3mo', calendar months): an older
   * bookmark or start_date is clamped, with a WARNING naming how much can no longer be read.
   */
  maxLookback?: Duration;
  /** How far inside `maxLookback` to stay, for the API's own clock and time zone (e.g. '1d'). */
  maxLookbackMargin?: Duration;
  /** Keep one bookmark per context (e.g. per exam) instead of one for the stream. */
  partitioned?: boolean;
  /**
   * Records that will still change (an attempt still running): each is emitted, and the bookmark
   * never moves past the oldest one seen, so every run re-reads it until it is finished, however
   * long that takes. A record without a cursor value is treated the same way already (emitted on
   * every run, never moving the bookmark); declaring it pending only silences the warning. It also
   * gets the parsed config, for a hold the user tunes (e.g. ClassMarker's grading_hold_days).
   */
  pending?: (record: TRecord, config: TConfig) => boolean;
}

/**
 * Where one partition's requests go when not to the stream's `path` (or the URL its parent hands
 * over): another path or another API's URL, with the query, headers and success shape that go with it.
 */
export interface StreamEndpoint {
  /** Relative to the API's base URL; `{placeholder}`s are filled from the context. Also the endpoint's label in logs and metrics. */
  path?: string;
  /** An absolute URL used as is (e.g. another API version's host from config); takes precedence over `path`. */
  url?: string;
  /** Replaces the stream's `query` (a declared `incremental.send` is still added). */
  query?: Record<string, QueryValue>;
  headers?: Readonly<Record<string, string>>;
  /** This endpoint's success answer, instead of the API's. */
  success?: SuccessShape;
}

/** Everything a stream's hooks can use. Nothing is global: the kit injects it all. */
export interface StreamContext<TConfig = unknown> {
  stream: string;
  config: TConfig;
  http: HttpClient;
  log: Logger;
  /** This partition's context (from the parent record or `partitions`); {} for a top-level stream. */
  context: Context;
  /** Where this sync starts for an incremental stream (bookmark - lookback, or start_date), else undefined. */
  start: string | number | undefined;
  signal: AbortSignal;
}

/** A child's link to its parent: which parent, and the context(s) each parent record yields. */
export interface ParentLink {
  // biome-ignore lint/suspicious/noExplicitAny: streams of any schema and config sit in one list; each is checked where it is declared
  readonly stream: StreamDefinition<any, any>;
  // biome-ignore lint/suspicious/noExplicitAny: streams of any schema and config sit in one list; each is checked where it is declared
  readonly contexts: (record: any) => Context | readonly Context[] | null | undefined;
  /** The parent record's field holding the URL the child reads (instead of its `path`); see `each`. */
  readonly follow?: string;
}

export interface EachOptions<TRecord> {
  /**
   * Read the child from a URL the parent record carries (e.g. Testpress `attempts_url`) instead of
   * the child's `path`. The URL is used as sent (not encoded into a placeholder), on the configured
   * base URL's scheme and port; one on another host is refused, so credentials stay on the API's
   * host. The URL never enters the state: bookmarks stay keyed by the context.
   */
  follow?: keyof TRecord & string;
}

export interface StreamDeclaration<TSchema extends z.ZodObject, TConfig> {
  /** snake_case; becomes the table name. */
  name: string;
  description?: string;
  /** Path relative to the API's base URL; `{placeholder}`s are filled from the context. Optional when the parent link follows a URL. */
  path?: string;
  method?: 'GET' | 'POST';
  /**
   * Run once per parent record: `parent: exams.each(exam => ({ exam_id: exam.id }))`, or, reading
   * a URL the parent hands over: `exams.each(exam => ({ exam_id: exam.id }), { follow: 'attempts_url' })`.
   */
  parent?: ParentLink;
  /** Run once per context taken from config (e.g. configured exam ids), like a parent would. */
  partitions?: (config: TConfig) => readonly Context[];
  /** The primary key: top-level fields of the record. */
  key: readonly (keyof z.output<TSchema> & string)[];
  /** The record's zod schema: validates each record, and becomes the stream's JSON Schema. */
  record: TSchema;
  incremental?: IncrementalSettings<z.output<TSchema>, TConfig>;
  /** Full-table streams only: send ACTIVATE_VERSION so the target can drop rows that disappeared. */
  activateVersion?: boolean;
  query?: Record<string, QueryValue> | ((ctx: StreamContext<TConfig>) => Record<string, QueryValue>);
  /** Where records sit in the body; defaults to the API's. */
  records?: RecordSelector;
  /** How this stream pages (from @tapline/http), or null for a single request; defaults to the API's. */
  pagination?: Pagination | null;
  /** Emit a STATE at least every N records within a page (sorted streams); a STATE follows every page anyway. */
  checkpointEvery?: number;
  /**
   * Escape hatch 1: reshape one raw record before validation; return null to skip it. Throwing a
   * TapError stops the run; any other error sets that record aside (see `_sdc_rejected_records`).
   */
  // biome-ignore lint/suspicious/noExplicitAny: streams of any schema and config sit in one list; each is checked where it is declared
  transform?: (raw: any, ctx: StreamContext<TConfig>) => unknown;
  /**
   * Raw vendor fields `transform` reads into declared fields of other names (e.g. `correct_answers_count`
   * into `correct_count`). Every other field of the raw record the schema does not declare is kept
   * in `_sdc_extra`; these are not, so a renamed field is not landed twice.
   */
  consumes?: readonly string[];
  /**
   * Chosen per partition or config: where this partition's requests go instead of `path` (e.g. a
   * configured group's own path, another API version); undefined keeps `path`.
   */
  endpoint?: (ctx: StreamContext<TConfig>) => StreamEndpoint | undefined;
  /**
   * This stream's response classifier for a partition (consulted before the API's): e.g. a 404 that
   * means "this exam was deleted" skips that exam. Chosen per partition or config; undefined for none.
   */
  classify?: (ctx: StreamContext<TConfig>) => Classifier | undefined;
  /**
   * Raw vendor fields whose value changes on every answer while the record does not (a signed
   * link that expires, a session token): left out of a set-aside record's `reject_id`, so the same
   * bad record read again (within a look-back) lands in `_sdc_rejected_records` once.
   */
  volatileFields?: readonly string[];
  /** Escape hatch 2: shape one request (every page) after the kit built it. */
  request?: (request: HttpRequest, ctx: StreamContext<TConfig>) => HttpRequest;
  /** Escape hatch 3: fetch pages yourself; each yielded array is a page (a STATE follows it). */
  fetch?: (ctx: StreamContext<TConfig>) => AsyncIterable<readonly unknown[]>;
}

/** A declared stream, as the runner reads it. */
// biome-ignore lint/suspicious/noExplicitAny: streams of any schema and config sit in one list; each is checked where it is declared
export interface StreamDefinition<TSchema extends z.ZodObject = z.ZodObject, TConfig = any>
  extends Readonly<StreamDeclaration<TSchema, TConfig>> {
  readonly api: ApiProfile<TConfig>;
  /** Link a child to this stream: the function maps one record to the child's context(s). */
  each(
    contexts: (record: z.output<TSchema>) => Context | readonly Context[] | null | undefined,
    options?: EachOptions<z.output<TSchema>>,
  ): ParentLink;
}

/** HTTP client options a connector sets; the kit supplies the base URL and logger. */
export type ApiHttpOptions = Omit<HttpClientOptions, 'baseUrl' | 'logger'>;

export interface ApiDeclaration<TConfig> {
  /** The config schema; declared here so `baseUrl` and hooks are typed. */
  config: z.ZodType<TConfig>;
  baseUrl: (config: TConfig) => string;
  /**
   * The rest of the HTTP client's options from the parsed config: auth, classify, budget,
   * onRateLimit, retry, userAgent... The kit adds the base URL, the logger, METRIC lines, lossless
   * JSON parsing and the config's secret values, builds one client per run and closes it after.
   */
  http?: (config: TConfig) => ApiHttpOptions;
  /**
   * The API's success answer (`successShape(describe, test)` from @tapline/http). A 2xx body is a
   * page only when it is recognised; anything else (a vendor error on HTTP 200, null, a string, an
   * unknown shape) is classified and never read as an empty page. An endpoint that answers otherwise
   * sets its own on the request (`request` hook: `{ ...request, success }`).
   */
  success?: SuccessShape;
  /** Default record selector for the API's streams. */
  records?: RecordSelector;
  /** Default pagination for the API's streams (none: one request per partition). */
  pagination?: Pagination;
  /** Shapes every request of every stream (after the stream's own `request`). */
  request?: (request: HttpRequest, ctx: StreamContext<TConfig>) => HttpRequest;
  /** The cheap request `--test` makes to check credentials: a path, or a function using ctx.http. */
  test?: { path: string; query?: Record<string, QueryValue> } | ((ctx: StreamContext<TConfig>) => Promise<void>);
}

export interface ApiProfile<TConfig> extends Readonly<ApiDeclaration<TConfig>> {
  stream<TSchema extends z.ZodObject>(declaration: StreamDeclaration<TSchema, TConfig>): StreamDefinition<TSchema, TConfig>;
}

const SNAKE_CASE = /^[a-z][a-z0-9_]*$/;

/** Declares a provider's API profile; its `stream` method declares the streams. */
export function defineApi<TConfig>(declaration: ApiDeclaration<TConfig>): ApiProfile<TConfig> {
  const api: ApiProfile<TConfig> = {
    ...declaration,
    stream(streamDeclaration) {
      validateDeclaration(streamDeclaration);
      // biome-ignore lint/suspicious/noExplicitAny: streams of any schema and config sit in one list; each is checked where it is declared
      const definition: StreamDefinition<any, TConfig> = {
        ...streamDeclaration,
        api,
        each: (contexts, options) => ({
          stream: definition,
          contexts,
          ...(options?.follow !== undefined ? { follow: options.follow } : {}),
        }),
      };
      return definition;
    },
  };
  return api;
}

// biome-ignore lint/suspicious/noExplicitAny: streams of any schema and config sit in one list; each is checked where it is declared
function validateDeclaration(declaration: StreamDeclaration<z.ZodObject, any>): void {
  const where = `stream "${declaration.name}"`;
  if (!SNAKE_CASE.test(declaration.name)) throw new Error(`${where}: names are snake_case (they become table names).`);
  if (!declaration.fetch && declaration.path === undefined && declaration.parent?.follow === undefined) {
    throw new Error(`${where}: declare a path, a parent link that follows a URL, or a fetch.`);
  }
  const follow = declaration.parent?.follow;
  if (declaration.fetch && (declaration.endpoint || declaration.classify)) {
    throw new Error(`${where}: a fetch makes its own requests; declare endpoint and classify on those, not on the stream.`);
  }
  if (follow !== undefined && declaration.fetch) throw new Error(`${where}: declare a fetch or follow a URL from the parent, not both.`);
  if (follow !== undefined && !Object.hasOwn(declaration.parent!.stream.record.shape, follow)) {
    throw new Error(`${where}: follows "${follow}", which is not in the record schema of "${declaration.parent!.stream.name}".`);
  }
  if (declaration.parent && declaration.partitions) throw new Error(`${where}: declare a parent or partitions, not both.`);
  const shape = declaration.record.shape as Record<string, unknown>;
  if (Object.hasOwn(shape, '_sdc_extra'))
    throw new Error(`${where}: "_sdc_extra" is the kit's column for undeclared vendor fields; declare the field itself instead.`);
  for (const field of declaration.consumes ?? []) {
    if (Object.hasOwn(shape, field))
      throw new Error(`${where}: consumes "${field}", which the record schema declares; a declared field is kept, never consumed.`);
  }
  for (const field of declaration.key) {
    if (!Object.hasOwn(shape, field)) throw new Error(`${where}: key field "${field}" is not in the record schema.`);
  }
  const incremental = declaration.incremental;
  if (incremental) {
    if (!Object.hasOwn(shape, incremental.cursor)) throw new Error(`${where}: cursor "${incremental.cursor}" is not in the record schema.`);
    if (typeof incremental.lookback === 'string') assertDuration(incremental.lookback, `${where} lookback`);
    if (incremental.maxLookback) assertDuration(incremental.maxLookback, `${where} maxLookback`);
    if (incremental.maxLookbackMargin) assertDuration(incremental.maxLookbackMargin, `${where} maxLookbackMargin`);
    if (declaration.activateVersion) throw new Error(`${where}: ACTIVATE_VERSION is for full-table streams only.`);
  }
}

/** A stream's look-back for this config: its declared duration, or the one its function reads from the config (checked). */
export function lookbackOf<TConfig>(
  incremental: Pick<IncrementalSettings<never, TConfig>, 'lookback'>,
  config: TConfig,
  stream: string,
): Duration | undefined {
  const lookback = typeof incremental.lookback === 'function' ? incremental.lookback(config) : incremental.lookback;
  if (lookback !== undefined) assertDuration(lookback, `stream "${stream}" lookback`);
  return lookback;
}

/** A subcommand a tap adds to its CLI, e.g. `tap-classmarker access-codes add --list 1 --file codes.txt`. */
export interface SubcommandContext<TConfig> {
  /** Words after the subcommand name that are not flags. */
  args: readonly string[];
  /** `--flag value` pairs (flags without a value are 'true'). */
  flags: Readonly<Record<string, string>>;
  config: TConfig;
  http: HttpClient;
  log: Logger;
  /** Where Singer messages go, when the subcommand writes any (replay-rejects does). */
  stdout: NodeJS.WritableStream;
}

export interface Subcommand<TConfig> {
  description: string;
  /** One line of usage shown by --help, e.g. 'add|remove --list ID --file codes.txt'. */
  usage?: string;
  /** Whether --config is needed (default true). */
  needsConfig?: boolean;
  run(ctx: SubcommandContext<TConfig>): Promise<void>;
}

export interface TapDeclaration<TConfig> {
  /** The executable name, e.g. 'tap-classmarker'; also gives the TAP_<NAME>_<KEY> env prefix. */
  name: string;
  description: string;
  version: string;
  /** The config schema; defaults to the API's. */
  config?: z.ZodType<TConfig>;
  api: ApiProfile<TConfig>;
  // biome-ignore lint/suspicious/noExplicitAny: streams of any schema and config sit in one list; each is checked where it is declared
  streams: readonly StreamDefinition<any, TConfig>[];
  subcommands?: Record<string, Subcommand<TConfig>>;
}

// biome-ignore lint/suspicious/noExplicitAny: streams of any schema and config sit in one list; each is checked where it is declared
export interface TapDefinition<TConfig = any> extends Readonly<TapDeclaration<TConfig>> {
  readonly config: z.ZodType<TConfig>;
}

/** Declares the tap: its identity, config, API and streams. Checks the stream graph at load time. */
export function defineTap<TConfig>(declaration: TapDeclaration<TConfig>): TapDefinition<TConfig> {
  const names = new Set<string>();
  for (const stream of declaration.streams) {
    if (names.has(stream.name)) throw new Error(`tap ${declaration.name}: two streams are named "${stream.name}".`);
    names.add(stream.name);
  }
  for (const stream of declaration.streams) {
    const parent = stream.parent?.stream;
    if (parent && !declaration.streams.includes(parent)) {
      throw new Error(`tap ${declaration.name}: stream "${stream.name}" has parent "${parent.name}", which is not in streams.`);
    }
  }
  const definition: TapDefinition<TConfig> = {
    ...declaration,
    config: declaration.config ?? declaration.api.config,
    // Every tap can read its set-aside records again (see replay.ts); a tap's own command of that name wins.
    subcommands: { 'replay-rejects': replayRejectsCommand(() => definition), ...ownSubcommands(declaration.subcommands) },
  };
  return definition;
}

/** The tap's own subcommands: a built-in one carried over by spreading another tap is rebuilt for this one. */
function ownSubcommands<TConfig>(subcommands: Record<string, Subcommand<TConfig>> | undefined): Record<string, Subcommand<TConfig>> {
  return Object.fromEntries(Object.entries(subcommands ?? {}).filter(([, sub]) => !isBuiltInSubcommand(sub)));
}
