// The dialect interface: everything that differs between destinations (PostgreSQL, DuckDB, ...).
//
// target-kit owns the message loop, validation, naming, the column plan, batching, in-batch
// dedupe, metadata columns and state; a dialect only talks to its database. Differences are
// data (`capabilities`, `sqlType`), never `if (dialect === ...)` in the kit.
//
// Calling discipline (the kit guarantees it, so a dialect need not defend against it):
// - one session per run, used by one caller at a time (never two calls in flight);
// - every write happens inside a unit of work opened by `begin()` and closed by `commit()` (or
//   `rollback()` on failure); the kit commits only at STATE boundaries and at end of input, so
//   uncommitted writes may stay open for a long time and must not be visible to other readers;
// - names in a `TableRef` and `ColumnDef` are final (already normalised and length-checked by the
//   kit): quote them verbatim, never re-case or rewrite them.

import type { CommitCadence } from './commit-policy.js';
import type { EncodedRows } from './encoded-rows.js';

/** The rows of a batch as encoded bytes (encoded-rows.ts). */
export type { EncodedRows };

/** Where the target's log lines go (stderr in the CLI). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/** The logical type of a column: the names of `logicalTypeOf(...).kind` in @tapline/singer, and `bytes`. */
export type ColumnKind =
  | 'boolean'
  | 'integer' // 64-bit signed; the kit widens the column to 'decimal' when a value needs more
  | 'decimal' // exact, arbitrary precision (PostgreSQL numeric, DuckDB DECIMAL/HUGEINT-or-VARCHAR: dialect's choice, exact)
  | 'number' // double precision
  | 'date'
  | 'time'
  | 'timestamp' // with time zone; values without a zone mean UTC
  | 'string'
  | 'json' // objects, arrays, untyped and multi-type values
  | 'bytes'; // binary: strings marked `contentEncoding: base16`, with interpret_content_encoding

/** A table in the destination. Both parts are final names (see the calling discipline). */
export interface TableRef {
  readonly schema: string;
  readonly table: string;
}

/** A column the kit wants to exist. */
export interface ColumnDef {
  readonly name: string;
  readonly kind: ColumnKind;
}

/** A column as found in the database. */
export interface ExistingColumn {
  readonly name: string;
  /**
   * The logical kind this SQL type corresponds to, or null when the type is one the dialect does
   * not map (e.g. a hand-made `bytea` or `smallint[]` column). The kit never alters a column whose
   * kind is null; it sends values as they are and lets the database accept or reject them.
   */
  readonly kind: ColumnKind | null;
  /** The SQL type as the database names it, for messages. */
  readonly sqlType: string;
  /** The column's comment as `setColumnComment` wrote it (markers of the dialect's own left out), or null. */
  readonly comment?: string | null;
}

/** A table as found in the database. */
export interface ExistingTable {
  readonly columns: readonly ExistingColumn[];
  /** Primary-key column names in key order; empty when the table has none. */
  readonly primaryKey: readonly string[];
  /** The table's comment (it records the stream that owns the table: table-owner.ts), or null. */
  readonly comment: string | null;
}

/**
 * One cell, as the kit hands it to a dialect. By column kind:
 * - boolean: `boolean`;
 * - integer: `number` (a safe integer) or `bigint`;
 * - decimal: `string` holding the exact decimal text (e.g. "99999999999999999", "1.10");
 * - number: `number`;
 * - date, time, timestamp: `string` as the tap sent it (RFC 3339 or the database's own literal
 *   forms; a timestamp without zone means UTC, so the session must run in UTC);
 * - string: `string` (may contain NUL only when `capabilities.textAcceptsNul`);
 * - json: `string` holding compact JSON text (big numbers exact);
 * - bytes: `string` of lower-case hex digits, two a byte (no `0x`; empty for no bytes);
 * - `null` for SQL NULL in any column.
 * With `validate_records: false` a cell may hold a value of another type (e.g. the string
 * "abc" in an integer column): pass it through as text and let the database reject it.
 */
export type CellValue = null | boolean | number | bigint | string;

/** How a batch is written. */
export type WriteMode =
  /** Insert every row. */
  | 'append'
  /**
   * Insert rows whose key is absent, replace every column of rows whose key is present. Rows in
   * the batch are already unique by key (the kit deduplicated them, last record wins).
   */
  | 'upsert';

/**
 * Encodes rows into the destination's bulk format (PostgreSQL COPY text, a CSV spool, ...) as
 * records arrive, so a batch waits as bytes rather than as arrays of JS values (which the GC
 * would copy and trace until the batch is written).
 */
