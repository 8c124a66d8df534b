// A DuckDB session: DDL, bulk load through a spooled JSON file into staging, one set-based merge per batch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parseJson } from '@tapline/singer';
import {
  LoadError,
  META,
  type ColumnDef,
  type ColumnKind,
  type DialectSession,
  type ExistingTable,
  type RowBatch,
  type TableRef,
} from '@tapline/target-kit';
import { spoolRows } from './spool.js';
import { ident, literal, tableName } from './sql.js';
import { DECIMAL_COMMENT, kindOfColumn, SQL_TYPE } from './types.js';

const STAGE = ident('__tapline_stage');

/** Open the database file; a file locked by another process gets a sentence, not a stack. */
export async function openDuckDBSession(path: string, memoryLimit: string): Promise<DuckDBSession> {
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, { memory_limit: memoryLimit });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const holder = /Conflicting lock is held in (.*?)(?: \(PID (\d+)\))?(?:\.|$| by)/.exec(message);
    if (/lock/i.test(message)) {
      const who = holder ? `${holder[1]}${holder[2] ? ` (PID ${holder[2]})` : ''}` : 'another process';
      throw new LoadError(
        `the DuckDB file ${path} is locked by ${who}: DuckDB allows one writing process at a time; close that process (a notebook connection, another target run) and retry`,
      );
    }
    throw new LoadError(`cannot open the DuckDB file ${path}: ${firstLine(message)}`);
  }
  const connection = await instance.connect();
  // Timestamps without a zone mean UTC (the kit's cell contract), whatever the machine's zone.
  await connection.run(`SET TimeZone = 'UTC'`);
  return new DuckDBSession(instance, connection);
}

export class DuckDBSession implements DialectSession {
  private readonly spoolDir = mkdtempSync(join(tmpdir(), 'tapline-duckdb-'));
  private spoolCount = 0;

  private readonly connection: DuckDBConnection;

  constructor(
    private readonly instance: DuckDBInstance,
    connection: DuckDBConnection,
  ) {
    this.connection = process.env.TAPLINE_DUCKDB_TRACE ? traced(connection) : connection;
  }

  async begin(): Promise<void> {
    await this.connection.run('BEGIN TRANSACTION');
  }

  async commit(): Promise<void> {
    await this.connection.run('COMMIT');
  }

  async rollback(): Promise<void> {
    await this.connection.run('ROLLBACK').catch(() => {});
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
    rmSync(this.spoolDir, { recursive: true, force: true });
  }

