// The PostgreSQL dialect: COPY into the table or a staging table, one set-based merge per batch, DDL and the state table.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseJson } from '@tapline/singer';
import {
  type AccountBinding,
  batchLines,
  type ColumnDef,
  type ColumnKind,
  ConfigError,
  type Dialect,
  type ExistingTable,
  keyMatchesSeveralRows,
  LoadError,
  META,
  ResourceError,
  type RowBatch,
  type TableRef,
  TransientError,
  type WarehouseSession,
} from '@tapline/target-kit';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { connectionSettings, type PostgresConfig } from './config.js';
import { PgConnection } from './connection.js';
import { describeServer } from './connection-settings.js';
import { BATCHED_AT_FROM_END, BATCHED_AT_LENGTH, type CopyTextEncoder, rowEncoder } from './copy-text.js';
import * as ownTables from './own-tables.js';

/** Logical kind -> PostgreSQL type (README, "Types"). */
export const SQL_TYPE: Record<ColumnKind, string> = {
  boolean: 'boolean',
  integer: 'bigint',
  decimal: 'numeric',
  number: 'double precision',
  date: 'date',
  time: 'time',
  timestamp: 'timestamptz',
  string: 'text',
  json: 'jsonb',
  bytes: 'bytea',
};

/** PostgreSQL type name (as `format_type` prints it, without modifiers) -> logical kind. */
export const KIND_OF_SQL_TYPE: Record<string, ColumnKind> = {
  boolean: 'boolean',
  smallint: 'integer',
  integer: 'integer',
  bigint: 'integer',
  numeric: 'decimal',
  real: 'number',
  'double precision': 'number',
  date: 'date',
  'time without time zone': 'time',
  'time with time zone': 'time',
  'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamp',
  text: 'string',
  'character varying': 'string',
  character: 'string',
  jsonb: 'json',
  json: 'json',
  bytea: 'bytes',
};

