// The message loop: SCHEMA -> table, RECORD -> batches, STATE -> commit then echo, ACTIVATE_VERSION -> delete old versions.
import { availableParallelism } from 'node:os';
import {
  type ActivateVersionMessage,
  containsNonFinite,
  createLogger,
  inputParseOptions,
  isBlank,
  isPlainObject,
  isStackExhausted,
  lineRanges,
  nestingDepth,
  type ParseMessageOptions,
  parseJson,
  parseMessage,
  type RecordMessage,
  type RecordValidator,
  type SchemaMessage,
  SingerInputError,
  type SingerMessage,
  setOwn,
  stringifyJson,
  UncompilableSchema,
} from '@tapline/singer';
import { CommitPolicy } from './commit-policy.js';
import { type BaseTargetConfig, flatteningLevel, recordsMetadata } from './config.js';
import type { Dialect, DialectSession, Logger, TableRef } from './dialect.js';
import { hasNoEscapes, hasUnpairedSurrogate } from './encode.js';
import { EncodedRows } from './encoded-rows.js';
import { ConfigError, Interrupted, LoadError, TransientError } from './errors.js';
import { knobsFromEnvironment, type TargetKnobs } from './knobs.js';
import { META, METADATA_COLUMNS } from './metadata.js';
import { normaliseName } from './names.js';
import { type EncodedBlock, EncodePool, type InlineBlock } from './parallel/encode-pool.js';
import type { BlockClock } from './parallel/protocol.js';
import { LineScanner } from './plain/scanner.js';
import { layoutForSchema, recordValidatorFor, type SchemaLayout, type SinkSettings, StreamSink, type TableChange } from './sink.js';
import { TableManager } from './table-manager.js';
import { WorkQueue } from './work-queue.js';

export type { Logger };

/** The shared logger (@tapline/singer's) on stderr: `INFO ...`, `WARN ...`, at TAPLINE_LOG_LEVEL or info. */
export const stderrLogger: Logger = createLogger();

/** A record nesting deeper than the code storing it can recurse: bad input, named by its deepest property. */
function nestedTooDeeply(message: RecordMessage, line: number): SingerInputError {
  let field = '';
  let depth = 0;
  for (const [property, value] of Object.entries(message.record)) {
    const levels = nestingDepth(value);
    if (levels > depth) [field, depth] = [property, levels];
  }
  return new SingerInputError(
    { line, stream: message.stream, field },
    `field "${field}": the value is nested ${depth} levels deep (arrays and objects), too deep to store`,
  );
}

/** A record that was not stored (a column had to be widened or added first), to store again afterwards. */
interface RecordToRetry {
  readonly message: RecordMessage;
  readonly line: number;
  readonly receivedAt: string;
  readonly sequence: number;
  readonly escapeFree: boolean;
}

export interface RunTargetOptions<C extends BaseTargetConfig> {
  readonly dialect: Dialect<C>;
  readonly config: C;
  /** Singer messages (e.g. process.stdin or a file stream). */
  readonly input: AsyncIterable<Uint8Array | string>;
  /** Where state values go, one JSON line each (default process.stdout). */
  readonly output?: { write(text: string): unknown };
  readonly log?: Logger;
  /** Test and diagnosis settings (knobs.ts); default: as the environment sets them. */
  readonly knobs?: TargetKnobs;
}

export interface RunSummary {
  /** RECORD messages read, per stream. */
  readonly records: Record<string, number>;
  /** State values written to the output (and to state_table). */
  readonly statesEmitted: number;
}

/**
 * The bounds of a STATE value (README, "State and commits"). A state is a bookmark, not data:
 * these are far beyond any tap's, and keep a runaway one from failing every later run in the
 * database (DuckDB ran out of memory storing 20 MB at its default limit) or the stack (JSON 100,000
 * levels deep). Within them every state is stored and echoed.
 */
