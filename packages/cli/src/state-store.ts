// A pipeline's state, kept in the warehouse table the target writes (`state_table`), read and reset here.
import { TaplineError, ExitCode } from './errors.js';
import { existsSync } from 'node:fs';
import { duckdbPath, openWarehouse, quoteIdent, type WarehouseSession } from './warehouse.js';
import type { Warehouse } from './plugins.js';

/**
 * The table contract shared with target-postgres and target-duckdb: one row per pipeline,
 * `id text primary key, value json(b), updated_at timestamptz`, upserted by the target in the same
 * transaction as the records the state covers. `state_table` may be `schema.table`; otherwise it
 * lives in the target's default schema.
 */
export interface StateLocation {
  kind: Warehouse;
  config: Record<string, unknown>;
  cwd: string;
  stateTable: string;
}

export function stateTableName(location: StateLocation, session: WarehouseSession): { schema: string; table: string } {
  const dot = location.stateTable.indexOf('.');
  return dot > 0
    ? { schema: location.stateTable.slice(0, dot), table: location.stateTable.slice(dot + 1) }
    : { schema: session.schema, table: location.stateTable };
}

async function withSession<T>(
  location: StateLocation,
  create: boolean,
  use: (session: WarehouseSession) => Promise<T>,
  fallback: T,
): Promise<T> {
  let session: WarehouseSession | undefined;
  try {
    session = await openWarehouse(location.kind, location.config, location.cwd, { create });
  } catch (error) {
    throw new TaplineError(
      `Cannot open the ${location.kind} warehouse to read or write state: ${(error as Error).message}`,
      ExitCode.stateFailed,
    );
  }
  if (!session) return fallback;
  try {
    return await use(session);
  } finally {
    // DuckDB allows one writing process per file: close before the target opens it.
    await session.close();
  }
}

/**
 * The target package's own reader of its state table (readPostgresState / readDuckdbState), when
 * it is built and exports one: it resolves the table name exactly as the target's writer does.
 */
const TARGET_STATE_READERS: Record<Warehouse, [pkg: string, fn: string]> = {
  postgres: ['@tapline/target-postgres', 'readPostgresState'],
  duckdb: ['@tapline/target-duckdb', 'readDuckdbState'],
};

async function targetStateReader(kind: Warehouse): Promise<((config: unknown) => Promise<unknown>) | undefined> {
  const [pkg, fn] = TARGET_STATE_READERS[kind];
  try {
    const module = (await import(pkg)) as Record<string, unknown>;
    const reader = module[fn];
    return typeof reader === 'function' ? (reader as (config: unknown) => Promise<unknown>) : undefined;
  } catch {
    return undefined; // not built yet: read the table directly
  }
}

/** The stored state of pipeline `id`, or undefined when there is none yet. */
export async function readState(location: StateLocation, id: string): Promise<unknown> {
  const reader = await targetStateReader(location.kind);
  if (reader) {
    // A missing DuckDB file means a first run; do not let the reader create it.
    if (location.kind === 'duckdb' && !existsSync(duckdbPath(location.config, location.cwd))) return undefined;
    const config: Record<string, unknown> = { ...location.config, state_table: location.stateTable, state_id: id };
    if (location.kind === 'duckdb') config.path = duckdbPath(location.config, location.cwd);
    try {
      const value = await reader(config);
      return value ?? undefined;
    } catch (error) {
      throw new TaplineError(
        `Cannot read the stored state of pipeline ${id} from ${location.kind}: ${(error as Error).message}`,
        ExitCode.stateFailed,
      );
    }
  }
  return withSession(
    location,
    false,
    async (session) => {
      const { schema, table } = stateTableName(location, session);
      if (!(await session.tableExists(schema, table))) return undefined;
      const rows = await session.query(
        `SELECT CAST(value AS VARCHAR) AS value FROM ${quoteIdent(schema)}.${quoteIdent(table)} WHERE id = $1`,
        [id],
      );
      const text = rows[0]?.value;
      return typeof text === 'string' ? (JSON.parse(text) as unknown) : undefined;
    },
    undefined,
  );
}

/** Replaces the stored state of pipeline `id` (creating the table as the target would). */
export async function writeState(location: StateLocation, id: string, value: unknown): Promise<void> {
  await withSession(
    location,
    true,
    async (session) => {
      const { schema, table } = stateTableName(location, session);
      const json = session.kind === 'duckdb' ? 'JSON' : 'JSONB';
      const qualified = `${quoteIdent(schema)}.${quoteIdent(table)}`;
      await session.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await session.query(
        `CREATE TABLE IF NOT EXISTS ${qualified} (id TEXT PRIMARY KEY, value ${json}, updated_at TIMESTAMPTZ)`,
      );
      await session.query(
        `INSERT INTO ${qualified} (id, value, updated_at) VALUES ($1, CAST($2 AS ${json}), now())
         ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [id, JSON.stringify(value)],
      );
    },
    undefined,
  );
}

/** Forgets pipeline `id`'s state: its next run starts from the beginning. Answers whether there was one. */
export async function clearState(location: StateLocation, id: string): Promise<boolean> {
  return withSession(
    location,
    false,
    async (session) => {
      const { schema, table } = stateTableName(location, session);
      if (!(await session.tableExists(schema, table))) return false;
      const qualified = `${quoteIdent(schema)}.${quoteIdent(table)}`;
      const before = await session.query(`SELECT 1 AS found FROM ${qualified} WHERE id = $1`, [id]);
      await session.query(`DELETE FROM ${qualified} WHERE id = $1`, [id]);
      return before.length > 0;
    },
    false,
  );
}
