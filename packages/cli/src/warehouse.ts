// Connections to the two warehouses, read from a target's config, and what differs between them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { ExitCode, TaplineError } from './errors.js';
import { targetPackage, type Warehouse } from './plugins.js';

/** Runs SQL against one warehouse; parameters are written `$1`, `$2` in both dialects. */
export interface WarehouseSession {
  readonly kind: Warehouse;
  /** The schema the target loads into (its `default_target_schema`). */
  readonly schema: string;
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  tableExists(schema: string, table: string): Promise<boolean>;
  /**
   * DuckDB: publish the notebooks' read-only snapshot (target-duckdb's `publish_snapshot`), after
   * changing the file outside a target run (the model's views). PostgreSQL readers need none.
   */
  publishSnapshot(): Promise<void>;
  /**
   * A schema's or table's name in SQL, each part quoted. In DuckDB it carries the catalog when the
   * schema is named like it (DuckDB names the catalog after the file: in analytics.duckdb,
   * `analytics.t` is ambiguous once a schema analytics exists).
   */
  qualify(...names: string[]): string;
  close(): Promise<void>;
}

/** Where opening a warehouse says it is waiting for another process's lock, and whom it waited for. */
export interface WaitLog {
  info(message: string): void;
  warn(message: string): void;
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Where a DuckDB target writes, resolved the way the target resolves it (relative to `cwd`). */
export function duckdbPath(config: Record<string, unknown>, cwd: string): string {
  const file = (config.path ?? config.filepath ?? 'warehouse.duckdb') as string;
  return file === ':memory:' ? file : path.resolve(cwd, file);
}

export function defaultSchema(kind: Warehouse, config: Record<string, unknown>): string {
  const schema = config.default_target_schema;
  return typeof schema === 'string' && schema ? schema : kind === 'duckdb' ? 'main' : 'public';
}

/**
 * Opens the warehouse a target config points at. For DuckDB, `create: false` answers undefined
 * when the file does not exist yet (a first run has no state), instead of creating it.
 */
export async function openWarehouse(
  kind: Warehouse,
  config: Record<string, unknown>,
  cwd: string,
  { create = true, log }: { create?: boolean; log?: WaitLog } = {},
): Promise<WarehouseSession | undefined> {
  const schema = defaultSchema(kind, config);
  if (kind === 'duckdb') {
    const file = duckdbPath(config, cwd);
    if (!create && file !== ':memory:' && !existsSync(file)) return undefined;
    // Opened as target-duckdb opens it: waiting for a notebook's lock up to lock_timeout_seconds, naming the holder.
    const duckdb = (await import(targetPackage('duckdb'))) as typeof import('@tapline/target-duckdb');
    const timeout = config.lock_timeout_seconds;
    const instance = await duckdb.openDuckDBInstance(file, {
      ...(typeof timeout === 'number' ? { lockTimeoutSeconds: timeout } : {}),
      ...(log === undefined ? {} : { log }),
    });
    const connection = await instance.connect();
    const snapshot = file === ':memory:' ? null : duckdb.snapshotPath({ path: file, publish_snapshot: snapshotSetting(config, cwd) });
    const publish = async () => {
      if (snapshot === null) return;
      try {
        await duckdb.publishSnapshot(connection, file, snapshot);
      } catch (error) {
        const reason = (error as Error).message.split('\n')[0];
        throw new TaplineError(`Cannot publish the notebooks' snapshot ${snapshot} (publish_snapshot): ${reason}.`, ExitCode.stateFailed);
      }
    };
    const catalog = (await connection.runAndReadAll('SELECT current_database()')).getRowsJS()[0]![0] as string;
    return duckdbSession(instance, connection, schema, catalog, publish);
  }
  // Read as target-postgres reads it (the connection string parsed once, by the driver's parser),
  // and named by host, port, database and user only: the settings may hold a password in any form.
  const postgres = (await import(targetPackage('postgres'))) as typeof import('@tapline/target-postgres');
  const settings = postgres.connectionSettings(config as never);
  const client = new pg.Client(settings);
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`cannot connect to PostgreSQL (${postgres.describeServer(settings)}): ${(error as Error).message}`);
  }
  return postgresSession(client, schema);
}

/** `publish_snapshot` as target-duckdb reads it, a relative path resolved against the project as the target (started there) does. */
function snapshotSetting(config: Record<string, unknown>, cwd: string): boolean | string | undefined {
  const setting = config.publish_snapshot;
  if (typeof setting === 'string') return path.resolve(cwd, setting);
  return typeof setting === 'boolean' ? setting : undefined;
}

/** DuckDB compares catalog and schema names without regard to ASCII case. */
const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function duckdbSession(
  instance: DuckDBInstance,
  connection: DuckDBConnection,
  schema: string,
  catalog: string,
  publishSnapshot: () => Promise<void>,
): WarehouseSession {
  return {
    kind: 'duckdb',
    schema,
    publishSnapshot,
    // The catalog only where a two-part name would be ambiguous: a view's body that names it stops
    // working in a copy of the file under another name (a notebook's snapshot, an ATTACH ... AS).
    qualify: (...names) => (sameName(names[0] ?? '', catalog) ? [catalog, ...names] : names).map(quoteIdent).join('.'),
    async query(sql, params) {
      const reader = await connection.runAndReadAll(sql, params as never);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    },
    async tableExists(schemaName, table) {
      const reader = await connection.runAndReadAll(
        `SELECT 1 FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = $1 AND table_name = $2`,
        [schemaName, table],
      );
      return reader.currentRowCount > 0;
    },
    async close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

function postgresSession(client: pg.Client, schema: string): WarehouseSession {
  return {
    kind: 'postgres',
    schema,
    qualify: (...names) => names.map(quoteIdent).join('.'),
    async query(sql, params) {
      return (await client.query(sql, params)).rows as Record<string, unknown>[];
    },
    async publishSnapshot() {},
    async tableExists(schemaName, table) {
      const result = await client.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`, [
        schemaName,
        table,
      ]);
      return (result.rowCount ?? 0) > 0;
    },
    async close() {
      await client.end();
    },
  };
}