export const MAX_STATE_DEPTH = 100;
export const MAX_STATE_BYTES = 32 * 2 ** 20;

/**
 * Input read on the main thread before encode workers start, so that a small load never pays
 * for starting them (`TargetKnobs.workersAfterBytes` overrides it).
 */
const WORKERS_AFTER_BYTES = 8 << 20;
/** Input per block handed to a worker (`TargetKnobs.workerBlockBytes` overrides it). */
const WORKER_BLOCK_BYTES = 1 << 20;

/**
 * Encode workers when the config does not say: the cores left beside the main thread and the
 * database's own work, at most 4. On 2 cores that is none: measured there, a worker made
 * target-postgres ~7% faster and target-duckdb slower, at ~100-150 MB more memory.
 */
export function defaultWorkerThreads(): number {
  return Math.min(4, Math.max(0, availableParallelism() - 2));
}

/** JSON text with every object's keys sorted: two values are the same JSON exactly when these agree (PostgreSQL's jsonb reorders keys). */
function canonicalJson(value: unknown): string {
  const sorted = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sorted);
    if (!isPlainObject(item)) return item;
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(item).sort()) setOwn(copy, key, sorted(item[key]));
    return copy;
  };
  return stringifyJson(sorted(value));
}

/** Load Singer messages into a destination. Resolves at clean end of input; rejects with the first error. */
export async function runTarget<C extends BaseTargetConfig>(options: RunTargetOptions<C>): Promise<RunSummary> {
  const session = await options.dialect.connect(options.config, options.log ?? stderrLogger);
  try {
    // Inside the try: a setting the loader refuses (flattening_enabled without a depth) still closes the session.
    const loader = new Loader(options, session);
    await loader.run();
    return loader.summary();
  } finally {
    await session.close();
  }
}

/** The state table a config names, or undefined. `name` lands in the target schema; `schema.name` is explicit. */
export function stateTableRef(config: BaseTargetConfig, dialect: Dialect<unknown>): TableRef | undefined {
  if (config.state_table === undefined) return undefined;
  const max = dialect.capabilities.maxIdentifierBytes;
  const dot = config.state_table.indexOf('.');
  if (dot > 0) {
    return {
      schema: normaliseName(config.state_table.slice(0, dot), max),
      table: normaliseName(config.state_table.slice(dot + 1), max),
    };
  }
  const schema = config.default_target_schema ?? dialect.capabilities.defaultSchema;
  return { schema: normaliseName(schema, max), table: normaliseName(config.state_table, max) };
}

/**
 * The state stored by an earlier run under `state_table`/`state_id`, or undefined. The runner
 * passes this to the tap as `--state` to resume exactly where the warehouse is.
 */
export async function readStoredState<C extends BaseTargetConfig>(dialect: Dialect<C>, config: C): Promise<unknown> {
  const table = stateTableRef(config, dialect as Dialect<unknown>);
  if (table === undefined) throw new LoadError('readStoredState needs state_table in the config');
  const session = await dialect.connect(config);
  try {
    return await session.readState(table, config.state_id);
  } finally {
    await session.close();
  }
}

class Loader<C extends BaseTargetConfig> {
  private readonly config: C;
  private readonly dialect: Dialect<C>;
  private readonly log: Logger;
  private readonly output: { write(text: string): unknown };
  private readonly input: AsyncIterable<Uint8Array | string>;
  private readonly settings: SinkSettings;
  private readonly queue = new WorkQueue();
  private readonly sinks = new Map<string, StreamSink>();
  private readonly tables: TableManager;
  private readonly stateTable: TableRef | undefined;

  private inTransaction = false;
  /** When a STATE commits, and the STATE waiting for a commit. */
  private readonly commits: CommitPolicy;
  private statesEmitted = 0;
  private readonly pool: EncodePool;
  private readonly parseOptions: ParseMessageOptions;
  /** Warnings already logged, without their line numbers (each encode worker gives its own). */
  private readonly warned = new Set<string>();
  /** Reads RECORD lines as bytes, for plain records (plain/). */
  private readonly scanner = new LineScanner();

