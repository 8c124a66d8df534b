// Public API of @tapline/target-postgres.
import { readStoredState, runTarget, type RunSummary } from '@tapline/target-kit';
import { postgresConfigSchema, type PostgresConfig } from './config.js';
import { postgresDialect } from './dialect.js';

export { connectionSettings, connectionString, postgresConfigSchema, type PostgresConfig } from './config.js';
export { describeServer, parseConnectionString, parseKeyValue, ConnectionStringError } from './connection-settings.js';
export { postgresDialect, quoteIdent, SQL_TYPE, KIND_OF_SQL_TYPE, clientConfig } from './dialect.js';

/** Load Singer messages from `input` into PostgreSQL; `config` is validated like the CLI's. */
export async function runPostgresTarget(options: {
  config: unknown;
  input: AsyncIterable<Uint8Array | string>;
  output?: { write(text: string): unknown };
  log?: { info(message: string): void; warn(message: string): void };
}): Promise<RunSummary> {
  const config = postgresConfigSchema.parse(options.config) as PostgresConfig;
  return runTarget({ ...options, config, dialect: postgresDialect });
}

/** The state a previous run stored under `state_table` / `state_id` (the runner resumes from it). */
export async function readPostgresState(config: unknown): Promise<unknown> {
  return readStoredState(postgresDialect, postgresConfigSchema.parse(config) as PostgresConfig);
}
