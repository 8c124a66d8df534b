// The warehouse a target config points at, opened through the target package's own session: the
// runner holds no database driver, and what differs between PostgreSQL and DuckDB stays there.

import { duckdbPlace } from '@tapline/target-duckdb/place';
import type { WarehousePlace, WarehouseSession } from '@tapline/target-kit';
import { postgresPlace } from '@tapline/target-postgres/place';
import type { Warehouse } from './plugins.js';
import { checkTargetConfig, targetLibrary, type WaitLog } from './target-packages.js';

export type { WarehouseSession } from '@tapline/target-kit';
export type { WaitLog } from './target-packages.js';

/** Where each warehouse's configs point, read without loading its driver (for plans: identity, default schema). */
export const PLACES: Record<Warehouse, WarehousePlace> = { duckdb: duckdbPlace, postgres: postgresPlace };

/** An identifier in SQL, quoted alike in PostgreSQL and DuckDB. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export interface OpenOptions {
  /** false: answer `missing` rather than create a warehouse that is not there yet (a DuckDB file). */
  create?: boolean;
  /** Hears that opening waits for another process's lock (a DuckDB file a notebook holds). */
  log?: WaitLog;
  /** Where a target config key was written, for errors (default: `target config key "x"`). */
  describeKey?: (key: string) => string;
}

export type Opened = { session: WarehouseSession; missing?: undefined } | { session?: undefined; missing: string };

/**
 * Opens the warehouse a target config (as the project wrote it, relative names meaning the project
 * folder `cwd`) points at; with `create: false`, one that does not exist yet is `missing`, named.
 */
export async function openWarehouse(
  kind: Warehouse,
  config: Record<string, unknown>,
  cwd: string,
  { create = true, log, describeKey = (key) => `target config key "${key}"` }: OpenOptions = {},
): Promise<Opened> {
  const library = await targetLibrary(kind);
  const parsed = checkTargetConfig(library, library.warehouse.inFolder(config, cwd), describeKey);
  if (!create && !library.warehouse.exists(parsed)) return { missing: library.warehouse.describe(parsed) };
  return { session: await library.warehouse.open(parsed, log) };
}