  constructor(
    options: RunTargetOptions<C>,
    private readonly session: DialectSession,
  ) {
    this.config = options.config;
    this.dialect = options.dialect;
    this.log = options.log ?? stderrLogger;
    this.output = options.output ?? process.stdout;
    this.input = options.input;
    const knobs = options.knobs ?? knobsFromEnvironment();
    const caps = this.dialect.capabilities;
    this.settings = {
      maxIdentifierBytes: caps.maxIdentifierBytes,
      textAcceptsNul: caps.textAcceptsNul,
      sanitizeNul: this.config.sanitize_null_characters,
      replaceUnpairedSurrogates: this.config.replace_unpaired_surrogates,
      validate: this.config.validate_records,
      metadataColumns: recordsMetadata(this.config)
        ? METADATA_COLUMNS
        : this.config.hard_delete
          ? METADATA_COLUMNS.filter((column) => column.name === META.deletedAt)
          : [],
      appendOnly: this.config.load_method === 'append-only',
      loadUndeclared: this.config.load_undeclared_properties,
      interpretContentEncoding: this.config.interpret_content_encoding,
      flattenMaxLevel: flatteningLevel(this.config),
      checkPlainRows: knobs.checkPlainRows ?? false,
      // Once per text, line aside: the encode workers' sinks warn too (`warnOnce`), a warning each.
      warn: (message) => this.warnOnce(message),
      rowEncoder: (columns, withBatchedAt) => session.rowEncoder(columns, withBatchedAt),
    };
    this.commits = new CommitPolicy(this.config.batch_size_rows, this.dialect.capabilities.commits);
    this.tables = new TableManager(session, this.dialect as Dialect<unknown>, this.config, this.settings, this.commits, this.log);
    this.stateTable = stateTableRef(this.config, this.dialect as Dialect<unknown>);
    this.parseOptions = inputParseOptions({ onWarning: ({ message }) => this.log.warn(message) });
    const { rowEncoderModule } = this.dialect;
    const { warn: _warn, rowEncoder: _rowEncoder, ...workerSettings } = this.settings;
    this.pool = new EncodePool({
      workers: rowEncoderModule === undefined ? 0 : (this.config.worker_threads ?? defaultWorkerThreads()),
      startAfterBytes: knobs.workersAfterBytes ?? WORKERS_AFTER_BYTES,
      blockBytes: Math.max(1, knobs.workerBlockBytes ?? WORKER_BLOCK_BYTES),
      setup: { rowEncoderModule: rowEncoderModule ?? '', settings: workerSettings },
    });
  }

  summary(): RunSummary {
    const records: Record<string, number> = {};
    for (const [stream, sink] of this.sinks) if (sink.recordsAccepted > 0) records[stream] = sink.recordsAccepted;
    return { records, statesEmitted: this.statesEmitted };
  }

  async run(): Promise<void> {
    try {
      if (this.stateTable) {
        const table = this.stateTable;
        await this.session.lockState?.(table, this.config.state_id);
        if (this.config.expected_state !== undefined) await this.checkStoredState(table, this.config.expected_state);
        await this.ensureTransaction();
        await this.tables.ensureStateTable(table);
      }
      for await (const item of this.pool.blocks(this.input)) {
        if (item.kind === 'inline') await this.onInlineBlock(item);
        else await this.onEncodedBlock(item);
      }
      if (this.config.commit_uncovered_rows) await this.checkpoint();
      else await this.commitUpToLastState();
      await this.queue.drain();
    } catch (error) {
      await this.afterFailure(error);
      throw error;
    } finally {
      await this.pool.close();
    }
  }

