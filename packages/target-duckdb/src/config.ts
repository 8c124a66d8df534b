// target-duckdb's config: the kit's shared settings plus where the database file lives.
import { baseConfigSchema } from '@tapline/target-kit';
import { z } from 'zod';

export const DEFAULT_PATH = 'warehouse.duckdb';

// A plain object schema (no transform) so the kit can list its keys for --about and unknown-key
// warnings; `databasePath` resolves the alias.
export const duckdbConfigSchema = baseConfigSchema.extend({
  path: z
    .string()
    .min(1)
    .optional()
    .describe(`The DuckDB database file, created when missing (default ${DEFAULT_PATH}); ":memory:" for a throw-away database`),
  filepath: z.string().min(1).optional().describe('Alias of path (the jwills/target-duckdb spelling)'),
  memory_limit: z
    .string()
    .regex(/^\d+(\.\d+)?\s*[KMGT]i?B$/i, 'expected a size such as "256MB" or "2GiB"')
    .default('256MB')
    .describe("DuckDB's memory_limit for this run; DuckDB spills beyond it (keeps the target's footprint flat)"),
  default_target_schema: z.string().min(1).optional().describe('Schema every stream lands in (default main)'),
});

export type DuckDBTargetConfig = z.output<typeof duckdbConfigSchema>;

/** The database file a config names: `path`, else `filepath`, else the default. */
export function databasePath(config: Pick<DuckDBTargetConfig, 'path' | 'filepath'>): string {
  return config.path ?? config.filepath ?? DEFAULT_PATH;
}
