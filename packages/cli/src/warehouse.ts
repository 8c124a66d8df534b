// Connections to the two warehouses, read from a target's config, and what differs between them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import pg from 'pg';
import type { Warehouse } from './plugins.js';

/** Runs SQL against one warehouse; parameters are written `$1`, `$2` in both dialects. */
export interface WarehouseSession {
  readonly kind: Warehouse;
  /** The schema the target loads into (its `default_target_schema`). */
  readonly schema: string;
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  tableExists(schema: string, table: string): Promise<boolean>;
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
    return duckdbSession(instance, connection, schema);
  }
  const client = new pg.Client(postgresClientConfig(config));
  await client.connect();
  return postgresSession(client, schema);
}

/** target-postgres settings → pg client settings; unset fields fall back to PG* variables (pg does that). */
export function postgresClientConfig(config: Record<string, unknown>): pg.ClientConfig {
  if (typeof config.connection_string === 'string') return { connectionString: config.connection_string };
  // MeltanoLabs' spelling, without its +driver (as target-postgres reads it).
  if (typeof config.sqlalchemy_url === 'string') {
    return { connectionString: config.sqlalchemy_url.replace(/^(postgres(?:ql)?)\+[\w-]+:/i, '$1:') };
  }
  const pick = (key: string) => (config[key] === undefined ? undefined : String(config[key]));
  return {
    host: pick('host'),
    port: config.port === undefined ? undefined : Number(config.port),
    user: pick('user'),
    password: pick('password'),
    database: pick('database') ?? pick('dbname'),
  };
}

function duckdbSession(instance: DuckDBInstance, connection: DuckDBConnection, schema: string): WarehouseSession {
  return {
    kind: 'duckdb',
    schema,
    async query(sql, params) {
      const reader = await connection.runAndReadAll(sql, params as never);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    },
    async tableExists(schemaName, table) {
      const reader = await connection.runAndReadAll(
        `SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`,
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
