// target-postgres as the runner's warehouse: a session of the dialect that also keeps Tapline's own tables.
import type { Warehouse } from '@tapline/target-kit';
import type { PostgresConfig } from './config.js';
import { describeServer } from './connection-settings.js';
import { clientConfig, openPostgresSession } from './dialect.js';
import { postgresPlace } from './place.js';

export const postgresWarehouse: Warehouse<PostgresConfig> = {
  ...postgresPlace,
  exists: () => true,
  describe: (config) => `PostgreSQL server at ${describeServer(clientConfig(config))}`,
  open: (config) => openPostgresSession(config),
  // PostgreSQL takes many writers at once: nobody waits for the whole database.
  waitingWriters: () => [],
  givingWay: (config) => config,
};