/** Quote an identifier: always, so reserved words, case, spaces and punctuation all work. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string literal (COMMENT takes no bind parameters); standard_conforming_strings is on since PostgreSQL 9.1. */
function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function qualified(table: TableRef): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`;
}

export const postgresDialect: Dialect<PostgresConfig> = {
  name: 'PostgreSQL',
  capabilities: {
    maxIdentifierBytes: 63,
    textAcceptsNul: false,
    defaultSchema: 'public',
    canWidenColumns: true,
  },
  connect: (config) => openPostgresSession(config),
  rowEncoderModule: new URL('./copy-text.js', import.meta.url).href,
  // An error the server sent, except a syntax error (a statement of ours that is wrong: a bug).
  isRefusal: (error) => error instanceof pg.DatabaseError && error.code !== '42601',
};

/** A session of the dialect, which also serves the runner (WarehouseSession). */
export async function openPostgresSession(config: PostgresConfig): Promise<PostgresSession> {
  const settings = clientConfig(config);
  const client = new pg.Client(settings);
  try {
    await client.connect();
  } catch (error) {
    // Host, port, database and user only: the settings may hold a password in any form. Refused
    // credentials or a missing database are the config's to fix; anything else (refused, timed
    // out, unknown host) may pass.
    const refusedBy = /^(28000|28P01|3D000)$/.test(String((error as { code?: unknown }).code));
    const Failure = refusedBy ? ConfigError : TransientError;
    throw new Failure(`cannot connect to PostgreSQL (${describeServer(settings)}): ${(error as Error).message}`);
  }
  // Timestamps without a zone mean UTC, whatever the server's default zone is. A column widened
  // to numeric or text goes through each value's text (alterColumnType), so that text is fixed
  // here too, whatever the server or role configures: doubles print exactly (the shortest text
  // that reads back as the same double, from PostgreSQL 12 on; 0 or less would round them to 15
  // digits), and timestamps print as ISO 8601 (`2021-01-01 00:00:00+00`, not `Fri Jan 01 ...`).
  await client.query(
    `SET TIME ZONE 'UTC'; SET extra_float_digits = 3; SET DateStyle = 'ISO, MDY'; SET statement_timeout = ${config.statement_timeout_ms}`,
  );
  return new PostgresSession(client, settings, config.default_target_schema ?? 'public', config.statement_timeout_ms);
}

/** Connection settings; keys left out fall back to PG* environment variables (pg's own rule). */
export const clientConfig = (config: PostgresConfig): pg.ClientConfig => connectionSettings(config);

const UNIQUE_VIOLATION = '23505';
/** How long a run waits for another run of its pipeline to let go of the state lock (`lockState`). */
const STATE_LOCK_WAIT_MS = 5_000;

export class PostgresSession implements WarehouseSession {
  private stagingCounter = 0;
  /** Tables where an optimistic COPY met an existing key: merge through staging from then on. */
  private readonly mergeOnly = new Set<string>();
  /**
   * Per table, its `timestamp without time zone` columns (made by hand: ours are timestamptz).
   * PostgreSQL ignores an offset written into such a column ("10:00+05:30" would be stored as
   * 10:00), so their values go through a timestamptz staging column and are converted to UTC.
   */
  private readonly naiveTimestamps = new Map<string, Set<string>>();
  /** Per table, its primary key as described or created (named when it refuses a batch keyed otherwise). */
  private readonly primaryKeys = new Map<string, readonly string[]>();

  private readonly db: PgConnection;

  constructor(
    client: pg.Client,
    /** Kept for knex, which migrates Tapline's own tables on a connection of its own (own-tables.ts). */
    private readonly settings: pg.ClientConfig,
    readonly schema: string,
    statementTimeoutMs = 0,
  ) {
    this.db = new PgConnection(client, statementTimeoutMs);
  }

  async query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]> {
    return (await this.db.query(sql, params as unknown[] | undefined)).rows;
  }

  tableExists(table: TableRef): Promise<boolean> {
    return ownTables.exists(this.db, table);
  }

  qualify(...names: string[]): string {
    return names.map(quoteIdent).join('.');
  }

  /** Readers see each commit: there is nothing to publish. */
  async publishSnapshot(): Promise<void> {}

  prepareOwnTables(state: TableRef): Promise<void> {
    return ownTables.migrateOwnTables(this.db, this.settings, state);
  }

  async clearState(state: TableRef, id: string): Promise<boolean> {
    // Held until the session closes, so a running load is not cleared under it.
    await this.lockState(state, id);
    return ownTables.deleteState(this.db, state, id);
  }

  readAccountBinding(state: TableRef, id: string): Promise<AccountBinding | undefined> {
    return ownTables.readAccountBinding(this.db, state, id);
  }

  writeAccountBinding(state: TableRef, id: string, binding: AccountBinding): Promise<void> {
    return ownTables.writeAccountBinding(this.db, state, id, binding);
  }

  async begin(): Promise<void> {
    await this.db.query('BEGIN');
  }

  async commit(): Promise<void> {
    await this.db.query('COMMIT');
  }

  async rollback(): Promise<void> {
    await this.db.query('ROLLBACK').catch(() => {});
  }

  async close(): Promise<void> {
    await this.db.client.end().catch(() => {});
  }

  async ensureSchema(schema: string): Promise<void> {
    const found = await this.db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (found.rowCount === 0) {
      // Two first loads into one new schema at once (two pipelines, deployed together): the second
      // CREATE waits for the first's transaction, then fails on the catalog's unique index even
      // with IF NOT EXISTS. The schema exists by then, so that failure is undone and the load goes on.
      await this.db.query('SAVEPOINT tapline_create_schema');
      try {
        await this.db.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      } catch (error) {
        if ((error as { code?: string }).code !== '23505') throw error;
        await this.db.query('ROLLBACK TO SAVEPOINT tapline_create_schema');
      }
      await this.db.query('RELEASE SAVEPOINT tapline_create_schema');
    }
  }

  async describeTable(table: TableRef): Promise<ExistingTable | null> {
    const columns = await this.db.query<{ name: string; type: string; comment: string | null }>(
      `SELECT a.attname AS name, format_type(a.atttypid, NULL) AS type, col_description(a.attrelid, a.attnum) AS comment
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
          AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [table.schema, table.table],
    );
    if (columns.rowCount === 0) return null;
    const key = await this.db.query<{ name: string }>(
      `SELECT a.attname AS name
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)
        WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary
        ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [table.schema, table.table],
    );
    const comment = await this.db.query<{ comment: string | null }>(
      `SELECT obj_description(c.oid, 'pg_class') AS comment
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [table.schema, table.table],
    );
    this.primaryKeys.set(
      qualified(table),
      key.rows.map((row) => row.name),
    );
    const naive = columns.rows.filter((row) => row.type === 'timestamp without time zone').map((row) => row.name);
    if (naive.length > 0) this.naiveTimestamps.set(qualified(table), new Set(naive));
    else this.naiveTimestamps.delete(qualified(table));
    return {
      columns: columns.rows.map((row) => ({
        name: row.name,
        kind: KIND_OF_SQL_TYPE[row.type] ?? null,
        sqlType: row.type,
        comment: row.comment,
      })),
      primaryKey: key.rows.map((row) => row.name),
      comment: comment.rows[0]?.comment ?? null,
    };
  }

  async createTable(table: TableRef, columns: readonly ColumnDef[], primaryKey: readonly string[]): Promise<void> {
    const parts = columns.map((column) => `${quoteIdent(column.name)} ${SQL_TYPE[column.kind]}`);
    if (primaryKey.length > 0) parts.push(`PRIMARY KEY (${primaryKey.map(quoteIdent).join(', ')})`);
    await this.db.query(`CREATE TABLE ${qualified(table)} (${parts.join(', ')})`);
    this.primaryKeys.set(qualified(table), [...primaryKey]);
  }

  async setTableComment(table: TableRef, comment: string): Promise<void> {
    await this.db.query(`COMMENT ON TABLE ${qualified(table)} IS ${quoteLiteral(comment)}`);
  }

  async setColumnComment(table: TableRef, column: string, comment: string): Promise<void> {
    await this.db.query(`COMMENT ON COLUMN ${qualified(table)}.${quoteIdent(column)} IS ${quoteLiteral(comment)}`);
  }

  async dropTable(table: TableRef): Promise<void> {
    await this.db.query(`DROP TABLE IF EXISTS ${qualified(table)}`);
    this.naiveTimestamps.delete(qualified(table));
  }

  async addColumn(table: TableRef, column: ColumnDef): Promise<void> {
    await this.db.query(`ALTER TABLE ${qualified(table)} ADD COLUMN IF NOT EXISTS ${quoteIdent(column.name)} ${SQL_TYPE[column.kind]}`);
  }

  async alterColumnType(table: TableRef, column: ColumnDef, from: ColumnKind): Promise<void> {
    const name = quoteIdent(column.name);
    const to = SQL_TYPE[column.kind];
    // jsonb -> text keeps a JSON string's own text (no quotes); other values become their JSON
    // text. bytea -> text is the bytes' hex, as the tap sent them (without 0x). A double becomes
    // numeric through its text: `::numeric` alone rounds it to 15 digits (1234567.123456789 ->
    // 1234567.12345679), its text is the exact shortest form (extra_float_digits, set at connect).
    const using =
      column.kind === 'json'
        ? `to_jsonb(${name})`
        : from === 'json' && column.kind === 'string'
          ? `${name} #>> '{}'`
          : from === 'bytes'
            ? `encode(${name}, 'hex')`
            : from === 'number' && column.kind === 'decimal'
              ? `${name}::text::numeric`
              : `${name}::${to}`;
    await this.db.query(`ALTER TABLE ${qualified(table)} ALTER COLUMN ${name} TYPE ${to} USING ${using}`);
    this.naiveTimestamps.get(qualified(table))?.delete(column.name);
  }

  rowEncoder(columns: readonly ColumnDef[], withBatchedAt: boolean): CopyTextEncoder {
    return rowEncoder(columns, withBatchedAt);
  }

  async writeBatch(batch: RowBatch): Promise<void> {
    if (batch.batchedAt !== null) {
      if (batch.batchedAt.length !== BATCHED_AT_LENGTH) throw new Error(`unexpected _sdc_batched_at ${batch.batchedAt}`);
      batch.rows.overwriteRowTails(BATCHED_AT_FROM_END, batch.batchedAt);
    }
    const columnList = batch.columns.map((column) => quoteIdent(column.name)).join(', ');
    const naive = this.naiveTimestamps.get(qualified(batch.table));
    const converted = batch.columns.filter((column) => naive?.has(column.name));
    if (converted.length > 0) return this.writeThroughStaging(batch, columnList, new Set(converted.map((column) => column.name)));
    // An append, or the first batch of a table this run created (rows are unique by key already):
    // COPY straight into the table.
    if (batch.mode === 'append' || batch.tableIsNew) {
      await this.copyRows(batch, `${qualified(batch.table)} (${columnList})`);
      return;
    }
    // Optimistic upsert: when no key of the batch is in the table yet (a first load, new
    // results), a plain COPY is the whole upsert. The primary key catches any existing key; then
    // the COPY is undone to the savepoint and this table uses the merge from now on.
    const tableKey = qualified(batch.table);
    if (batch.keyIsPrimaryKey && !this.mergeOnly.has(tableKey)) {
      await this.db.query('SAVEPOINT tapline_copy');
      try {
        await this.copyRows(batch, `${tableKey} (${columnList})`);
        await this.db.query('RELEASE SAVEPOINT tapline_copy');
        return;
      } catch (error) {
        if ((error as { cause?: { code?: string } }).cause?.code !== UNIQUE_VIOLATION) throw error;
        await this.db.query('ROLLBACK TO SAVEPOINT tapline_copy');
        this.mergeOnly.add(tableKey);
      }
    }
    await this.writeThroughStaging(batch, columnList, new Set());
  }

  /**
   * COPY into a staging table shaped like the table, then one set-based statement: a merge, or
   * for an append an INSERT. `asTimestamptz` columns are timestamptz in staging, so an offset is
   * honoured, and the assignment into the table's `timestamp without time zone` keeps UTC (the
   * session's zone).
   */
  private async writeThroughStaging(batch: RowBatch, columnList: string, asTimestamptz: ReadonlySet<string>): Promise<void> {
    const staging = quoteIdent(`tapline_staging_${++this.stagingCounter}`);
    const shape = batch.columns
      .map((column) =>
        asTimestamptz.has(column.name) ? `${quoteIdent(column.name)}::timestamptz AS ${quoteIdent(column.name)}` : quoteIdent(column.name),
      )
      .join(', ');
    await this.db.query(`CREATE TEMP TABLE ${staging} ON COMMIT DROP AS SELECT ${shape} FROM ${qualified(batch.table)} WITH NO DATA`);
    try {
      await this.copyRows(batch, `${staging} (${columnList})`);
      if (batch.mode === 'append' || batch.tableIsNew) {
        await this.db.query(`INSERT INTO ${qualified(batch.table)} (${columnList}) SELECT ${columnList} FROM ${staging}`);
      } else {
        const updated = await this.db.query(this.mergeSql(batch, staging, columnList));
        if (!batch.keyIsPrimaryKey) {
          const inserted = await this.db.query(this.insertMissingSql(batch, staging, columnList));
          // Each staged row inserts one row or updates the rows its key matches: more than the batch
          // holds means a key matched several rows (no primary key stopped it), now made identical.
          if ((updated.rowCount ?? 0) + (inserted.rowCount ?? 0) > batch.rows.count) {
            throw await this.severalRowsForOneKey(batch, staging);
          }
        }
      }
    } catch (error) {
      throw this.describeLoadError(error, batch);
    }
    await this.db.query(`DROP TABLE ${staging}`);
  }

  /** One set-based statement: upsert on the primary key, or (no such constraint) update the matching rows. */
  private mergeSql(batch: RowBatch, staging: string, columnList: string): string {
    const keys = batch.key.map(quoteIdent);
    const others = batch.columns.map((column) => quoteIdent(column.name)).filter((name) => !keys.includes(name));
    if (batch.keyIsPrimaryKey) {
      const action = others.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${others.map((name) => `${name} = EXCLUDED.${name}`).join(', ')}`;
      return `INSERT INTO ${qualified(batch.table)} (${columnList}) SELECT ${columnList} FROM ${staging} ON CONFLICT (${keys.join(', ')}) ${action}`;
    }
    const set = (others.length === 0 ? keys : others).map((name) => `${name} = s.${name}`).join(', ');
    return `UPDATE ${qualified(batch.table)} AS t SET ${set} FROM ${staging} AS s WHERE ${keys.map((k) => `t.${k} = s.${k}`).join(' AND ')}`;
  }

  /** The refusal of a batch in which a key matched several rows (`keyMatchesSeveralRows`), with one such key. */
  private async severalRowsForOneKey(batch: RowBatch, staging: string): Promise<LoadError> {
    const keys = batch.key.map(quoteIdent);
    const found = await this.db.query<Record<string, string>>(
      `SELECT ${keys.map((k, i) => `s.${k}::text AS k${i}`).join(', ')}, count(*)::int AS rows FROM ${staging} AS s JOIN ${qualified(batch.table)} AS t ON ${keys.map((k) => `t.${k} = s.${k}`).join(' AND ')} GROUP BY ${keys.map((_, i) => i + 1).join(', ')} HAVING count(*) > 1 LIMIT 1`,
    );
    const row = found.rows[0] ?? {};
    return keyMatchesSeveralRows(batch, { values: keys.map((_, i) => String(row[`k${i}`])), rows: Number(row.rows ?? 2) });
  }

  private insertMissingSql(batch: RowBatch, staging: string, columnList: string): string {
    const keys = batch.key.map(quoteIdent);
    const match = keys.map((k) => `t.${k} = s.${k}`).join(' AND ');
    const select = batch.columns.map((column) => `s.${quoteIdent(column.name)}`).join(', ');
    return `INSERT INTO ${qualified(batch.table)} (${columnList}) SELECT ${select} FROM ${staging} AS s WHERE NOT EXISTS (SELECT 1 FROM ${qualified(batch.table)} AS t WHERE ${match})`;
  }

  private async copyRows(batch: RowBatch, into: string): Promise<void> {
    const stream = this.db.client.query(copyStreams.from(`COPY ${into} FROM STDIN`));
    try {
      await pipeline(Readable.from(batch.rows.buffers()), stream);
    } catch (error) {
      throw this.describeLoadError(error, batch);
    }
  }

  /** Turn a database error into one sentence naming the stream, input line and column when PostgreSQL says which. */
  private describeLoadError(error: unknown, batch: RowBatch): Error {
    const lost = this.db.explain(error, `writing stream ${JSON.stringify(batch.stream)} (${batchLines(batch.rows.lines)})`);
    if (lost instanceof LoadError || lost instanceof ResourceError || lost instanceof TransientError) return lost;
    const pgError = error as { message?: string; where?: string; column?: string; code?: string; hint?: string; detail?: string };
    const where = /COPY [^,]+, line (\d+)(?:, column ([^:]+))?/.exec(pgError.where ?? '');
    const rowIndex = where ? Number(where[1]) - 1 : -1;
    const line = rowIndex >= 0 ? batch.rows.lines[rowIndex] : undefined;
    const column = where?.[2] ?? pgError.column;
    const location = `${line === undefined ? batchLines(batch.rows.lines) : `line ${line}`} (stream ${JSON.stringify(batch.stream)}${column ? `, column ${JSON.stringify(column)}` : ''})`;
    const detail = pgError.code === '23505' && typeof pgError.detail === 'string' ? ` (${pgError.detail.replace(/\.$/, '')})` : '';
    const primaryKey = this.primaryKeys.get(qualified(batch.table)) ?? [];
    // A primary key refusing a batch keyed otherwise (an append, or key_properties that changed since the table was made): say why, it puzzles.
    const hint =
      pgError.code === '23505' && batch.mode === 'append'
        ? ' (records are appended here, as the stream sends no key_properties or load_method is append-only, and the table has a primary key that refuses a repeat: send the key_properties the table was made with, or drop the constraint)'
        : pgError.code === '23505' && !batch.keyIsPrimaryKey && primaryKey.length > 0
          ? `: the table's primary key (${primaryKey.join(', ')}) comes from the stream's earlier key_properties and is never altered, and records are now matched by key_properties (${batch.key.join(', ')}), which that primary key refuses here; send the key_properties the table was made with, or re-create the table (or drop its primary key) to key it anew`
          : pgError.hint
            ? ` (${pgError.hint.replace(/\.$/, '')})`
            : '';
    return new LoadError(`${location}: PostgreSQL refused the data: ${pgError.message ?? String(error)}${detail}${hint}`, { cause: error });
  }

  async activateVersion(table: TableRef, version: bigint, hard: boolean): Promise<void> {
    const versionColumn = quoteIdent(META.tableVersion);
    const deletedAt = quoteIdent(META.deletedAt);
    // numeric: a version beyond int64 (the column widens for it) compares without an out-of-range error.
    const older = `(${versionColumn} < $1::numeric OR ${versionColumn} IS NULL)`;
    if (hard) {
      await this.db.query(`DELETE FROM ${qualified(table)} WHERE ${older}`, [version.toString()]);
    } else {
      await this.db.query(`UPDATE ${qualified(table)} SET ${deletedAt} = now() WHERE ${older} AND ${deletedAt} IS NULL`, [
        version.toString(),
      ]);
    }
  }

  async deleteMarkedRows(table: TableRef): Promise<void> {
    await this.db.query(`DELETE FROM ${qualified(table)} WHERE ${quoteIdent(META.deletedAt)} IS NOT NULL`);
  }

  async ensureStateTable(table: TableRef): Promise<void> {
    await this.db.query(ownTables.stateTableDdl(table));
  }

  async writeState(table: TableRef, id: string, valueJson: string): Promise<void> {
    await this.db.query(
      `INSERT INTO ${qualified(table)} (id, value, updated_at) VALUES ($1, $2::jsonb, now())
       ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`,
      [id, valueJson],
    );
  }

  /**
   * A session-level advisory lock keyed by the state table and `state_id` (PostgreSQL drops it when
   * the connection ends, so a run that died holds nothing). An hourly schedule whose previous run
   * is still loading should fail, not queue up behind it; but a run retried right after the last
   * one was killed may find the lock for the moment the server takes to notice, so it is tried for
   * `STATE_LOCK_WAIT_MS` first.
   */
  async lockState(table: TableRef, id: string): Promise<void> {
    const key = [qualified(table), id];
    const deadline = Date.now() + STATE_LOCK_WAIT_MS;
    for (;;) {
      const taken = await this.db.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked', key);
      if (taken.rows[0]?.locked) return;
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // pg_locks shows the two keys as unsigned oids, the second key's class as objsubid 2.
    const holder = await this.db.query<{ pid: number; since: Date | null }>(
      `SELECT a.pid, a.backend_start AS since
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.pid <> pg_backend_pid()
          AND l.classid = (hashtext($1)::bigint & 4294967295)::oid AND l.objid = (hashtext($2)::bigint & 4294967295)::oid`,
      key,
    );
    const row = holder.rows[0];
    const who =
      row === undefined
        ? 'another session'
        : `PostgreSQL backend ${row.pid}${row.since ? `, connected at ${row.since.toISOString()}` : ''}`;
    throw new TransientError(
      `state_table ${table.schema}.${table.table}: another load with state_id ${JSON.stringify(id)} is running (${who}); two runs of one pipeline at once would load the same records twice: let it finish, or give each pipeline its own state_id`,
    );
  }

  async readState(table: TableRef, id: string): Promise<unknown> {
    const exists = await this.db.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [qualified(table)]);
    if (exists.rows[0]?.found == null) return undefined;
    const result = await this.db.query<{ value: string }>(`SELECT value::text AS value FROM ${qualified(table)} WHERE id = $1`, [id]);
    const text = result.rows[0]?.value;
    return text === undefined ? undefined : parseJson(text);
  }
}