  /**
   * `expected_state`: the state the runner read (and gave the tap) must still be the stored one now
   * that this run holds the pipeline. Else another run committed since, and loading what the tap
   * reads from the older state would load rows twice: stop before loading anything.
   */
  private async checkStoredState(table: TableRef, expected: string | null): Promise<void> {
    let wanted: unknown;
    try {
      wanted = expected === null ? undefined : parseJson(expected);
    } catch (error) {
      throw new ConfigError(`config key "expected_state" is not JSON text: ${(error as Error).message}`);
    }
    const stored = await this.session.readState(table, this.config.state_id);
    const same = wanted === undefined || stored === undefined ? wanted === stored : canonicalJson(wanted) === canonicalJson(stored);
    if (!same) {
      throw new TransientError(
        `state_table ${table.schema}.${table.table}: another run of this pipeline (state_id ${JSON.stringify(this.config.state_id)}) committed since this run read its state; nothing was loaded; run again`,
      );
    }
  }

  /**
   * A block handled here, line by line in order: a plain record becomes its row straight from
   * its bytes, any other line is parsed and handled as its message; a line that does not parse
   * fails after the ones before it.
   */
  private async onInlineBlock({ block, clock }: InlineBlock): Promise<void> {
    const bytes = block.bytes;
    const ranges = lineRanges(block);
    const scanner = this.scanner;
    for (let i = 0; i < ranges.length; i += 3) {
      const start = ranges[i]!;
      const end = ranges[i + 1]!;
      const line = ranges[i + 2]!;
      const sequence = clock.baseSequence + (line - block.firstLine);
      if (this.sinks.size > 0 && scanner.readRecordHead(bytes, start, end)) {
        const sink = this.sinks.get(scanner.streamName());
        if (sink?.addPlainRecord(scanner, line, clock.receivedAt, sequence)) {
          const pending = this.accepted(sink, 1);
          if (pending) await pending;
          continue;
        }
      }
      const text = bytes.toString('utf8', start, end);
      if (isBlank(text)) continue;
      const message = parseMessage(text, line, this.parseOptions);
      if (message === null) continue;
      const pending = this.onMessage(message, line, clock, block.firstLine, hasNoEscapes(text));
      if (pending) await pending;
    }
  }

  /** Records a sink took: counted, and its batch handed to the database once full. */
  private accepted(sink: StreamSink, count: number): Promise<void> | undefined {
    sink.countAccepted(count);
    this.commits.recordsReceived(count);
    return sink.rowCount >= this.config.batch_size_rows ? this.flush(sink) : undefined;
  }

  /**
   * A block a worker encoded: runs of encoded rows join their sinks as bytes; every other line,
   * and rows encoded under a layout that has changed since, are handled here as inline lines are.
   */
  private async onEncodedBlock({ block, clock, result }: EncodedBlock): Promise<void> {
    for (const message of result.warnings) this.warnOnce(message);
    const parts = new Map(
      Object.entries(result.parts).map(([stream, part]) => [stream, { part, rows: EncodedRows.fromParts(part.rows), next: 0 }]),
    );
    const onLine = async (start: number, end: number, line: number) => {
      const text = block.bytes.toString('utf8', start, end);
      const message = parseMessage(text, line, this.parseOptions);
      if (message !== null) await this.onMessage(message, line, clock, block.firstLine, hasNoEscapes(text));
    };
    let range = 0; // index of the next encoded row in result.ranges
    // The parts are not released afterwards: the sinks hold views of their memory (appendRows).
    for (const event of result.events) {
      if (event.kind === 'line') {
        await onLine(event.start, event.end, event.line);
        continue;
      }
      const taken = parts.get(event.stream)!;
      const first = taken.next;
      taken.next += event.count;
      const sink = this.sinks.get(event.stream);
      if (sink !== undefined && sink.version === event.version) {
        sink.addEncoded(taken.rows, first, event.count, taken.part);
        const pending = this.accepted(sink, event.count);
        if (pending) await pending;
      } else {
        for (let i = 0; i < event.count; i++) {
          await onLine(result.ranges[2 * (range + i)]!, result.ranges[2 * (range + i) + 1]!, taken.rows.lines[first + i]!);
        }
      }
      range += event.count;
    }
  }

