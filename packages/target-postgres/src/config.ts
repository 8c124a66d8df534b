// target-postgres config: the kit's base settings plus how to reach the server.
import { baseConfigSchema } from '@tapline/target-kit';
import { z } from 'zod';

export const postgresConfigSchema = baseConfigSchema.extend({
  /** `postgres://user:password@host:port/database`; wins over the separate keys. */
  connection_string: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().positive().optional(),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  database: z.string().min(1).optional(),
  /** Staging and long loads can take a while; 0 disables the server-side timeout for this session. */
  statement_timeout_ms: z.number().int().nonnegative().default(0),
});

export type PostgresConfig = z.infer<typeof postgresConfigSchema>;
