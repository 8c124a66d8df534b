// target-postgres config: the kit's base settings plus how to reach the server.

import { SECRET_SETTING } from '@tapline/singer';
import { baseConfigSchema } from '@tapline/target-kit';
import type pg from 'pg';
import { z } from 'zod';
import { ConnectionStringError, clientSettings, parseConnectionString } from './connection-settings.js';

/** A connection string the driver can read; the issue never quotes it (it may hold a password). */
const readableConnectionString = (description: string) =>
  z
    .string()
    .min(1)
    .superRefine((text, context) => {
      try {
        clientSettings(parseConnectionString(text));
      } catch (error) {
        if (!(error instanceof ConnectionStringError)) throw error;
        context.addIssue({ code: 'custom', message: error.message });
      }
    })
    .optional()
    .describe(description)
    .meta(SECRET_SETTING);

export const postgresConfigSchema = baseConfigSchema.extend({
  connection_string: readableConnectionString(
    "postgres://user:password@host:port/database, or libpq's key=value settings (host=... dbname=...); wins over the separate keys",
  ),
  sqlalchemy_url: readableConnectionString(
    "MeltanoLabs target-postgres's spelling: a SQLAlchemy URL (postgresql+psycopg://...), used without its +driver when connection_string is absent",
  ),
  host: z.string().min(1).optional().describe("Server host (default PGHOST, then libpq's)"),
  port: z.number().int().positive().optional().describe('Server port (default PGPORT, then 5432)'),
  user: z.string().min(1).optional().describe('User (default PGUSER)'),
  password: z.string().optional().describe('Password (default PGPASSWORD)').meta(SECRET_SETTING),
  database: z.string().min(1).optional().describe('Database (default PGDATABASE)'),
  default_target_schema: z
    .string()
    .min(1)
    .optional()
    .describe('Schema every stream lands in (default public); when set, stream `a-b` lands in it as table `b`'),
  statement_timeout_ms: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe("Server-side statement timeout for the session's statements, in ms (0: none; staging and long loads can take a while)"),
  // Smaller than the kit's default: while one batch is COPYed the next one fills, so two batches
  // are in memory; 20,000 rows keep peak RSS near 250 MB for ~500-byte records (50,000: ~400 MB)
  // at the same speed.
  batch_size_rows: z
    .number()
    .int()
    .positive()
    .default(20_000)
    .describe(
      'Rows buffered per stream before a bulk write (one batch is COPYed while the next fills); a commit happens at the next STATE after this many rows',
    ),
});

export type PostgresConfig = z.infer<typeof postgresConfigSchema>;

/** The connection URL a config gives, if any: `connection_string`, else `sqlalchemy_url` without its `+driver`. */
export function connectionString(config: Pick<PostgresConfig, 'connection_string' | 'sqlalchemy_url'>): string | undefined {
  return config.connection_string ?? config.sqlalchemy_url?.replace(/^(postgres(?:ql)?)\+[\w-]+:/i, '$1:');
}

/**
 * The pg client settings of a config, the connection string parsed once here (never handed to pg
 * as text); keys left out fall back to PG* environment variables (pg's own rule).
 */
export function connectionSettings(config: PostgresConfig): pg.ClientConfig {
  const base: pg.ClientConfig = { application_name: 'tapline-target-postgres' };
  const url = connectionString(config);
  if (url !== undefined) return { ...base, ...clientSettings(parseConnectionString(url)) };
  return {
    ...base,
    ...(config.host !== undefined && { host: config.host }),
    ...(config.port !== undefined && { port: config.port }),
    ...(config.user !== undefined && { user: config.user }),
    ...(config.password !== undefined && { password: config.password }),
    ...(config.database !== undefined && { database: config.database }),
  };
}
