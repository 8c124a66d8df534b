// Public API of @tapline/target-postgres.
import { type RunSummary, readStoredState, runTarget } from '@tapline/target-kit';
import { type PostgresConfig, postgresConfigSchema } from './config.js';
import { postgresDialect } from './dialect.js';

export { connectionSettings, connectionString, type PostgresConfig, postgresConfigSchema } from './config.js';
export { ConnectionStringError, describeServer, parseConnectionString, parseKeyValue } from './connection-settings.js';
export { clientConfig, KIND_OF_SQL_TYPE, openPostgresSession, PostgresSession, postgresDialect, quoteIdent, SQL_TYPE } from './dialect.js';
export { accountsTable, migrationsTable, stateTableDdl } from './own-tables.js';
export { postgresPlace } from './place.js';
export { postgresWarehouse } from './warehouse.js';

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