  /** Handle one message; a record is stored synchronously (no promise) unless a batch is handed off. */
  private onMessage(
    message: SingerMessage,
    line: number,
    clock: BlockClock,
    firstLine: number,
    escapeFree: boolean,
  ): Promise<void> | undefined {
    switch (message.type) {
      case 'RECORD':
        return this.onRecord(message, line, clock.receivedAt, clock.baseSequence + (line - firstLine), escapeFree);
      case 'SCHEMA':
        return this.onSchema(message, line);
      case 'STATE':
        return this.onState(message.value, line);
      case 'ACTIVATE_VERSION':
        return this.onActivateVersion(message, line);
    }
  }

  private warnOnce(message: string): void {
    const key = message.replace(/^line \d+ /, '');
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(message);
  }

  private onRecord(
    message: RecordMessage,
    line: number,
    receivedAt: string,
    sequence: number,
    escapeFree: boolean,
  ): Promise<void> | undefined {
    const sink = this.sinks.get(message.stream);
    if (sink === undefined) {
      throw new SingerInputError({ line, stream: message.stream }, 'RECORD arrives before any SCHEMA for this stream');
    }
    let change: TableChange | undefined;
    try {
      change = sink.addRecord(message, line, receivedAt, sequence, escapeFree);
    } catch (error) {
      if (isStackExhausted(error)) throw nestedTooDeeply(message, line);
      throw error;
    }
    if (change !== undefined) return this.changeTableThenStore(sink, change, { message, line, receivedAt, sequence, escapeFree });
    return this.accepted(sink, 1);
  }

  /** A record needs its table changed first (a wider column, columns for undeclared properties): change it, then store the record. */
  private async changeTableThenStore(sink: StreamSink, change: TableChange, retry: RecordToRetry): Promise<void> {
    await this.quiesce(sink);
    await this.tables.applyChange(sink, change, retry.line);
    this.pool.publish(sink.snapshot());
    await this.onRecord(retry.message, retry.line, retry.receivedAt, retry.sequence, retry.escapeFree);
  }

  /** Before a table changes: the sink's rows written, nothing in flight, a transaction open. */
  private async quiesce(sink: StreamSink | undefined): Promise<void> {
    if (sink !== undefined) await this.flush(sink);
    await this.queue.drain();
    await this.ensureTransaction();
  }

  private async onSchema(message: SchemaMessage, line: number): Promise<void> {
    const keyProperties = message.key_properties ?? [];
    let sink = this.sinks.get(message.stream);
    let signature: string;
    let layout: SchemaLayout;
    let validator: RecordValidator | null;
    // Everything that reads the schema through, before the database is touched.
    try {
      signature = stringifyJson([message.schema, keyProperties]);
      if (sink !== undefined && sink.schemaSignature === signature) return; // identical repeat: free and silent
      layout = layoutForSchema(message.stream, message.schema, keyProperties, line, this.settings);
      if (layout.columns.length === 0) {
        // A table of no columns: DuckDB cannot make one, PostgreSQL makes one no COPY can fill.
        throw new SingerInputError(
          { line, stream: message.stream },
          'the schema declares no properties and add_record_metadata is off, so the stream has no column to store anything in: declare its properties, or set add_record_metadata: true',
        );
      }
      validator = recordValidatorFor(message.schema, this.settings);
    } catch (error) {
      if (error instanceof UncompilableSchema) {
        const what = error.property === undefined ? 'the schema' : `the schema of property ${JSON.stringify(error.property)}`;
        throw new SingerInputError(
          { line, stream: message.stream, field: error.property },
          `${what} cannot be compiled to validate records (${error.reason}); validate_records: false loads the stream without validation, with columns typed from the schema as far as it can be read`,
        );
      }
      if (!isStackExhausted(error)) throw error;
      throw new SingerInputError(
        { line, stream: message.stream },
        `the schema is nested ${nestingDepth(message.schema)} JSON levels deep, too deep to compile`,
      );
    }
    await this.quiesce(sink);
    const prepared = await this.tables.prepare(message.stream, layout, line, sink?.table);
    if (sink === undefined) {
      sink = new StreamSink(message.stream, prepared.table, layout, this.settings, prepared.created);
      this.sinks.set(message.stream, sink);
    }
    sink.applySchema({
      layout,
      columns: prepared.columns,
      keyIsPrimaryKey: prepared.keyIsPrimaryKey,
      schema: message.schema,
      validator,
      signature,
    });
    this.pool.publish(sink.snapshot());
  }