export interface RowEncoder {
  /**
   * One row's text in the bulk format, with its line terminator. `cells` follow the batch's
   * `columns`, except `_sdc_batched_at`: when the batch has that column it is the last one and
   * is left out of `cells` (its value is known only when the batch is written: `batchedAt`).
   * `escapeFree` promises that no string cell holds a backslash, a control character or NUL
   * (the record's line had no backslash: `hasNoEscapes`), so escaping can be skipped.
   */
  encode(cells: readonly CellValue[], escapeFree?: boolean): string;
  /**
   * What this encoder learned from the rows it encoded (e.g. the widest decimal per column), as
   * plain data. Rows encoded on a worker thread bring it along, and the batch's encoder takes it
   * in with `absorb`, so the batch knows what it would have learned encoding them itself.
   * `absorb` may be given the same findings more than once (it must only ever widen).
   */
  learned?(): unknown;
  absorb?(learned: unknown): void;
  /**
   * How this encoder writes the fields of a row, as data, so that the kit can write the row of a
   * plain record straight from its line's bytes (plain/plain-records.ts). Without it every record
   * is parsed and its cells encoded.
   */
  readonly plain?: PlainRowFormat;
}

/**
 * How a dialect's bulk format writes the fields of a plain row, as data. A text copied from the
 * line is free of control characters, backslashes and `quote` (a string with an escape is
 * written through `textField`, and JSON strings hold no raw control character), so such a field
 * needs no escaping.
 */
export interface PlainRowFormat {
  /** The byte between fields. */
  readonly delimiter: number;
  /** A NULL field. */
  readonly nullField: Buffer;
  /** The byte around text fields (strings, dates and times, JSON text), or -1 for none. */
  readonly quote: number;
  readonly trueField: Buffer;
  readonly falseField: Buffer;
  /** What follows the last field (a newline; before it, a reserved field the dialect fills in later). */
  readonly rowEnd: Buffer;
  /** Told the value of every integer cell written (an encoder that measures its integer columns). */
  integerCell?(cell: number, value: number): void;
  /** The field of a text cell holding any text, escaped and quoted as the encoder writes it. */
  textField(text: string): string;
}

/** A batch of rows for one table, already encoded by the session's `rowEncoder`. */
export interface RowBatch<E extends RowEncoder = RowEncoder> {
  /** The Singer stream the rows came from, for error messages. */
  readonly stream: string;
  readonly table: TableRef;
  /**
   * The columns each row holds, in encoding order: the table's columns the kit knows about, with
   * `_sdc_batched_at` (when present) moved last.
   */
  readonly columns: readonly ColumnDef[];
  /** The rows, encoded, each with its input line number (`rows.lines`, for error messages). */
  readonly rows: EncodedRows;
  /**
   * The value of `_sdc_batched_at` for every row when the last of `columns` is that column (the
   * encoder never saw it: the dialect adds it while writing); null when the batch has no such column.
   */
  readonly batchedAt: string | null;
  /** The encoder that encoded the rows (a dialect may keep what it learned while encoding, e.g. the widest decimal). */
  readonly encoder: E;
  readonly mode: WriteMode;
  /** Key column names for 'upsert' (composite keys keep their order); empty for 'append'. */
  readonly key: readonly string[];
  /**
   * True when `key` is exactly the table's primary key (so `INSERT ... ON CONFLICT` works);
   * false for a table made elsewhere without that constraint: update matching rows, insert the rest.
   */
  readonly keyIsPrimaryKey: boolean;
  /**
   * True when the kit created this table in the current run and this is its first batch:
   * the table is empty, so an upsert may be loaded as a plain append (rows are unique already).
   */
  readonly tableIsNew: boolean;
}

/** What a dialect can and cannot do, as data the kit reads. */
export interface DialectCapabilities {
  /**
   * Longest identifier in UTF-8 bytes (PostgreSQL: 63). The kit shortens longer names
   * deterministically (prefix + hash) so that two names never collapse into one.
   */
  readonly maxIdentifierBytes: number;
  /** Whether text and JSON columns can hold U+0000 (PostgreSQL: no; DuckDB: yes). */
  readonly textAcceptsNul: boolean;
  /** The default schema when the config names none (PostgreSQL `public`, DuckDB `main`). */
  readonly defaultSchema: string;
  /**
   * Whether `alterColumnType` is supported; when false the kit refuses a widening type change
   * with a clear error instead of altering.
   */
  readonly canWidenColumns: boolean;
  /** How commits are paced where the defaults do not suit the database (commit-policy.ts). */
  readonly commits?: CommitCadence;
}

/**
 * An open connection to the destination. `E` is the session's own row encoder type, handed back
 * in each batch it wrote.
 */
export interface DialectSession<E extends RowEncoder = RowEncoder> {
  /** Open the unit of work (a transaction). */
  begin(): Promise<void>;
  /** Make everything written since `begin()` durable and visible, atomically. */
  commit(): Promise<void>;
  /** Discard everything written since `begin()`. Must not throw when no transaction is open. */
  rollback(): Promise<void>;
  /** Release the connection (after commit or rollback). */
  close(): Promise<void>;

