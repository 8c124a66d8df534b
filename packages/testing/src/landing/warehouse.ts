// Lands Singer output through the real target-duckdb / target-postgres executables into a throwaway place, and reads it back.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { withDuckDB } from '../duckdb.js';
import { createPgTestSchema, PG_URL } from '../pg.js';
import { runTargetCommand, type TargetRun } from '../target-contract/harness.js';

/** A fresh place a target loads into: a DuckDB file in a temp dir, or a PostgreSQL schema of its own. */
export interface Warehouse {
  readonly target: 'target-duckdb' | 'target-postgres';
  /** The schema tables land in: `main` for DuckDB, `t_<random>` for PostgreSQL. */
  readonly schema: string;
  /** Target config keys that point at this place. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The command that runs the target CLI. */
  readonly command: readonly string[];
  /** Feeds Singer text (or a stream, e.g. a tap process's stdout) to the target CLI, with this place's config plus `extra` (e.g. `{ hard_delete: true }`). */
  load(singer: string | NodeJS.ReadableStream, extra?: Record<string, unknown>): Promise<TargetRun>;
  /** Rows of one query: DuckDB rows as @duckdb/node-api gives them, PostgreSQL rows as `plainPgClient` does. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Removes the file or schema. */
  drop(): Promise<void>;
}

export interface WarehouseOptions {
  /** The command that runs the target; by default its bin found in node_modules above the current directory. */
  command?: readonly string[];
}

/** A fresh DuckDB file (`<tmp>/warehouse.duckdb`) loaded by target-duckdb. */
export async function duckdbWarehouse(options: WarehouseOptions = {}): Promise<Warehouse & { readonly path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tapline-landing-'));
  const path = join(dir, 'warehouse.duckdb');
  const config = { path };
  const command = options.command ?? targetCommand('target-duckdb');
  return {
    target: 'target-duckdb',
    schema: 'main',
    path,
    config,
    command,
    load: (singer, extra = {}) =>
      runTargetCommand({ config, command }, typeof singer === 'string' ? { text: singer } : { stream: singer }, extra),
    query: (sql) => withDuckDB(path, (query) => query(sql)),
    drop: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A fresh schema on the server named by PG_URL (or `url`), loaded by target-postgres. */
export async function postgresWarehouse(options: WarehouseOptions & { url?: string } = {}): Promise<Warehouse> {
  const fixture = await createPgTestSchema(options.url ?? PG_URL);
  const config = { connection_string: fixture.url, default_target_schema: fixture.schema };
  const command = options.command ?? targetCommand('target-postgres');
  return {
    target: 'target-postgres',
    schema: fixture.schema,
    config,
    command,
    load: (singer, extra = {}) =>
      runTargetCommand({ config, command }, typeof singer === 'string' ? { text: singer } : { stream: singer }, extra),
    query: async (sql) => (await fixture.client.query(sql)).rows as Record<string, unknown>[],
    drop: () => fixture.drop(),
  };
}

/**
 * `node <bin>` of a target package installed above the current directory (a connector's tests run
 * in its package folder, whose devDependencies name the targets). @tapline/testing does not depend
 * on the targets itself: they depend on it for their contract suite.
 */
export function targetCommand(name: 'target-duckdb' | 'target-postgres', from = process.cwd()): readonly string[] {
  for (let dir = from; ; dir = dirname(dir)) {
    const bin = join(dir, 'node_modules', '@tapline', name, 'bin', `${name}.js`);
    if (existsSync(bin)) return [process.execPath, bin];
    if (dirname(dir) === dir) throw new Error(`@tapline/${name} is not installed above ${from}; add it to the package's devDependencies.`);
  }
}