  private async onState(value: unknown, line: number): Promise<void> {
    const depth = nestingDepth(value);
    if (depth > MAX_STATE_DEPTH) {
      throw new SingerInputError(
        { line },
        `the STATE value is nested ${depth} levels deep (arrays and objects); a state may nest at most ${MAX_STATE_DEPTH} levels, so it is refused and the state before it stands`,
      );
    }
    const text = stringifyJson(value);
    if (text.length > MAX_STATE_BYTES / 3 && Buffer.byteLength(text) > MAX_STATE_BYTES) {
      throw new SingerInputError(
        { line },
        `the STATE value is ${(Buffer.byteLength(text) / 2 ** 20).toFixed(1)} MiB of JSON; a state may be at most ${MAX_STATE_BYTES / 2 ** 20} MiB, so it is refused and the state before it stands`,
      );
    }
    if (text.includes('null') && containsNonFinite(value)) {
      throw new SingerInputError(
        { line },
        'the STATE value holds NaN or Infinity, which JSON cannot hold: it would be stored and echoed as null',
      );
    }
    // Without a state table the value is echoed as the same JSON text, escape and all.
    if (this.stateTable && hasUnpairedSurrogate(text, 'json')) {
      throw new SingerInputError(
        { line },
        'the STATE value holds an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff escape), which the state_table cannot store as JSON',
      );
    }
    for (const sink of this.sinks.values()) sink.markState();
    if (this.commits.stateArrived(text, () => this.heldBytes())) await this.checkpoint();
  }

  private async onActivateVersion(message: ActivateVersionMessage, line: number): Promise<void> {
    if (!(this.config.activate_version ?? this.config.process_activate_version_messages)) return;
    const sink = this.sinks.get(message.stream);
    if (sink === undefined) {
      this.log.warn(`line ${line} (stream ${JSON.stringify(message.stream)}): ACTIVATE_VERSION before any SCHEMA; ignored`);
      return;
    }
    const names = new Set(sink.columns.map((column) => column.name));
    if (!names.has(META.tableVersion) || !names.has(META.deletedAt)) {
      this.log.warn(
        `line ${line} (stream ${JSON.stringify(message.stream)}): ACTIVATE_VERSION needs the _sdc_table_version and _sdc_deleted_at columns (add_record_metadata); ignored`,
      );
      return;
    }
    await this.flush(sink);
    this.commits.taint();
    const version = BigInt(message.version);
    const hard = this.config.hard_delete;
    await this.queue.submit(async () => {
      await this.ensureTransaction();
      await this.session.activateVersion(sink.table, version, hard);
    });
  }

  /** The bytes of the rows the sinks hold, not yet handed to the database. */
  private heldBytes(): number {
    let bytes = 0;
    for (const sink of this.sinks.values()) bytes += sink.rows.bytes;
    return bytes;
  }

