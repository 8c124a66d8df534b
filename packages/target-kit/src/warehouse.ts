// What the tapline runner does in a warehouse besides loading: Tapline's own tables beside the
// state table, and the SQL of the model. Each destination implements it on its own session, so the
// runner holds no database driver and every PostgreSQL/DuckDB difference stays in the destinations.

import type { BaseTargetConfig } from './config.js';
import type { DialectSession, RowEncoder, TableRef } from './dialect.js';
import type { Logger } from './loader.js';

/** The account a pipeline's state was read from (the runner's `<state table>_accounts` table); it holds no secret. */
export interface AccountBinding {
  /** The tap's name in tapline.yml when the state was bound. */
  account: string;
  vendor: string;
  /** The API address without user info or query, or null. */
  base_url: string | null;
  /** A keyed hash of the settings that name the account, or null. */
  credentials: string | null;
}

/** The table beside the state table naming the account each pipeline's state was read from. */
export const accountsTableOf = (state: TableRef): TableRef => ({ schema: state.schema, table: `${state.table}_accounts` });

/**
 * A destination session that also serves the runner. Outside a unit of work each statement commits
 * by itself; `clearState` and `writeAccountBinding` open and close their own.
 */
export interface WarehouseSession<E extends RowEncoder = RowEncoder> extends DialectSession<E> {
  /** The schema the target loads into: `default_target_schema`, else the database's default. */
  readonly schema: string;
  /** SQL both databases read alike; parameters are written `$1`, `$2`. Rows as plain JSON values. */
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  tableExists(table: TableRef): Promise<boolean>;
  /**
   * A schema's or table's name in SQL, each part quoted, written so that it stays unambiguous (in
   * DuckDB a schema named like the file's catalog needs the catalog in front).
   */
  qualify(...names: string[]): string;
  /** After changing the warehouse outside a load (the model's views): publish what readers see (DuckDB's notebook snapshot); else nothing. */
  publishSnapshot(): Promise<void>;
  /**
   * Create or upgrade Tapline's own tables beside `state` (the account bindings; the state table,
   * made by a load in the transaction of its first rows, is upgraded when it exists), before writing them.
   */
  prepareOwnTables(state: TableRef): Promise<void>;
  /** Forget pipeline `id`'s state and its account binding, under the pipeline's lock; answers whether there was a state. */
  clearState(state: TableRef, id: string): Promise<boolean>;
  readAccountBinding(state: TableRef, id: string): Promise<AccountBinding | undefined>;
  /** Replace pipeline `id`'s binding (call `prepareOwnTables` first). */
  writeAccountBinding(state: TableRef, id: string, binding: AccountBinding): Promise<void>;
}

/**
 * Where a target config (as a project wrote it) points, read without loading a database driver:
 * what the runner plans with before it opens anything. Each destination exports one from its
 * `/place` entry point.
 */
export interface WarehousePlace {
  /** The schema a config without `default_target_schema` loads into. */
  readonly defaultSchema: string;
  /** The config with its file names resolved against `folder` (the target, started there, resolves them so). */
  inFolder(config: Record<string, unknown>, folder: string): Record<string, unknown>;
  /** Which warehouse it is, to tell two configs apart; may hold secrets, never printed. */
  identity(config: Record<string, unknown>, folder: string): string;
  /** The identity of a warehouse one process writes at a time (a DuckDB file), which a run holds alone; else undefined. */
  heldAlone(config: Record<string, unknown>, folder: string): string | undefined;
}

/** How the runner finds and opens a destination. */
export interface Warehouse<C extends BaseTargetConfig = BaseTargetConfig> extends WarehousePlace {
  /** Whether the warehouse exists already: reading a DuckDB file that was never made must not make it. */
  exists(config: C): boolean;
  /** Where it is, for messages, with no secret: `DuckDB file at <path>`, `PostgreSQL server at <host:port, database, user>`. */
  describe(config: C): string;
  open(config: C, log?: Logger): Promise<WarehouseSession>;
  /** The PIDs of other processes waiting to write it (a DuckDB file has one writer), to let them go first; none where many write at once. */
  waitingWriters(config: C): number[];
  /**
   * The config for a process that writes often and briefly (tapline serve's drain): while it waits
   * for the warehouse itself, it lets the other waiting writers go first. Unchanged where many write at once.
   */
  givingWay(config: C): C;
}
