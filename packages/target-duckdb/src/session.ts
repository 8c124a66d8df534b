// A DuckDB session: DDL, bulk load through a spooled CSV file, one set-based INSERT or MERGE per batch.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { parseJson } from '@tapline/singer';
import {
  type AccountBinding,
  batchLines,
  type ColumnDef,
  type ColumnKind,
  type CommitCadence,
  type ExistingColumn,
  type ExistingTable,
  isDiskFull,
  keyMatchesSeveralRows,
  LoadError,
  type Logger,
  META,
  ResourceError,
  type RowBatch,
  stderrLogger,
  type TableRef,
  type WarehouseSession,
} from '@tapline/target-kit';
import { type DecimalShape, decimalSqlType, mergeShapes, typeHolds } from './decimal.js';
import { openDuckDBInstance } from './open.js';
import * as ownTables from './own-tables.js';
import { SnapshotPublisher } from './snapshot.js';
import { type CsvRowEncoder, columnList, csvFields, type IntegerRange, readCsvSql, rowEncoder, spoolRows } from './spool.js';
import { ident, literal, tableName } from './sql.js';
import { columnComment, descriptionPart, hasDecimalMarker, kindOfColumn, SQL_TYPE } from './types.js';

export interface DuckDBSessionOptions {
  /** Receives one line per statement with its duration (default: stderr when TAPLINE_DUCKDB_TRACE is set). */
  readonly trace?: (line: string) => void;
  /** DuckDB's own worker threads (default: DuckDB's, one per core). */
  readonly threads?: number;
  /** Seconds to wait for another process's lock on the file (open.ts; default 300). */
  readonly lockTimeoutSeconds?: number;
  /** While waiting for the lock, let other waiting processes go first (open.ts, `giveWay`). */
  readonly giveWay?: boolean;
  /** Where the session says it waited for a lock or published a snapshot (default: stderr). */
  readonly log?: Logger;
  /** Publish a read-only copy of the database here after the session committed (snapshot.ts); null or absent: none. */
  readonly snapshotPath?: string | null;
}

/**
 * The memory_limit (MB) a load into tables of `columns` columns needs when the config does not
 * set one. DuckDB's buffer pool fills up to its limit with the table's blocks and keeps them, so
 * a fixed 256MB made the target's RSS grow with the table (251 MB at 100k bench records, 345 MB
 * at 1M, 457 MB at 3M); at 64MB it stays ~300-335 MB from 1M to 3M, at the same speed. But each
 * column of a batch being loaded holds its own buffers (the 831-column peer stream needs
 * ~150-190MB for one row), so the limit grows with the widest table, with the longest line of a
 * batch, and with the number of tables written since the last checkpoint.
 */
export function memoryLimitMbFor(columns: number, longestLineBytes = 0, tablesWritten = 0): number {
  // A spooled line is read whole into a buffer twice its size (readCsvSql), and its values are
  // copied out again: a batch holding a 60MB line needs some 240MB more (below 1MB this adds nothing).
  const lines = Math.floor((4 * longestLineBytes) / 2 ** 20);
  // New rows stay in memory, at least a block per table, until a checkpoint writes them out: a
  // 400-table sync ran out at 64MB (~0.2MB a table measured). Half a MB a table, in steps of 32
  // tables (so the limit is not set again for every table; the base holds the first few hundred).
  const tables = Math.floor(tablesWritten / 32) * 16;
  return 64 + Math.ceil(columns / 4) + lines + tables;
}

/**
 * Open the database file, waiting for another process's lock (open.ts); a file that cannot be
 * opened gets a sentence, not a stack. Without `memoryLimit`, the limit follows the widest table
 * the session loads (`memoryLimitMbFor`).
 */
export async function openDuckDBSession(
  path: string,
  memoryLimit: string | undefined,
  options: DuckDBSessionOptions = {},
): Promise<DuckDBSession> {
  // A file in a folder that is not there yet (`warehouse/exams.duckdb` on a fresh checkout) gets
  // its folder, as the file itself is created. Not for `:memory:` or a URL (`md:`, `s3://`). A
  // leading `~` is the home folder, as DuckDB reads it (not a folder named `~`).
  try {
    if (!/^:memory:|^[a-z][a-z0-9+.-]+:/i.test(path)) makeFolder(dirname(path.replace(/^~(?=\/|$)/, homedir())));
  } catch (error) {
    throw new LoadError(`cannot open the DuckDB file ${path}: ${firstLine(error instanceof Error ? error.message : String(error))}`);
  }
  const instance = await openDuckDBInstance(path, {
    settings: {
      memory_limit: memoryLimit ?? `${memoryLimitMbFor(0)}MB`,
      ...(options.threads === undefined ? {} : { threads: String(options.threads) }),
    },
    ...(options.lockTimeoutSeconds === undefined ? {} : { lockTimeoutSeconds: options.lockTimeoutSeconds }),
    giveWay: options.giveWay === true,
    log: options.log ?? stderrLogger,
  });
  const connection = await instance.connect();
  // Timestamps without a zone mean UTC (the kit's cell contract), whatever the machine's zone.
  await connection.run(`SET TimeZone = 'UTC'`);
  // DuckDB's allocator otherwise keeps up to 128MB of freed memory per thread cached; returning it
  // early (background threads do the work) kept the target's peak RSS ~60-100MB lower on the bench.
  await connection.run(`SET allocator_flush_threshold = '8MB'`);
  await connection.run(`SET allocator_background_threads = true`);
  const trace = options.trace ?? (process.env.TAPLINE_DUCKDB_TRACE ? (line: string) => process.stderr.write(line) : undefined);
  const guarded = diskFullAsSentence(connection, path);
  const session = new DuckDBSession(instance, trace ? traced(guarded, trace) : guarded);
  if (options.snapshotPath) session.publishTo(new SnapshotPublisher(path, options.snapshotPath, options.log ?? stderrLogger));
  session.memoryLimitMb = memoryLimit === undefined ? memoryLimitMbFor(0) : null;
  session.databaseName = (await connection.runAndReadAll('SELECT current_database()')).getRowsJS()[0]![0] as string;
  return session;
}