  async ensureSchema(schema: string): Promise<void> {
    await this.connection.run(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
  }

  async describeTable(table: TableRef): Promise<ExistingTable | null> {
    const columns = await this.connection.runAndReadAll(
      `SELECT column_name, data_type, comment FROM duckdb_columns()
       WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index`,
      [table.schema, table.table],
    );
    const rows = columns.getRowsJS() as [string, string, string | null][];
    if (rows.length === 0) return null;
    const constraints = await this.connection.runAndReadAll(
      `SELECT constraint_column_names FROM duckdb_constraints()
       WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 AND constraint_type = 'PRIMARY KEY'`,
      [table.schema, table.table],
    );
    const primaryKey = (constraints.getRowsJS()[0]?.[0] as string[] | undefined) ?? [];
    return {
      columns: rows.map(([name, sqlType, comment]) => ({ name, sqlType, kind: kindOfColumn(sqlType, comment) })),
      primaryKey,
    };
  }

  /**
   * No physical PRIMARY KEY: DuckDB cannot ALTER a column that an index covers, and the merge
   * enforces uniqueness by key anyway (README, "Keys").
   */
  async createTable(table: TableRef, columns: readonly ColumnDef[], _primaryKey: readonly string[]): Promise<void> {
    const defs = columns.map((column) => `${ident(column.name)} ${SQL_TYPE[column.kind]}`);
    await this.connection.run(`CREATE TABLE ${tableName(table)} (${defs.join(', ')})`);
    for (const column of columns) await this.markDecimal(table, column);
  }

  private async markDecimal(table: TableRef, column: ColumnDef): Promise<void> {
    if (column.kind !== 'decimal') return;
    await this.connection.run(`COMMENT ON COLUMN ${tableName(table)}.${ident(column.name)} IS ${literal(DECIMAL_COMMENT)}`);
  }

  async dropTable(table: TableRef): Promise<void> {
    await this.connection.run(`DROP TABLE IF EXISTS ${tableName(table)}`);
  }

  async addColumn(table: TableRef, column: ColumnDef): Promise<void> {
    await this.connection.run(`ALTER TABLE ${tableName(table)} ADD COLUMN ${ident(column.name)} ${SQL_TYPE[column.kind]}`);
    await this.markDecimal(table, column);
  }

  async alterColumnType(table: TableRef, column: ColumnDef, from: ColumnKind): Promise<void> {
    const name = ident(column.name);
    // A plain cast would parse text as JSON; to_json keeps every old value as a JSON value instead.
    const using = column.kind === 'json' && from !== 'json' ? ` USING to_json(${name})` : '';
    try {
      await this.connection.run(`ALTER TABLE ${tableName(table)} ALTER COLUMN ${name} TYPE ${SQL_TYPE[column.kind]}${using}`);
      await this.markDecimal(table, column);
    } catch (error) {
      throw new LoadError(
        `cannot widen column ${column.name} of ${table.schema}.${table.table} from ${from} to ${column.kind}: ${duckdbMessage(error)}`,
      );
    }
  }

  async writeBatch(batch: RowBatch): Promise<void> {
    if (batch.rows.length === 0) return;
    const file = join(this.spoolDir, `batch-${this.spoolCount++}.jsonl`);
    await spoolRows(file, batch.rows);
    try {
      const source = stagedSelect(batch.columns, file);
      const target = tableName(batch.table);
      const columnList = batch.columns.map((column) => ident(column.name)).join(', ');
      if (batch.mode === 'append' || batch.tableIsNew) {
        await this.run(batch, `INSERT INTO ${target} (${columnList}) ${source}`, file);
      } else {
        await this.run(batch, `CREATE OR REPLACE TEMP TABLE ${STAGE} AS ${source}`, file);
        await this.merge(batch, target, columnList);
        await this.connection.run(`DROP TABLE ${STAGE}`);
      }
    } finally {
      rmSync(file, { force: true });
    }
  }

  /**
   * Rows already unique by key (the kit deduplicated, last wins): update the matching rows
   * column by column (columns outside the batch keep their values), then insert the others.
   */
  private async merge(batch: RowBatch, target: string, columnList: string): Promise<void> {
    const on = batch.key.map((key) => `t.${ident(key)} IS NOT DISTINCT FROM s.${ident(key)}`).join(' AND ');
    const keys = new Set(batch.key);
    const set = batch.columns
      .filter((column) => !keys.has(column.name))
      .map((column) => `${ident(column.name)} = s.${ident(column.name)}`);
    const values = batch.columns.map((column) => `s.${ident(column.name)}`).join(', ');
    const matched = set.length > 0 ? `WHEN MATCHED THEN UPDATE SET ${set.join(', ')} ` : '';
    await this.connection.run(
      `MERGE INTO ${target} AS t USING ${STAGE} AS s ON ${on} ${matched}WHEN NOT MATCHED THEN INSERT (${columnList}) VALUES (${values})`,
    );
  }

  /** Run a statement that reads the spooled rows; a value DuckDB refuses is traced to its input line and column. */
  private async run(batch: RowBatch, sql: string, file: string): Promise<void> {
    try {
      await this.connection.run(sql);
    } catch (error) {
      throw await this.explainLoadError(batch, file, error);
    }
  }

  private async explainLoadError(batch: RowBatch, file: string, error: unknown): Promise<LoadError> {
    const where = `${batch.table.schema}.${batch.table.table}`;
    const lines = batch.lines.length > 0 ? `input lines ${batch.lines[0]}-${batch.lines[batch.lines.length - 1]}` : 'this batch';
    // The failed statement aborted the transaction, so the spooled file is examined on a connection of its own.
    const probe = await this.instance.connect();
    try {
      for (const [index, column] of batch.columns.entries()) {
      const type = SQL_TYPE[column.kind];
      if (type === 'VARCHAR') continue;
      const bad = await probe
        .runAndReadAll(
          `SELECT v FROM (SELECT json_extract_string(json, '$[${index}]') AS v FROM read_ndjson_objects(${literal(file)}))
           WHERE v IS NOT NULL AND TRY_CAST(v AS ${type}) IS NULL LIMIT 1`,
        )
        .then((result) => result.getRowsJS()[0]?.[0] as string | undefined)
        .catch(() => undefined);
      if (bad === undefined) continue;
      const row = batch.rows.findIndex((cells) => cells[index] !== null && cellText(cells[index]) === bad);
      const line = row >= 0 ? batch.lines[row] : undefined;
      return new LoadError(
        `${line === undefined ? lines : `line ${line}`} (table ${where}, column ${column.name}): DuckDB cannot store ${JSON.stringify(bad)} as ${type}`,
      );
      }
    } finally {
      probe.closeSync();
    }
    return new LoadError(`${lines} (table ${where}): DuckDB refused the batch: ${duckdbMessage(error)}`);
  }

  async activateVersion(table: TableRef, version: bigint, hard: boolean): Promise<void> {
    const old = `(${ident(META.tableVersion)} < ${version.toString()} OR ${ident(META.tableVersion)} IS NULL)`;
    if (hard) {
      await this.connection.run(`DELETE FROM ${tableName(table)} WHERE ${old}`);
    } else {
      await this.connection.run(
        `UPDATE ${tableName(table)} SET ${ident(META.deletedAt)} = now() WHERE ${old} AND ${ident(META.deletedAt)} IS NULL`,
      );
    }
  }

  async deleteMarkedRows(table: TableRef): Promise<void> {
    await this.connection.run(`DELETE FROM ${tableName(table)} WHERE ${ident(META.deletedAt)} IS NOT NULL`);
  }

  async ensureStateTable(table: TableRef): Promise<void> {
    await this.connection.run(
      `CREATE TABLE IF NOT EXISTS ${tableName(table)} (id VARCHAR PRIMARY KEY, value JSON, updated_at TIMESTAMPTZ)`,
    );
  }

  async writeState(table: TableRef, id: string, valueJson: string): Promise<void> {
    await this.connection.run(
      `INSERT INTO ${tableName(table)} (id, value, updated_at) VALUES ($1, CAST($2 AS JSON), now())
       ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [id, valueJson],
    );
  }

  async readState(table: TableRef, id: string): Promise<unknown> {
    if ((await this.describeTable(table)) === null) return undefined;
    const result = await this.connection.runAndReadAll(`SELECT CAST(value AS VARCHAR) FROM ${tableName(table)} WHERE id = $1`, [id]);
    const text = result.getRowsJS()[0]?.[0] as string | null | undefined;
    return text === undefined || text === null ? undefined : parseJson(text);
  }
}

/**
 * SELECT the spooled rows with their column types. Each line is a JSON array; one
 * `json_extract_string` call per line pulls every cell as text, and a CAST per column turns it
 * into the column's type exactly (DuckDB's JSON reader would read numbers as doubles first).
 */
function stagedSelect(columns: readonly ColumnDef[], file: string): string {
  const paths = columns.map((_, index) => `'$[${index}]'`).join(', ');
  const casts = columns.map((column, index) => {
    const type = SQL_TYPE[column.kind];
    const cell = `c[${index + 1}]`;
    return `${type === 'VARCHAR' ? cell : `CAST(${cell} AS ${type})`} AS ${ident(column.name)}`;
  });
  return `SELECT ${casts.join(', ')} FROM (SELECT json_extract_string(json, [${paths}]) AS c FROM read_ndjson_objects(${literal(file)}))`;
}

function cellText(cell: unknown): string {
  return typeof cell === 'string' ? cell : String(cell);
}

function duckdbMessage(error: unknown): string {
  return firstLine(error instanceof Error ? error.message : String(error));
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** TAPLINE_DUCKDB_TRACE=1: log each statement's duration to stderr (for tuning the load path). */
function traced(connection: DuckDBConnection): DuckDBConnection {
  const time = <T>(sql: string, run: () => Promise<T>) => async () => {
    const start = performance.now();
    try {
      return await run();
    } finally {
      process.stderr.write(`TRACE ${Math.round(performance.now() - start)}ms ${sql.replace(/\s+/g, ' ').slice(0, 100)}\n`);
    }
  };
  return new Proxy(connection, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if ((property === 'run' || property === 'runAndReadAll') && typeof value === 'function') {
        return (sql: string, ...rest: unknown[]) => time(sql, () => (value as (...a: unknown[]) => Promise<unknown>).call(target, sql, ...rest))();
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