  /** CREATE SCHEMA IF NOT EXISTS. */
  ensureSchema(schema: string): Promise<void>;
  /** The table's columns and primary key, or null when it does not exist. */
  describeTable(table: TableRef): Promise<ExistingTable | null>;
  /** Create the table; `primaryKey` non-empty means a PRIMARY KEY (or unique) constraint on those columns. */
  createTable(table: TableRef, columns: readonly ColumnDef[], primaryKey: readonly string[]): Promise<void>;
  /** Set the table's comment (COMMENT ON TABLE), in the unit of work. */
  setTableComment(table: TableRef, comment: string): Promise<void>;
  /**
   * Set a column's comment (COMMENT ON COLUMN: the data dictionary, from the SCHEMA's property
   * descriptions), in the unit of work. A dialect that keeps markers of its own in column
   * comments keeps them, and reads the comment back without them (`ExistingColumn.comment`).
   */
  setColumnComment(table: TableRef, column: string, comment: string): Promise<void>;
  /** Drop the table if it exists (load_method `overwrite`, within the unit of work). */
  dropTable(table: TableRef): Promise<void>;
  /** Add a nullable column. */
  addColumn(table: TableRef, column: ColumnDef): Promise<void>;
  /** Change a column's type to a wider kind (integer -> decimal, anything -> string/json, ...). Values must survive exactly. */
  alterColumnType(table: TableRef, column: ColumnDef, from: ColumnKind): Promise<void>;

  /**
   * A fresh encoder for one batch with these `columns` (encoding order, as `RowBatch.columns`;
   * `withBatchedAt`: the last column is `_sdc_batched_at`, left out of the cells). Called
   * synchronously while records arrive, possibly while a write is in flight: it must not use
   * the connection. Bad values are refused by the kit before they reach the encoder (NUL where
   * `textAcceptsNul` is false); the encoder only escapes.
   */
  rowEncoder(columns: readonly ColumnDef[], withBatchedAt: boolean): E;
  /**
   * Write one batch (bulk: COPY / appender / spooled file into staging, then one set-based
   * statement). For 'upsert' on a table without a primary key (made by hand), update rows whose
   * key matches and insert the others. Errors from bad values should name the input line
   * (`batch.rows.lines`) and the column when the database says which.
   */
  writeBatch(batch: RowBatch<E>): Promise<void>;
  /**
   * ACTIVATE_VERSION: rows whose `_sdc_table_version` is below `version` or NULL are deleted
   * (`hard`) or get `_sdc_deleted_at = now` when it is still NULL (already-deleted rows keep
   * their timestamp). The kit calls this only when the table exists and has those columns.
   */
  activateVersion(table: TableRef, version: bigint, hard: boolean): Promise<void>;
  /** Delete rows whose `_sdc_deleted_at` is not NULL (hard_delete after a merge). */
  deleteMarkedRows(table: TableRef): Promise<void>;

  /** Create the state table if missing: (id text primary key, value json, updated_at timestamptz). */
  ensureStateTable(table: TableRef): Promise<void>;
  /** Upsert one state value (compact JSON text) under `id`, in the current unit of work. */
  writeState(table: TableRef, id: string, valueJson: string): Promise<void>;
  /** The stored state value (parsed JSON), or undefined when the table or the row is missing. */
  readState(table: TableRef, id: string): Promise<unknown>;
  /**
   * Optional: hold a lock on `id` of the state table for as long as the session lives, so that two
   * runs of one pipeline (an overlapping schedule) never load at once. Resolves once held; throws
   * a LoadError naming the holder when another session has it. The kit calls it first thing when
   * `state_table` is set. (A destination one process writes at a time, like a DuckDB file, needs none.)
   */
  lockState?(table: TableRef, id: string): Promise<void>;
}

/**
 * A destination: its capabilities and how to connect. `C` is the dialect's own parsed config
 * (the kit's base config extended with connection settings).
 */
export interface Dialect<C> {
  /** The database's name as messages say it ("PostgreSQL", "DuckDB"). */
  readonly name: string;
  readonly capabilities: DialectCapabilities;
  /**
   * Open a session. Connection errors should be plain sentences (they are printed as CRITICAL).
   * `log` receives what the session has to say beside errors (waiting for a lock, a published
   * snapshot); default: stderr.
   */
  connect(config: C, log?: Logger): Promise<DialectSession>;
  /**
   * URL of a module that exports `rowEncoder(columns, withBatchedAt)`, making the encoders the
   * sessions make, and that a worker thread can load (no connection, no native addon). With it,
   * large inputs are parsed, validated and encoded on worker threads (README, "Parallel
   * encoding"); without it every record is handled on the main thread.
   */
  readonly rowEncoderModule?: string;
  /**
   * Whether an error is the database refusing a statement (too many columns, no permission, a
   * full disk) rather than a bug in the target: the kit then reports it as a LoadError naming the
   * stream and line. Without it, errors from table changes are reported as bugs.
   */
  isRefusal?(error: unknown): boolean;
}

/** What a `Dialect.rowEncoderModule` exports. */
export type RowEncoderFactory = (columns: readonly ColumnDef[], withBatchedAt: boolean) => RowEncoder;