/**
 * `mkdir -p`, one level at a time from the nearest folder that exists. Node 20's recursive
 * mkdirSync spins forever where a level cannot be made (`/proc/nope`: ENOENT for a parent that
 * exists); here that level's error is thrown instead.
 */
function makeFolder(folder: string): void {
  const missing: string[] = [];
  for (let at = folder; !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** A batch's spooled file, the type each of its columns is read as, and its longest line in bytes. */
interface Spool {
  readonly file: string;
  readonly typed: readonly { name: string; sqlType: string }[];
  readonly longestLine: number;
}

export class DuckDBSession implements WarehouseSession<CsvRowEncoder> {
  private readonly spoolDir = mkdtempSync(join(tmpdir(), 'tapline-duckdb-'));
  private spoolCount = 0;
  /** SQL type of each column of each table this session has seen or made (decimal columns change type with their values). */
  private readonly sqlTypes = new Map<string, Map<string, string>>();
  /** Decimal columns already reported as falling back to text, so the warning is logged once. */
  private readonly warnedText = new Set<string>();
  /**
   * Tables whose existing rows were updated or deleted in the open transaction. DuckDB (1.5)
   * refuses to commit an ALTER TABLE that follows such a change in the same transaction
   * ("another transaction has altered this table"), so these are rebuilt before an ALTER.
   */
  private readonly rowsChanged = new Set<string>();
  /**
   * Per table with a single integer key: a bound no key in the table exceeds (null: no rows), read
   * once with max() and raised by each batch loaded. An upsert batch whose least key is above it
   * cannot match a row, so it is inserted rather than merged. Sound because only this session
   * writes the file (DuckDB's lock) and deletes only lower the true maximum; anything else that
   * could add keys unseen (a rollback, a type change, a batch without a known key range) forgets it.
   */
  private readonly keyCeilings = new Map<string, { column: string; ceiling: bigint | null }>();

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /**
   * The database's catalog name (DuckDB names it after the file: `analytics` for analytics.duckdb).
   * Every name the session writes carries it, since a schema named like the catalog makes a
   * two-part name ambiguous.
   */
  databaseName = 'memory';

  /** A table's full name in SQL: catalog, schema and table, each quoted. */
  private sql(table: TableRef): string {
    return `${ident(this.databaseName)}.${tableName(table)}`;
  }

  /** The memory_limit this session set and may raise (MB), or null when the config set it. */
  memoryLimitMb: number | null = null;

  /** Every table as the session first read the catalog (`readCatalog`), or null before. */
  private catalog: Map<string, ExistingTable> | null = null;
  /** Tables this session changed since it read the catalog: described afresh. */
  private readonly changedTables = new Set<string>();

  /** Tables written since the last checkpoint: their new rows are held in memory until one (`CHECKPOINT_AFTER_TABLES`). */
  private readonly tablesWritten = new Set<string>();

  /**
   * Raise the memory_limit (when it is ours) so that a table of `columns` columns, and lines of
   * `longestLineBytes`, can be loaded in this transaction.
   */
  private async fitMemory(columns: number, longestLineBytes = 0): Promise<void> {
    if (this.memoryLimitMb === null) return;
    const wanted = memoryLimitMbFor(columns, longestLineBytes, this.tablesWritten.size);
    if (wanted <= this.memoryLimitMb) return;
    await this.connection.run(`SET memory_limit = '${wanted}MB'`);
    this.memoryLimitMb = wanted;
  }

  /**
   * Columns (`"schema"."table"."column"`, ASCII case folded) holding exact decimals as text, whose
   * comment carries the decimal marker after the description: known from the catalog as read and
   * from `markDecimalText`, so writing a description needs no catalog query (one scans every table).
   */
  private readonly decimalText = new Set<string>();

  private columnKey(table: TableRef, column: string): string {
    return `${tableName({ schema: foldCase(table.schema), table: foldCase(table.table) })}.${ident(foldCase(column))}`;
  }

  /** Publishes the snapshot after commits (snapshot.ts), when the config asks for one. */
  private snapshot: SnapshotPublisher | null = null;

  publishTo(snapshot: SnapshotPublisher): void {
    this.snapshot = snapshot;
  }

  async begin(): Promise<void> {
    await this.connection.run('BEGIN TRANSACTION');
    this.rowsChanged.clear();
  }

  async commit(): Promise<void> {
    await this.connection.run('COMMIT');
    this.rowsChanged.clear();
    await this.snapshot?.committed(this.connection);
    // DuckDB checkpoints by itself only once its WAL passes 16MB, so a sync of many small tables
    // kept every table's rows in memory until it ran out (at ~800 tables with 155MB).
    if (this.tablesWritten.size >= CHECKPOINT_AFTER_TABLES) {
      await this.connection.run('CHECKPOINT');
      this.tablesWritten.clear();
    }
  }

  async rollback(): Promise<void> {
    this.rowsChanged.clear();
    this.snapshot?.failed();
    // A rolled-back DROP/CREATE brings back a table whose keys the bounds never saw.
    this.keyCeilings.clear();
    await this.connection.run('ROLLBACK').catch(() => {});
    // Tables changed inside the transaction are back to what they were: read them again.
    this.sqlTypes.clear();
    this.decimalText.clear();
    this.catalog = null;
    this.changedTables.clear();
  }

  async close(): Promise<void> {
    try {
      await this.snapshot?.closing(this.connection);
    } finally {
      this.closeNow();
    }
  }

  private closeNow(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    rmSync(this.spoolDir, { recursive: true, force: true });
  }

  /** The schema the target loads into (`default_target_schema`, else main), for the runner. */
  schema = 'main';

  /** For the runner: SQL outside the load (each statement commits by itself), rows as JSON values. */
  async query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql, params as never);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  }

  tableExists(table: TableRef): Promise<boolean> {
    return ownTables.tableExists(this.connection, table);
  }

  /**
   * The catalog only where a two-part name would be ambiguous (a schema named like the file): a
   * view whose body names the catalog stops working in a copy of the file under another name (a
   * notebook's snapshot, an ATTACH ... AS).
   */
  qualify(...names: string[]): string {
    const withCatalog = foldCase(names[0] ?? '') === foldCase(this.databaseName);
    return (withCatalog ? [this.databaseName, ...names] : names).map(ident).join('.');
  }

  async publishSnapshot(): Promise<void> {
    await this.snapshot?.publishNow(this.connection);
  }

  /** The account bindings; the state table is a load's to make, in the transaction of its first rows. */
  async prepareOwnTables(state: TableRef): Promise<void> {
    await this.ensureSchema(state.schema);
    await ownTables.createAccountsTable(this.connection, (...names) => this.qualify(...names), state);
  }

  /** A DuckDB file has one writer: holding it open is the pipeline's lock. */
  clearState(state: TableRef, id: string): Promise<boolean> {
    return ownTables.deleteState(this.connection, (...names) => this.qualify(...names), state, id);
  }

  readAccountBinding(state: TableRef, id: string): Promise<AccountBinding | undefined> {
    return ownTables.readAccountBinding(this.connection, (...names) => this.qualify(...names), state, id);
  }

  writeAccountBinding(state: TableRef, id: string, binding: AccountBinding): Promise<void> {
    return ownTables.writeAccountBinding(this.connection, (...names) => this.qualify(...names), state, id, binding);
  }

  async ensureSchema(schema: string): Promise<void> {
    await this.connection.run(`CREATE SCHEMA IF NOT EXISTS ${ident(this.databaseName)}.${ident(schema)}`);
  }

  async describeTable(table: TableRef): Promise<ExistingTable | null> {
    const name = tableName(table);
    let found: ExistingTable | null;
    if (this.changedTables.has(name)) {
      found = await this.readTable(table);
    } else {
      this.catalog ??= await this.readCatalog();
      found = this.catalog.get(name) ?? null;
    }
    if (found === null) return null;
    this.sqlTypes.set(name, new Map(found.columns.map((column) => [column.name, column.sqlType])));
    await this.fitMemory(found.columns.length);
    return found;
  }

  /**
   * Every table of the database as described when first asked. DuckDB's catalog functions scan
   * every table whatever the filter (~12ms a query at 1,000 tables, three queries a table), so
   * one read serves all the streams of a run: an hourly sync of 1,000 tables spent ~25 s here.
   */
  private async readCatalog(): Promise<Map<string, ExistingTable>> {
    const where = 'WHERE database_name = current_database()';
    const columns = await this.connection.runAndReadAll(
      `SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns() ${where} ORDER BY schema_name, table_name, column_index`,
    );
    const keys = await this.connection.runAndReadAll(
      `SELECT schema_name, table_name, constraint_column_names FROM duckdb_constraints() ${where} AND constraint_type = 'PRIMARY KEY'`,
    );
    const tables = await this.connection.runAndReadAll(`SELECT schema_name, table_name, comment FROM duckdb_tables() ${where}`);
    const keyOf = (schema: string, table: string) => tableName({ schema: foldCase(schema), table: foldCase(table) });
    const primaryKeys = new Map(
      (keys.getRowsJS() as [string, string, string[]][]).map(([schema, table, key]) => [keyOf(schema, table), key.map(foldCase)]),
    );
    const comments = new Map(
      (tables.getRowsJS() as [string, string, string | null][]).map(([schema, table, comment]) => [keyOf(schema, table), comment]),
    );
    const catalog = new Map<string, { columns: ExistingColumn[]; primaryKey: readonly string[]; comment: string | null }>();
    for (const [schema, table, name, sqlType, comment] of columns.getRowsJS() as [string, string, string, string, string | null][]) {
      const key = keyOf(schema, table);
      let entry = catalog.get(key);
      if (entry === undefined) {
        entry = { columns: [], primaryKey: primaryKeys.get(key) ?? [], comment: comments.get(key) ?? null };
        catalog.set(key, entry);
      }
      entry.columns.push({ name: foldCase(name), sqlType, kind: kindOfColumn(sqlType, comment), comment: descriptionPart(comment) });
      if (hasDecimalMarker(comment)) this.decimalText.add(this.columnKey({ schema, table }, name));
    }
    return catalog;
  }

  /** One table as it is now (a table this session changed: the catalog read earlier is stale for it). */
  private async readTable(table: TableRef): Promise<ExistingTable | null> {
    const columns = await this.connection.runAndReadAll(
      `SELECT column_name, data_type, comment FROM duckdb_columns()
       WHERE database_name = current_database() AND ${SAME_TABLE} ORDER BY column_index`,
      [table.schema, table.table],
    );
    const rows = columns.getRowsJS() as [string, string, string | null][];
    if (rows.length === 0) return null;
    for (const [name, , comment] of rows) {
      if (hasDecimalMarker(comment)) this.decimalText.add(this.columnKey(table, name));
      else this.decimalText.delete(this.columnKey(table, name));
    }
    const constraints = await this.connection.runAndReadAll(
      `SELECT constraint_column_names FROM duckdb_constraints()
       WHERE database_name = current_database() AND ${SAME_TABLE} AND constraint_type = 'PRIMARY KEY'`,
      [table.schema, table.table],
    );
    const primaryKey = ((constraints.getRowsJS()[0]?.[0] as string[] | undefined) ?? []).map(foldCase);
    return {
      columns: rows.map(([name, sqlType, comment]) => ({
        name: foldCase(name),
        sqlType,
        kind: kindOfColumn(sqlType, comment),
        comment: descriptionPart(comment),
      })),
      primaryKey,
      comment: await this.tableComment(table),
    };
  }

  private async tableComment(table: TableRef): Promise<string | null> {
    const result = await this.connection.runAndReadAll(
      `SELECT comment FROM duckdb_tables() WHERE database_name = current_database() AND ${SAME_TABLE}`,
      [table.schema, table.table],
    );
    return (result.getRowsJS()[0]?.[0] as string | null | undefined) ?? null;
  }

  /** The session is about to change this table: its description in the catalog read earlier no longer holds. */
  private changing(table: TableRef): void {
    this.changedTables.add(tableName(table));
  }

  async setTableComment(table: TableRef, comment: string): Promise<void> {
    this.changing(table);
    await this.connection.run(`COMMENT ON TABLE ${this.sql(table)} IS ${literal(comment)}`);
  }

  /** The description, kept beside the decimal marker the column may carry (types.ts). */
  async setColumnComment(table: TableRef, column: string, comment: string): Promise<void> {
    this.changing(table);
    await this.writeColumnComment(table, column, columnComment(comment, this.decimalText.has(this.columnKey(table, column))));
  }

  /** A column's whole comment (description and marker), or null. */
  private async columnCommentOf(table: TableRef, column: string): Promise<string | null> {
    const result = await this.connection.runAndReadAll(
      `SELECT comment FROM duckdb_columns() WHERE database_name = current_database() AND ${SAME_TABLE} AND lower(column_name) = lower($3)`,
      [table.schema, table.table, column],
    );
    return (result.getRowsJS()[0]?.[0] as string | null | undefined) ?? null;
  }

  private async writeColumnComment(table: TableRef, column: string, comment: string | null): Promise<void> {
    await this.connection.run(`COMMENT ON COLUMN ${this.sql(table)}.${ident(column)} IS ${comment === null ? 'NULL' : literal(comment)}`);
  }

  /** Mark or unmark a column as exact decimals held as text, keeping its description. */
  private async markDecimalText(table: TableRef, column: string, marked: boolean): Promise<void> {
    const description = descriptionPart(await this.columnCommentOf(table, column));
    await this.writeColumnComment(table, column, columnComment(description, marked));
    if (marked) this.decimalText.add(this.columnKey(table, column));
    else this.decimalText.delete(this.columnKey(table, column));
  }

  /**
   * No physical PRIMARY KEY: DuckDB cannot ALTER a column that an index covers, and the merge
   * enforces uniqueness by key anyway (README, "Keys").
   */
  async createTable(table: TableRef, columns: readonly ColumnDef[], _primaryKey: readonly string[]): Promise<void> {
    const defs = columns.map((column) => `${ident(column.name)} ${SQL_TYPE[column.kind]}`);
    this.changing(table);
    await this.connection.run(`CREATE TABLE ${this.sql(table)} (${defs.join(', ')})`);
    this.keyCeilings.delete(tableName(table));
    this.sqlTypes.set(tableName(table), new Map(columns.map((column) => [column.name, SQL_TYPE[column.kind]])));
  }

  async dropTable(table: TableRef): Promise<void> {
    this.changing(table);
    await this.connection.run(`DROP TABLE IF EXISTS ${this.sql(table)}`);
    this.sqlTypes.delete(tableName(table));
    const prefix = `${tableName({ schema: foldCase(table.schema), table: foldCase(table.table) })}.`;
    for (const key of this.decimalText) if (key.startsWith(prefix)) this.decimalText.delete(key);
    this.keyCeilings.delete(tableName(table));
  }

  async addColumn(table: TableRef, column: ColumnDef): Promise<void> {
    this.changing(table);
    await this.beforeAlter(table);
    await this.connection.run(`ALTER TABLE ${this.sql(table)} ADD COLUMN ${ident(column.name)} ${SQL_TYPE[column.kind]}`);
    (await this.typesOf(table)).set(column.name, SQL_TYPE[column.kind]);
  }

  async alterColumnType(table: TableRef, column: ColumnDef, from: ColumnKind): Promise<void> {
    const name = ident(column.name);
    this.changing(table);
    this.keyCeilings.delete(tableName(table));
    try {
      if (column.kind === 'decimal') {
        // Sized from the values already there (an integer or double column turning exact).
        await this.resizeDecimal(table, column.name, await this.shapeOf(table, column.name));
        return;
      }
      // A plain cast would parse text as JSON; to_json keeps every old value as a JSON value instead.
      // A BLOB becomes its bytes' hex, as the tap sent them (a plain cast writes `\xA1` escapes).
      // JSON becoming text keeps a JSON string's own text, without its quotes (as PostgreSQL's
      // `#>> '{}'`); objects, arrays, numbers and booleans keep their JSON text.
      const using =
        column.kind === 'json' && from !== 'json'
          ? ` USING to_json(${name})`
          : from === 'bytes'
            ? ` USING lower(hex(${name}))`
            : from === 'json' && column.kind === 'string'
              ? ` USING CASE WHEN json_type(${name}) = 'VARCHAR' THEN ${name} ->> '$' ELSE CAST(${name} AS VARCHAR) END`
              : '';
      await this.beforeAlter(table);
      await this.connection.run(`ALTER TABLE ${this.sql(table)} ALTER COLUMN ${name} TYPE ${SQL_TYPE[column.kind]}${using}`);
      // A text column that held exact decimals now holds any text: drop the marker.
      if (from === 'decimal') await this.markDecimalText(table, column.name, false);
      (await this.typesOf(table)).set(column.name, SQL_TYPE[column.kind]);
    } catch (error) {
      if (error instanceof LoadError) throw error;
      throw new LoadError(
        `cannot widen column ${column.name} of ${table.schema}.${table.table} from ${from} to ${column.kind}: ${duckdbMessage(error)}`,
      );
    }
  }

  /**
   * Before an ALTER TABLE: when this transaction already updated or deleted rows of the table,
   * rebuild it as a copy made in this transaction (which DuckDB lets us alter), keeping column
   * order, types and comments (the table's too); all of it commits or rolls back with the rows. A table with
   * constraints (made by hand) is not rebuilt: that would drop them, so the load stops and says so.
   */
  private async beforeAlter(table: TableRef): Promise<void> {
    const key = tableName(table);
    const name = this.sql(table);
    if (!this.rowsChanged.has(key)) return;
    await this.fitMemory((await this.typesOf(table)).size); // the rebuild copies every column
    const constraints = await this.connection.runAndReadAll(
      `SELECT count(*) FROM duckdb_constraints() WHERE database_name = current_database() AND ${SAME_TABLE}`,
      [table.schema, table.table],
    );
    if (Number(constraints.getRowsJS()[0]?.[0] ?? 0) > 0) {
      throw new LoadError(
        `cannot change table ${table.schema}.${table.table} after updating its rows in the same transaction: DuckDB refuses that commit, and the table has constraints a rebuild would drop; load the schema change in a run of its own`,
      );
    }
    const comments = await this.connection.runAndReadAll(
      `SELECT column_name, comment FROM duckdb_columns()
       WHERE database_name = current_database() AND ${SAME_TABLE} AND comment IS NOT NULL`,
      [table.schema, table.table],
    );
    const tableComment = await this.tableComment(table);
    const copy = `${table.table}__tapline_rebuild`;
    await this.connection.run(`CREATE TABLE ${this.sql({ schema: table.schema, table: copy })} AS SELECT * FROM ${name}`);
    await this.connection.run(`DROP TABLE ${name}`);
    await this.connection.run(`ALTER TABLE ${this.sql({ schema: table.schema, table: copy })} RENAME TO ${ident(table.table)}`);
    for (const [column, comment] of comments.getRowsJS() as [string, string][]) {
      await this.connection.run(`COMMENT ON COLUMN ${name}.${ident(column)} IS ${literal(comment)}`);
    }
    // The table's comment names the stream that owns it (target-kit table-owner.ts).
    if (tableComment !== null) await this.setTableComment(table, tableComment);
    this.rowsChanged.delete(key);
  }

  /** Column name -> SQL type of a table, read from the catalog once per session. */
  private async typesOf(table: TableRef): Promise<Map<string, string>> {
    const known = this.sqlTypes.get(tableName(table));
    if (known) return known;
    await this.describeTable(table);
    return this.sqlTypes.get(tableName(table)) ?? new Map<string, string>();
  }

  /**
   * The shape of the values a column holds now, read through their text (exact for every numeric
   * type). A DOUBLE prints small and large values with an exponent (`1e-05`, `1.5e+21`): such
   * text is measured as the digits it stands for (integer digits: significant digits + exponent -
   * fraction digits; scale: fraction digits - exponent), and the text casts to DECIMAL exactly.
   * NaN and infinities (`nan`, `inf`) are no decimal: the column becomes VARCHAR.
   */
  private async shapeOf(table: TableRef, column: string): Promise<DecimalShape> {
    const name = ident(column);
    const result = await this.connection.runAndReadAll(
      `SELECT coalesce(bool_and(regexp_full_match(v, '-?[0-9]+([.][0-9]+)?(e[+-]?[0-9]+)?')), true),
              coalesce(max(CASE WHEN digits = '' THEN 0 ELSE greatest(0, length(digits) + e - fraction) END), 0),
              coalesce(max(greatest(0, fraction - e)), 0),
              coalesce(bool_or(length(digits) + e - fraction >= 39 AND TRY_CAST(v AS HUGEINT) IS NULL), false)
       FROM (
         SELECT v, ltrim(split_part(ltrim(m, '-'), '.', 1) || split_part(m, '.', 2), '0') AS digits,
                length(split_part(m, '.', 2)) AS fraction, coalesce(TRY_CAST(nullif(split_part(v, 'e', 2), '') AS INTEGER), 0) AS e
         FROM (SELECT v, split_part(v, 'e', 1) AS m FROM (SELECT lower(CAST(${name} AS VARCHAR)) AS v FROM ${this.sql(table)} WHERE ${name} IS NOT NULL)))`,
    );
    const [plain, integerDigits, scale, beyondHugeint] = result.getRowsJS()[0] as [boolean, bigint | number, bigint | number, boolean];
    return { text: !plain, integerDigits: Number(integerDigits), scale: Number(scale), beyondHugeint };
  }

  /**
   * Give a decimal column the type its values need (never narrower than now). The old values go
   * through their text, so the new type holds each of them exactly.
   */
  private async resizeDecimal(table: TableRef, column: string, shape: DecimalShape): Promise<void> {
    const types = await this.typesOf(table);
    const current = types.get(column) ?? 'VARCHAR';
    if (current.toUpperCase() === 'VARCHAR' && types.has(column)) return;
    const wanted = decimalSqlType(shape);
    const name = ident(column);
    this.changing(table);
    if (wanted !== current) {
      this.keyCeilings.delete(tableName(table));
      await this.beforeAlter(table);
      await this.connection.run(
        `ALTER TABLE ${this.sql(table)} ALTER COLUMN ${name} TYPE ${wanted} USING CAST(CAST(${name} AS VARCHAR) AS ${wanted})`,
      );
      types.set(column, wanted);
    }
    if (wanted === 'VARCHAR') {
      await this.markDecimalText(table, column, true);
      const where = `${table.schema}.${table.table}.${column}`;
      if (!this.warnedText.has(where)) {
        this.warnedText.add(where);
        stderrLogger.warn(
          `column ${where} holds exact decimals beyond DuckDB's DECIMAL(38) and HUGEINT (or text that is no number); it is stored as VARCHAR with every digit (cast in queries)`,
        );
      }
    }
  }

  /** Widen the batch's decimal columns to hold its values (measured while encoding), before they are loaded (DuckDB would round extra scale). */
  private async fitDecimals(batch: RowBatch<CsvRowEncoder>): Promise<void> {
    const types = await this.typesOf(batch.table);
    for (const [index, shape] of batch.encoder.shapes.entries()) {
      if (shape === null) continue;
      const column = batch.columns[index]!;
      const current = types.get(column.name) ?? 'VARCHAR';
      if (current.toUpperCase() === 'VARCHAR') continue;
      if (typeHolds(current, shape)) continue;
      await this.resizeDecimal(batch.table, column.name, mergeShapes(shape, await this.shapeOf(batch.table, column.name)));
    }
  }

  rowEncoder(columns: readonly ColumnDef[], withBatchedAt: boolean): CsvRowEncoder {
    return rowEncoder(columns, withBatchedAt);
  }

  async writeBatch(batch: RowBatch<CsvRowEncoder>): Promise<void> {
    if (batch.rows.count === 0) return;
    if (batch.encoder.shapes.some((shape) => shape !== null)) await this.fitDecimals(batch);
    const types = await this.typesOf(batch.table);
    const longestLine = batch.rows.longestRowBytes;
    this.tablesWritten.add(tableName(batch.table));
    await this.fitMemory(types.size, longestLine);
    const file = join(this.spoolDir, `batch-${this.spoolCount++}.csv`);
    try {
      spoolRows(file, batch.rows);
    } catch (error) {
      rmSync(file, { force: true }); // the part written: give the space back at once
      if (!isDiskFull(error)) throw error;
      throw new ResourceError(
        `the disk holding ${this.spoolDir} (the spool folder, under TMPDIR) is full: the batch of stream ${JSON.stringify(batch.stream)} (${batchLines(batch.rows.lines)}) could not be spooled (${(error as Error).message.split(',')[0]}); nothing after the last state on stdout was committed; free space there, or set TMPDIR to a folder with room, and run again`,
        { cause: error },
      );
    }
    try {
      // Each field is parsed as the column's own type (a hand-made column keeps its type; DuckDB judges the values).
      const typedAll = batch.columns.map((column) => ({ name: column.name, sqlType: types.get(column.name) ?? SQL_TYPE[column.kind] }));
      // `_sdc_batched_at` (last, when present) is not in the file: one constant for the batch.
      const typed = batch.batchedAt === null ? typedAll : typedAll.slice(0, -1);
      const batchedAt =
        batch.batchedAt === null
          ? ''
          : `, CAST(${literal(batch.batchedAt)} AS ${typedAll[typedAll.length - 1]!.sqlType}) AS ${ident(typedAll[typedAll.length - 1]!.name)}`;
      // read_csv turns a TIMESTAMPTZ field it cannot parse into NULL without a word (DuckDB
      // 1.5, inferred from tests: "2023-02-30T00:00:00Z" and "x" both load as NULL), so such
      // columns are read as text and cast: a bad value then fails the batch and is named. A
      // TIMESTAMP without zone (made by hand) would drop an offset: its text goes through
      // TIMESTAMPTZ, and the UTC time (the session's zone) is stored.
      // A BLOB's cells are hex (the kit's `bytes` cells), which read_csv would take as the bytes of that text.
      const isTimestamp = (sqlType: string) => /^TIMESTAMP(TZ| WITH TIME ZONE)?$/i.test(sqlType);
      const readAsText = (sqlType: string) => isTimestamp(sqlType) || sqlType.toUpperCase() === 'BLOB';
      const cast = typed.filter(({ sqlType }) => readAsText(sqlType));
      const inFile = typed.map(({ name, sqlType }) => ({ name, sqlType: readAsText(sqlType) ? 'VARCHAR' : sqlType }));
      const castTo = (name: string, sqlType: string) =>
        /^TIMESTAMP$/i.test(sqlType)
          ? `CAST(CAST(${ident(name)} AS TIMESTAMPTZ) AS TIMESTAMP)`
          : sqlType.toUpperCase() === 'BLOB'
            ? `from_hex(${ident(name)})`
            : `CAST(${ident(name)} AS ${sqlType})`;
      const replace =
        cast.length === 0 ? '' : ` REPLACE (${cast.map(({ name, sqlType }) => `${castTo(name, sqlType)} AS ${ident(name)}`).join(', ')})`;
      const source = `SELECT *${replace}${batchedAt} FROM ${readCsvSql(file, inFile, longestLine)}`;
      const key = tableName(batch.table);
      const target = this.sql(batch.table);
      const columns = columnList(batch.columns);
      const keyRange = this.integerKeyRange(batch, types);
      if (batch.tableIsNew) this.keyCeilings.set(key, { column: batch.key[0] ?? '', ceiling: null });
      const insert = batch.mode === 'append' || batch.tableIsNew || (keyRange !== null && (await this.keysAreNew(batch, keyRange)));
      if (insert) {
        await this.run(batch, `INSERT INTO ${target} (${columns}) ${source}`, { file, typed, longestLine });
      } else {
        this.rowsChanged.add(key);
        const changed = await this.run(batch, this.mergeSql(batch, target, columns, source), { file, typed, longestLine });
        // Each row of the batch inserts one row or updates the rows its key matches: more rows
        // changed than the batch holds means a key matched several (loaded under other
        // key_properties), which the update has just made identical. Refused; the rollback undoes it.
        if (changed > batch.rows.count) throw await this.severalRowsForOneKey(batch, target, source);
      }
      this.raiseKeyCeiling(batch, keyRange);
    } finally {
      rmSync(file, { force: true });
    }
  }

  /** The range of an upsert batch's single integer key (measured while encoding), or null when there is no such range. */
  private integerKeyRange(batch: RowBatch<CsvRowEncoder>, types: Map<string, string>): IntegerRange | null {
    if (batch.mode !== 'upsert' || batch.key.length !== 1) return null;
    const key = batch.key[0]!;
    if (!INTEGER_SQL_TYPES.has((types.get(key) ?? '').toUpperCase())) return null;
    const range = batch.encoder.integerRanges[batch.columns.findIndex((column) => column.name === key)];
    return range?.onlyIntegers && range.min !== null ? range : null;
  }

  /** True when every key of the batch is above every key in the table (so none can match a row). */
  private async keysAreNew(batch: RowBatch, keyRange: IntegerRange): Promise<boolean> {
    const target = tableName(batch.table);
    const key = batch.key[0]!;
    let known = this.keyCeilings.get(target);
    if (known?.column !== key) {
      const result = await this.connection.runAndReadAll(`SELECT max(${ident(key)}) FROM ${this.sql(batch.table)}`);
      const max = result.getRowsJS()[0]?.[0] as bigint | number | null | undefined;
      known = { column: key, ceiling: max === null || max === undefined ? null : BigInt(max) };
      this.keyCeilings.set(target, known);
    }
    return known.ceiling === null || BigInt(keyRange.min!) > known.ceiling;
  }

  /** After a batch is loaded: raise the table's key bound by the batch's keys, or forget it when they are not known. */
  private raiseKeyCeiling(batch: RowBatch, keyRange: IntegerRange | null): void {
    const target = tableName(batch.table);
    const known = this.keyCeilings.get(target);
    if (known === undefined) return;
    if (keyRange === null || keyRange.max === null || known.column !== batch.key[0]) {
      this.keyCeilings.delete(target);
      return;
    }
    const max = BigInt(keyRange.max);
    if (known.ceiling === null || max > known.ceiling) known.ceiling = max;
  }

  /**
   * Rows already unique by key (the kit deduplicated, last wins) are merged straight from the
   * file: matching rows are updated column by column (columns outside the batch keep their
   * values), the others inserted. Keys are never NULL (the kit refuses such records), so `=`
   * lets DuckDB hash-join.
   */
  private mergeSql(batch: RowBatch, target: string, columns: string, source: string): string {
    const on = batch.key.map((key) => `t.${ident(key)} = s.${ident(key)}`).join(' AND ');
    const keys = new Set(batch.key);
    const set = batch.columns.filter((column) => !keys.has(column.name)).map((column) => `${ident(column.name)} = s.${ident(column.name)}`);
    const values = batch.columns.map((column) => `s.${ident(column.name)}`).join(', ');
    const matched = set.length > 0 ? `WHEN MATCHED THEN UPDATE SET ${set.join(', ')} ` : '';
    return `MERGE INTO ${target} AS t USING (${source}) AS s ON ${on} ${matched}WHEN NOT MATCHED THEN INSERT (${columns}) VALUES (${values})`;
  }

  /** Run a statement that reads the spooled rows, giving the rows it changed; a value DuckDB refuses is traced to its input line and column. */
  private async run(batch: RowBatch<CsvRowEncoder>, sql: string, spool: Spool): Promise<number> {
    try {
      return (await this.connection.run(sql)).rowsChanged;
    } catch (error) {
      throw await this.explainLoadError(batch, spool, error);
    }
  }

  /** The refusal of a batch in which a key matched several rows (`keyMatchesSeveralRows`), with one such key and its input line. */
  private async severalRowsForOneKey(batch: RowBatch<CsvRowEncoder>, target: string, source: string): Promise<LoadError> {
    const keys = batch.key.map((key) => `CAST(s.${ident(key)} AS VARCHAR)`).join(', ');
    const on = batch.key.map((key) => `t.${ident(key)} = s.${ident(key)}`).join(' AND ');
    const found = await this.connection.runAndReadAll(
      `SELECT ${keys}, count(*) FROM (${source}) AS s JOIN ${target} AS t ON ${on} GROUP BY ALL HAVING count(*) > 1 LIMIT 1`,
    );
    const row = (found.getRowsJS()[0] ?? []) as unknown[];
    const values = row.slice(0, batch.key.length).map(String);
    // The key's fields as spooled are its text as DuckDB casts it back for integers and strings, the common keys.
    const indexes = batch.key.map((key) => batch.columns.findIndex((column) => column.name === key));
    let line: number | undefined;
    for (let r = 0; r < batch.rows.count && line === undefined && values.length > 0; r++) {
      const fields = csvFields(batch.rows.rowText(r));
      if (indexes.every((index, k) => fields[index] === values[k])) line = batch.rows.lines[r];
    }
    return keyMatchesSeveralRows(batch, { values, rows: Number(row[batch.key.length] ?? 2), ...(line === undefined ? {} : { line }) });
  }

  private async explainLoadError(batch: RowBatch<CsvRowEncoder>, { file, typed, longestLine }: Spool, error: unknown): Promise<LoadError> {
    const where = `${batch.table.schema}.${batch.table.table}`;
    const allLines = batch.rows.lines;
    const lines = allLines.length > 0 ? `input lines ${allLines[0]}-${allLines[allLines.length - 1]}` : 'this batch';
    // The failed statement aborted the transaction, so the spooled file is examined on a connection of its own.
    const probe = await this.instance.connect();
    try {
      // The file again, every field as text, to find the first value its column's type refuses.
      const asText = readCsvSql(
        file,
        typed.map(({ name }) => ({ name, sqlType: 'VARCHAR' })),
        longestLine,
      );
      for (const [index, column] of typed.entries()) {
        const type = typed[index]?.sqlType ?? 'VARCHAR';
        if (type === 'VARCHAR') continue;
        const bad = await probe
          .runAndReadAll(
            `SELECT v FROM (SELECT ${ident(column.name)} AS v FROM ${asText})
           WHERE v IS NOT NULL AND TRY_CAST(v AS ${type}) IS NULL LIMIT 1`,
          )
          .then((result) => result.getRowsJS()[0]?.[0] as string | undefined)
          .catch(() => undefined);
        if (bad === undefined) continue;
        let line: number | undefined;
        for (let row = 0; row < batch.rows.count && line === undefined; row++) {
          if (csvFields(batch.rows.rowText(row))[index] === bad) line = allLines[row];
        }
        return new LoadError(
          `${line === undefined ? lines : `line ${line}`} (stream ${JSON.stringify(batch.stream)}, table ${where}, column ${column.name}): DuckDB cannot store ${JSON.stringify(bad)} as ${type}`,
        );
      }
    } finally {
      probe.closeSync();
    }
    return new LoadError(
      `${lines} (stream ${JSON.stringify(batch.stream)}, table ${where}): DuckDB refused the batch: ${duckdbMessage(error)}`,
    );
  }

  /** Deletes here and in deleteMarkedRows (and setting a timestamp) never raise a key, so the key bounds stay true. */
  async activateVersion(table: TableRef, version: bigint, hard: boolean): Promise<void> {
    this.rowsChanged.add(tableName(table));
    const old = `(${ident(META.tableVersion)} < ${version.toString()} OR ${ident(META.tableVersion)} IS NULL)`;
    if (hard) {
      await this.connection.run(`DELETE FROM ${this.sql(table)} WHERE ${old}`);
    } else {
      await this.connection.run(
        `UPDATE ${this.sql(table)} SET ${ident(META.deletedAt)} = now() WHERE ${old} AND ${ident(META.deletedAt)} IS NULL`,
      );
    }
  }

  async deleteMarkedRows(table: TableRef): Promise<void> {
    this.rowsChanged.add(tableName(table));
    await this.connection.run(`DELETE FROM ${this.sql(table)} WHERE ${ident(META.deletedAt)} IS NOT NULL`);
  }

  async ensureStateTable(table: TableRef): Promise<void> {
    this.changing(table);
    await this.connection.run(`CREATE TABLE IF NOT EXISTS ${this.sql(table)} (id VARCHAR PRIMARY KEY, value JSON, updated_at TIMESTAMPTZ)`);
  }

  async writeState(table: TableRef, id: string, valueJson: string): Promise<void> {
    // A large state (up to the kit's 32 MiB) is held a few times over while cast and stored, like a long line.
    await this.fitMemory(0, Buffer.byteLength(valueJson));
    await this.connection.run(
      `INSERT INTO ${this.sql(table)} (id, value, updated_at) VALUES ($1, CAST($2 AS JSON), now())
       ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [id, valueJson],
    );
  }

  async readState(table: TableRef, id: string): Promise<unknown> {
    if ((await this.describeTable(table)) === null) return undefined;
    const result = await this.connection.runAndReadAll(`SELECT CAST(value AS VARCHAR) FROM ${this.sql(table)} WHERE id = $1`, [id]);
    const text = result.getRowsJS()[0]?.[0] as string | null | undefined;
    return text === undefined || text === null ? undefined : parseJson(text);
  }
}

function duckdbMessage(error: unknown): string {
  return firstLine(error instanceof Error ? error.message : String(error));
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/**
 * DuckDB matches identifiers without regard to ASCII case (`"ID"` and `id` are one column, `"S"`
 * and `s` one table) and keeps them as first written: a table an analyst made as `Exams (ID ...)`
 * is the one our `exams (id ...)` names. The catalog is read the same way.
 */
const SAME_TABLE = 'lower(schema_name) = lower($1) AND lower(table_name) = lower($2)';

/** A name as DuckDB compares it (ASCII case folded; other letters are distinct, as in DuckDB). */
function foldCase(name: string): string {
  return name.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/**
 * How target-kit paces DuckDB's commits. A DuckDB commit (and the checkpoint after it) re-writes
 * blocks of every table it touched, 15-45 ms and up to 1.5 MB a table once the table's rows were
 * checkpointed (bench README, "Many interleaved streams"), so 500 interleaved streams cost ~10×
 * PostgreSQL's time when each STATE after `batch_size_rows` rows committed all of them. Rows are
 * held instead until a stream's batch fills or the held rows pass 64MB: a sync of many small
 * tables writes each table once per run.
 */
export const DUCKDB_COMMIT_CADENCE: CommitCadence = {
  heldBytesPerCommit: 64 << 20,
  maxTablesPerCommit: 1000,
};

/** Checkpoint after a commit once this many tables were written since the last checkpoint (`DuckDBSession.commit`). */
const CHECKPOINT_AFTER_TABLES = 128;

/** The SQL types of columns whose kind is `integer` (types.ts, kindOfSqlType). */
const INTEGER_SQL_TYPES = new Set(['BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT']);

/** Report each statement's duration (TAPLINE_DUCKDB_TRACE=1, for tuning the load path; tests, to see which statement ran). */
function traced(connection: DuckDBConnection, trace: (line: string) => void): DuckDBConnection {
  const time =
    <T>(sql: string, run: () => Promise<T>) =>
    async () => {
      const start = performance.now();
      try {
        return await run();
      } finally {
        trace(`TRACE ${Math.round(performance.now() - start)}ms ${sql.replace(/\s+/g, ' ').slice(0, 100)}\n`);
      }
    };
  return new Proxy(connection, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if ((property === 'run' || property === 'runAndReadAll') && typeof value === 'function') {
        return (sql: string, ...rest: unknown[]) =>
          time(sql, () => (value as (...a: unknown[]) => Promise<unknown>).call(target, sql, ...rest))();
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The connection, with a full disk reported as one sentence naming the folder that filled (a
 * ResourceError, exit 5) instead of DuckDB's "Could not write file ..." with a stack. DuckDB
 * names the file it could not write: the database file or its WAL, or a file it spills to.
 */
function diskFullAsSentence(connection: DuckDBConnection, databasePath: string): DuckDBConnection {
  const explain = (error: unknown): unknown => {
    if (!isDiskFull(error)) return error;
    const message = firstLine((error as Error).message);
    const file = /file "([^"]+)"/.exec(message)?.[1];
    const folder = dirname(file ?? databasePath);
    const what = folder === dirname(databasePath) ? "the DuckDB file's folder" : "DuckDB's temporary folder";
    return new ResourceError(
      `the disk holding ${folder} (${what}) is full: DuckDB could not write ${file ?? databasePath} (${/No space left on device|Disk quota exceeded|File too large/i.exec(message)?.[0] ?? 'disk full'}); nothing after the last state on stdout was committed and the file holds what was; free space there and run again`,
      { cause: error },
    );
  };
  return new Proxy(connection, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if ((property === 'run' || property === 'runAndReadAll') && typeof value === 'function') {
        return async (...args: unknown[]) => {
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (error) {
            throw explain(error);
          }
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
