// Connections to the two warehouses, read from a target's config, and what differs between them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import pg from 'pg';
import { targetPackage, type Warehouse } from './plugins.js';

/** Runs SQL against one warehouse; parameters are written `$1`, `$2` in both dialects. */
export interface WarehouseSession {
  readonly kind: Warehouse;
  /** The schema the target loads into (its `default_target_schema`). */
  readonly schema: string;
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  tableExists(schema: string, table: string): Promise<boolean>;
  /**
   * A schema's or table's name in SQL, each part quoted. In DuckDB it carries the catalog when the
   * schema is named like it (DuckDB names the catalog after the file: in analytics.duckdb,
   * `analytics.t` is ambiguous once a schema analytics exists).
   */
  qualify(...names: string[]): string;
  close(): Promise<void>;
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
  { create = true }: { create?: boolean } = {},
): Promise<WarehouseSession | undefined> {
  const schema = defaultSchema(kind, config);
  if (kind === 'duckdb') {
    const file = duckdbPath(config, cwd);
    if (!create && file !== ':memory:' && !existsSync(file)) return undefined;
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    const catalog = (await connection.runAndReadAll('SELECT current_database()')).getRowsJS()[0]![0] as string;
    return duckdbSession(instance, connection, schema, catalog);
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

/** DuckDB compares catalog and schema names without regard to ASCII case. */
const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function duckdbSession(instance: DuckDBInstance, connection: DuckDBConnection, schema: string, catalog: string): WarehouseSession {
  return {
    kind: 'duckdb',
    schema,
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
    async tableExists(schemaName, table) {
      const result = await client.query(
        `SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`,
        [schemaName, table],
      );
      return (result.rowCount ?? 0) > 0;
    },
    async close() {
      await client.end();
    },
  };
}
