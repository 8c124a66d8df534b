// target-postgres config: the kit's base settings plus how to reach the server.
import { baseConfigSchema } from '@tapline/target-kit';
import { z } from 'zod';

export const postgresConfigSchema = baseConfigSchema.extend({
  /** `postgres://user:password@host:port/database`; wins over the separate keys. */
  connection_string: z.string().min(1).optional(),
  /** MeltanoLabs target-postgres's spelling: a SQLAlchemy URL (`postgresql+psycopg://…`), its driver dropped (`connectionString`). */
  sqlalchemy_url: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().positive().optional(),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  database: z.string().min(1).optional(),
  /** Staging and long loads can take a while; 0 disables the server-side timeout for this session. */
  statement_timeout_ms: z.number().int().nonnegative().default(0),
  /**
   * Smaller than the kit's default: while one batch is COPYed the next one fills, so two batches
   * are in memory; 20,000 rows keep peak RSS near 250 MB for ~500-byte records (50,000: ~400 MB)
   * at the same speed.
   */
  batch_size_rows: z.number().int().positive().default(20_000),
});

export type PostgresConfig = z.infer<typeof postgresConfigSchema>;

/** The connection URL a config gives, if any: `connection_string`, else `sqlalchemy_url` without its `+driver`. */
export function connectionString(config: Pick<PostgresConfig, 'connection_string' | 'sqlalchemy_url'>): string | undefined {
  return config.connection_string ?? config.sqlalchemy_url?.replace(/^(postgres(?:ql)?)\+[\w-]+:/i, '$1:');
}
