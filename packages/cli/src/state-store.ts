// A pipeline's state, kept in the warehouse table the target writes (`state_table`), read and reset here.
import { existsSync } from 'node:fs';
import { stringifyJson } from '@tapline/singer';
import type { BaseTargetConfig, TableRef } from '@tapline/target-kit';
import type { AccountBinding } from './accounts.js';
import { ExitCode, TaplineError } from './errors.js';
import type { Warehouse } from './plugins.js';
import { checkTargetConfig, stateTableOf, type TargetLibrary, targetLibrary, targetSession } from './target-packages.js';
import { duckdbPath, openWarehouse, type WaitLog } from './warehouse.js';

/**
 * The table contract shared with target-postgres and target-duckdb: one row per pipeline,
 * `id text primary key, value json(b), updated_at timestamptz`, upserted by the target in the same
 * transaction as the records the state covers. `state_table` may be `schema.table`; otherwise it
 * lives in the target's default schema. Names are the target's own (normalised: `MyState` is
 * `my_state`), resolved by the target package itself.
 */
export interface StateLocation {
  kind: Warehouse;
  config: Record<string, unknown>;
  cwd: string;
  stateTable: string;
  /** Where a target config key was written, for errors (default: `target config key "x"`). */
  describeKey?: (key: string) => string;
  /** Where opening the warehouse says it waits for another process's lock (a DuckDB file a notebook holds). */
  log?: WaitLog;
}

interface Resolved {
  library: TargetLibrary;
  config: BaseTargetConfig;
  table: TableRef;
  /** For DuckDB: whether the database file exists (a first run has none, and reading must not create it). */
  exists: boolean;
}

/** The target's parsed config for pipeline `id` and the state table it names, as the target resolves them. */
async function resolve(location: StateLocation, id: string): Promise<Resolved> {
  const library = await targetLibrary(location.kind);
  const raw: Record<string, unknown> = { ...location.config, state_table: location.stateTable, state_id: id };
  let exists = true;
  if (location.kind === 'duckdb') {
    // Relative to the project, as the target (started in the project folder) resolves it.
    raw.path = duckdbPath(location.config, location.cwd);
    exists = raw.path !== ':memory:' && existsSync(raw.path as string);
  }
  const config = checkTargetConfig(library, raw, location.describeKey ?? ((key) => `target config key "${key}"`));
  return { library, config, table: stateTableOf(library, config), exists };
}

const failed = (doing: string, error: unknown): TaplineError =>
  error instanceof TaplineError ? error : new TaplineError(`Cannot ${doing}: ${(error as Error).message}`, ExitCode.stateFailed);

/**
 * The stored state of pipeline `id` (numbers exact: big integers are LosslessNumbers), or undefined
 * when there is none yet. A stored `null` (a tap's `STATE` with a null value) is returned as null:
 * the target checks the stored value is still the one read, and null is not "none".
 */
export async function readState(location: StateLocation, id: string): Promise<unknown> {
  const { library, config, table, exists } = await resolve(location, id);
  if (!exists) return undefined;
  const doing = `read the stored state of pipeline ${id} from ${location.kind}`;
  const session = await targetSession(library, config, doing, location.log);
  try {
    return await session.readState(table, id);
  } catch (error) {
    throw failed(doing, error);
  } finally {
    // DuckDB allows one writing process per file: close before the target opens it.
    await session.close();
  }
}

/**
 * Replaces the stored state of pipeline `id`, creating the table as the target does. On
 * PostgreSQL it first takes the pipeline's lock, so a running load is not overwritten under it.
 */
export async function writeState(location: StateLocation, id: string, value: unknown): Promise<void> {
  const { library, config, table } = await resolve(location, id);
  const doing = `write the state of pipeline ${id} to ${location.kind}`;
  const session = await targetSession(library, config, doing, location.log);
  try {
    await session.lockState?.(table, id);
    await session.begin();
    await session.ensureSchema(table.schema);
    await session.ensureStateTable(table);
    await session.writeState(table, id, stringifyJson(value));
    await session.commit();
  } catch (error) {
    await session.rollback().catch(() => {});
    throw failed(doing, error);
  } finally {
    await session.close();
  }
}

