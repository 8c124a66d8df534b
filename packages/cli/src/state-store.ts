// A pipeline's state, kept in the warehouse table the target writes (`state_table`), read and reset here.
import { stringifyJson } from '@tapline/singer';
import type { BaseTargetConfig, TableRef, WarehouseSession } from '@tapline/target-kit';
import type { AccountBinding } from './accounts.js';
import { ExitCode, TaplineError } from './errors.js';
import type { Warehouse } from './plugins.js';
import { checkTargetConfig, stateTableOf, type TargetLibrary, targetLibrary, targetSession, type WaitLog } from './target-packages.js';

/**
 * The table contract shared with target-postgres and target-duckdb: one row per pipeline,
 * `id text primary key, value json(b), updated_at timestamptz`, upserted by the target in the same
 * transaction as the records the state covers. `state_table` may be `schema.table`; otherwise it
 * lives in the target's default schema. Names are the target's own (normalised: `MyState` is
 * `my_state`), resolved by the target package itself. Beside it, `<state table>_accounts` binds
 * each pipeline to the account its state was read from (accounts.ts); the target packages keep
 * both (on PostgreSQL as knex migrations).
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
  /** Whether the warehouse exists (a first run into a DuckDB file has none, and reading must not create it). */
  exists: boolean;
}

/** The target's parsed config for pipeline `id` and the state table it names, as the target resolves them. */
async function resolve(location: StateLocation, id: string): Promise<Resolved> {
  const library = await targetLibrary(location.kind);
  // Relative names mean the project folder, as the target (started there) reads them.
  const raw = library.warehouse.inFolder({ ...location.config, state_table: location.stateTable, state_id: id }, location.cwd);
  const config = checkTargetConfig(library, raw, location.describeKey ?? ((key) => `target config key "${key}"`));
  return { library, config, table: stateTableOf(library, config), exists: library.warehouse.exists(config) };
}

/** Runs `work` on a session of the target's own, closed after it (DuckDB allows one writing process per file: the target opens it next). */
async function withSession<T>(
  location: StateLocation,
  resolved: Resolved,
  doing: string,
  work: (session: WarehouseSession) => Promise<T>,
): Promise<T> {
  const session = await targetSession(resolved.library, resolved.config, doing, location.log);
  try {
    return await work(session);
  } catch (error) {
    throw failed(doing, error);
  } finally {
    await session.close();
  }
}

const failed = (doing: string, error: unknown): TaplineError =>
  error instanceof TaplineError ? error : new TaplineError(`Cannot ${doing}: ${(error as Error).message}`, ExitCode.stateFailed);

/**
 * The stored state of pipeline `id` (numbers exact: big integers are LosslessNumbers), or undefined
 * when there is none yet. A stored `null` (a tap's `STATE` with a null value) is returned as null:
 * the target checks the stored value is still the one read, and null is not "none".
 */
export async function readState(location: StateLocation, id: string): Promise<unknown> {
  const resolved = await resolve(location, id);
  if (!resolved.exists) return undefined;
  const doing = `read the stored state of pipeline ${id} from ${location.kind}`;
  return withSession(location, resolved, doing, (session) => session.readState(resolved.table, id));
}

/**
 * Replaces the stored state of pipeline `id`, creating the table as the target does. On
 * PostgreSQL it first takes the pipeline's lock, so a running load is not overwritten under it.
 */
export async function writeState(location: StateLocation, id: string, value: unknown): Promise<void> {
  const resolved = await resolve(location, id);
  const { table } = resolved;
  await withSession(location, resolved, `write the state of pipeline ${id} to ${location.kind}`, async (session) => {
    await session.lockState?.(table, id);
    try {
      await session.begin();
      await session.ensureSchema(table.schema);
      await session.ensureStateTable(table);
      await session.writeState(table, id, stringifyJson(value));
      await session.commit();
    } catch (error) {
      await session.rollback();
      throw error;
    }
  });
}

/** Forgets pipeline `id`'s state (and its account binding): its next run starts from the beginning. Answers whether there was one. */
export async function clearState(location: StateLocation, id: string): Promise<boolean> {
  const resolved = await resolve(location, id);
  if (!resolved.exists) return false;
  const doing = `clear the state of pipeline ${id} in ${location.kind}`;
  return withSession(location, resolved, doing, (session) => session.clearState(resolved.table, id));
}

/**
 * The account pipeline `id`'s state is bound to, or undefined when none is recorded. Read as a run
 * starts, so Tapline's own tables are brought up to date first (an older Tapline's are migrated).
 */
export async function readBinding(location: StateLocation, id: string): Promise<AccountBinding | undefined> {
  const resolved = await resolve(location, id);
  if (!resolved.exists) return undefined;
  return withSession(location, resolved, `read the account of pipeline ${id} from ${location.kind}`, async (session) => {
    await session.prepareOwnTables(resolved.table);
    return session.readAccountBinding(resolved.table, id);
  });
}

/** Binds pipeline `id`'s state to an account (replacing any earlier binding). */
export async function writeBinding(location: StateLocation, id: string, binding: AccountBinding): Promise<void> {
  const resolved = await resolve(location, id);
  await withSession(location, resolved, `bind pipeline ${id} to its account in ${location.kind}`, async (session) => {
    await session.prepareOwnTables(resolved.table);
    await session.writeAccountBinding(resolved.table, id, binding);
  });
}