  /** Hand the sink's rows to the database (overlapping with parsing). */
  private async flush(sink: StreamSink): Promise<void> {
    if (sink.rowCount === 0) return;
    const afterPendingState = sink.hasRowsAfterMark;
    const rowCount = sink.rowCount;
    const deleteMarked = this.config.hard_delete && sink.hasDeleteMarkers;
    const batch = sink.takeBatch(new Date().toISOString());
    if (batch === null) return;
    this.commits.rowsWrittenTo(`${batch.table.schema}.${batch.table.table}`, rowCount, afterPendingState);
    await this.queue.submit(async () => {
      await this.ensureTransaction();
      await this.session.writeBatch(batch);
      batch.rows.release();
      if (deleteMarked) await this.session.deleteMarkedRows(batch.table);
    });
  }

  /** Flush everything, store the pending state with it, commit, then echo the state. */
  private async checkpoint(): Promise<void> {
    for (const sink of this.sinks.values()) await this.flush(sink);
    const state = this.commits.committing();
    // Chained, not awaited: the next batch is parsed while this one is written and committed.
    this.queue.enqueue(async () => {
      if (state !== undefined && this.stateTable) {
        await this.ensureTransaction();
        const table = this.stateTable;
        await this.tables.refusable('state_table', `store the state in ${table.schema}.${table.table}`, () =>
          this.session.writeState(table, this.config.state_id, state),
        );
      }
      if (this.inTransaction) {
        await this.session.commit();
        this.inTransaction = false;
      }
      if (state !== undefined) {
        this.output.write(`${state}\n`);
        this.statesEmitted += 1;
      }
    });
  }

  /**
   * End of input with `commit_uncovered_rows: false`: commit exactly what the last STATE covers and
   * discard the rows after it. When some of those rows already reached the database (a full batch
   * after the STATE), the whole transaction is rolled back: the last committed state still matches
   * the tables, and the next run re-reads from it.
   */
  private async commitUpToLastState(): Promise<void> {
    const uncovered = this.commits.rowsAfterPendingState;
    const rowsSinceCommit = this.commits.rowsSinceCommit;
    if (this.commits.pendingStateIsClean) {
      for (const sink of this.sinks.values()) sink.dropRowsAfterMark();
      await this.checkpoint();
      if (uncovered > 0) {
        this.log.info(`end of input: ${uncovered} rows after the last STATE discarded (commit_uncovered_rows is false)`);
      }
      return;
    }
    await this.queue.drain();
    if (this.inTransaction) {
      this.inTransaction = false;
      await this.session.rollback();
    }
    if (rowsSinceCommit > 0 || this.commits.pendingState !== undefined) {
      this.log.info(
        `end of input: ${rowsSinceCommit} rows since the last commit rolled back, ${uncovered} of them after the last STATE` +
          ' (commit_uncovered_rows is false; the next run re-reads them from the last committed state)',
      );
    }
  }

  /**
   * After an error: when the input broke (not the database) and the last STATE's rows are all
   * still intact, commit exactly up to that STATE and echo it; otherwise roll back everything
   * not covered by an already-emitted state.
   */
  private async afterFailure(error: unknown): Promise<void> {
    await this.queue.settle();
    // Bad input, or a stop signal: what the last STATE covers is as good as after a clean end.
    const salvageable =
      (error instanceof SingerInputError || error instanceof Interrupted) && !this.queue.failed && this.commits.pendingStateIsClean;
    if (salvageable) {
      try {
        for (const sink of this.sinks.values()) sink.dropRowsAfterMark();
        await this.checkpoint();
        await this.queue.drain();
        this.log.info('committed everything up to the last STATE before the error');
        return;
      } catch {
        // fall through to the rollback
      }
    }
    if (this.inTransaction) {
      this.inTransaction = false;
      await this.session.rollback().catch(() => {});
    }
  }

  private async ensureTransaction(): Promise<void> {
    if (this.inTransaction) return;
    await this.session.begin();
    this.inTransaction = true;
  }
}