/** Forgets pipeline `id`'s state: its next run starts from the beginning. Answers whether there was one. */
export async function clearState(location: StateLocation, id: string): Promise<boolean> {
  const { library, config, table, exists } = await resolve(location, id);
  if (!exists) return false;
  const doing = `clear the state of pipeline ${id} in ${location.kind}`;
  // PostgreSQL: hold the pipeline's lock while deleting, so a running load is not cleared under it.
  // (A DuckDB file has one writer: opening it below is the lock.)
  const lock = location.kind === 'postgres' ? await targetSession(library, config, doing, location.log) : undefined;
  try {
    await lock?.lockState?.(table, id);
    const session = await openWarehouse(location.kind, config as Record<string, unknown>, location.cwd, {
      create: false,
      ...(location.log === undefined ? {} : { log: location.log }),
    });
    if (!session) return false;
    try {
      if (!(await session.tableExists(table.schema, table.table))) return false;
      const qualified = session.qualify(table.schema, table.table);
      const before = await session.query(`SELECT 1 AS found FROM ${qualified} WHERE id = $1`, [id]);
      await session.query(`DELETE FROM ${qualified} WHERE id = $1`, [id]);
      // The next run starts fresh, so it binds to whichever account its tap then reads.
      const bindings = bindingTable(table);
      if (await session.tableExists(bindings.schema, bindings.table)) {
        await session.query(`DELETE FROM ${session.qualify(bindings.schema, bindings.table)} WHERE pipeline = $1`, [id]);
      }
      return before.length > 0;
    } finally {
      await session.close();
    }
  } catch (error) {
    throw failed(doing, error);
  } finally {
    await lock?.close();
  }
}

/** The table beside the state table that names the account each pipeline's state was read from (accounts.ts). */
const bindingTable = (state: TableRef): TableRef => ({ schema: state.schema, table: `${state.table}_accounts` });

const BINDING_COLUMNS = ['account', 'vendor', 'base_url', 'credentials'] as const;

/** The account pipeline `id`'s state is bound to, or undefined when none is recorded. */
export async function readBinding(location: StateLocation, id: string): Promise<AccountBinding | undefined> {
  const { table, exists } = await resolve(location, id);
  if (!exists) return undefined;
  const bindings = bindingTable(table);
  const session = await openBindings(location, `read the account of pipeline ${id}`, false);
  if (!session) return undefined;
  try {
    if (!(await session.tableExists(bindings.schema, bindings.table))) return undefined;
    const [row] = await session.query(
      `SELECT ${BINDING_COLUMNS.join(', ')} FROM ${session.qualify(bindings.schema, bindings.table)} WHERE pipeline = $1`,
      [id],
    );
    return row as AccountBinding | undefined;
  } catch (error) {
    throw failed(`read the account of pipeline ${id} from ${location.kind}`, error);
  } finally {
    await session.close();
  }
}

/** Binds pipeline `id`'s state to an account (replacing any earlier binding). */
export async function writeBinding(location: StateLocation, id: string, binding: AccountBinding): Promise<void> {
  const { table } = await resolve(location, id);
  const bindings = bindingTable(table);
  const session = (await openBindings(location, `bind pipeline ${id} to its account`, true))!;
  const qualified = session.qualify(bindings.schema, bindings.table);
  try {
    await session.query(`CREATE SCHEMA IF NOT EXISTS ${session.qualify(bindings.schema)}`);
    await session.query(
      `CREATE TABLE IF NOT EXISTS ${qualified} (pipeline VARCHAR PRIMARY KEY, account VARCHAR NOT NULL, vendor VARCHAR NOT NULL, ` +
        `base_url VARCHAR, credentials VARCHAR, bound_at TIMESTAMPTZ NOT NULL)`,
    );
    await session.query(
      `INSERT INTO ${qualified} (pipeline, ${BINDING_COLUMNS.join(', ')}, bound_at) VALUES ($1, $2, $3, $4, $5, current_timestamp) ` +
        `ON CONFLICT (pipeline) DO UPDATE SET ${BINDING_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, bound_at = EXCLUDED.bound_at`,
      [id, binding.account, binding.vendor, binding.base_url, binding.credentials],
    );
  } catch (error) {
    throw failed(`bind pipeline ${id} to its account in ${location.kind}`, error);
  } finally {
    await session.close();
  }
}

async function openBindings(location: StateLocation, doing: string, create: boolean) {
  try {
    return await openWarehouse(location.kind, location.config, location.cwd, { create });
  } catch (error) {
    throw failed(doing, error);
  }
}
