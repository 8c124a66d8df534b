// target-duckdb's config: the kit's shared settings plus where the database file lives.
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { baseConfigSchema, defaultWorkerThreads } from '@tapline/target-kit';
import { z } from 'zod';

export const DEFAULT_PATH = 'warehouse.duckdb';
export const DEFAULT_LOCK_TIMEOUT_SECONDS = 300;

// A plain object schema (no transform) so the kit can list its keys for --about and unknown-key
// warnings; `databasePath` resolves the alias.
export const duckdbConfigSchema = baseConfigSchema.extend({
  path: z
    .string()
    .min(1)
    .optional()
    .describe(
      `The DuckDB database file, created with its folder when missing (default ${DEFAULT_PATH}); ":memory:" for a throw-away database`,
    ),
  filepath: z.string().min(1).optional().describe('Alias of path (the jwills/target-duckdb spelling)'),
  memory_limit: z
    .string()
    .regex(/^\d+(\.\d+)?\s*[KMGT]i?B$/i, 'expected a size such as "256MB" or "2GiB"')
    .optional()
    .describe(
      "DuckDB's memory_limit for this run; DuckDB spills beyond it. Default: sized to the widest table loaded, 64MB + 0.25MB a column (69MB for 21 columns, 272MB for 831)",
    ),
  default_target_schema: z.string().min(1).optional().describe('Schema every stream lands in (default main)'),
  lock_timeout_seconds: z
    .number()
    .min(0)
    .optional()
    .describe(
      `Seconds to wait, retrying with backoff, while another process (a notebook, even read-only, or another run) holds the database file, before stopping with exit 4 (default ${DEFAULT_LOCK_TIMEOUT_SECONDS}; 0: do not wait)`,
    ),
  publish_snapshot: z
    .union([z.boolean(), z.string().min(1)])
    .optional()
    .describe(
      'A read-only copy of the database for notebooks, replaced atomically after each run that committed: true (the default) writes <file>.snapshot.duckdb next to the file, a path writes there (same file system as the database), false writes none',
    ),
  threads: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("DuckDB's worker threads (default: the cores not taken by the target's main thread and its encode workers, at least 1)"),
});

export type DuckDBTargetConfig = z.output<typeof duckdbConfigSchema> & {
  /** Set by `duckdbWarehouse.givingWay` (tapline serve's drain), never read from a config file: open.ts `giveWay`. */
  readonly giveWay?: boolean;
};

/**
 * DuckDB's threads when the config does not say: the cores the target's own threads leave free.
 * Measured on 2 cores, one DuckDB thread loaded 1M bench records in 8.9-9.3 s against 9.6-10.1 s
 * with two, which took the core the parsing thread needed.
 */
export function duckdbThreads(config: Pick<DuckDBTargetConfig, 'threads' | 'worker_threads'>): number {
  return config.threads ?? Math.max(1, availableParallelism() - 1 - (config.worker_threads ?? defaultWorkerThreads()));
}

/** The database file a config names: `path`, else `filepath`, else the default. */
export function databasePath(config: Pick<DuckDBTargetConfig, 'path' | 'filepath'>): string {
  return config.path ?? config.filepath ?? DEFAULT_PATH;
}

/**
 * The snapshot file a config publishes (README, "Notebooks"), or null: `warehouse.duckdb` gets
 * `warehouse.snapshot.duckdb` beside it. None for `:memory:` or a URL (`md:`, `s3://`).
 */
export function snapshotPath(config: Pick<DuckDBTargetConfig, 'path' | 'filepath' | 'publish_snapshot'>): string | null {
  const database = databasePath(config);
  const publish = config.publish_snapshot ?? true;
  if (publish === false || /^:memory:|^[a-z][a-z0-9+.-]+:/i.test(database)) return null;
  if (typeof publish === 'string') return publish;
  const name = basename(database);
  const stem = name.endsWith('.duckdb') ? name.slice(0, -'.duckdb'.length) : name;
  return join(dirname(database), `${stem}.snapshot.duckdb`);
}
