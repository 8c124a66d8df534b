// Where a PostgreSQL target config points, read without loading the driver (the `/place` entry point, for the runner's plans).
import type { WarehousePlace } from '@tapline/target-kit';

export const postgresPlace: WarehousePlace = {
  defaultSchema: 'public',
  // A server has no files to resolve.
  inFolder: (config) => config,
  identity(config) {
    const { connection_string, host, port, database, dbname } = config;
    return `postgres:${JSON.stringify([connection_string ?? null, host ?? null, port ?? null, database ?? dbname ?? null])}`;
  },
  // Any number of sessions write at once.
  heldAlone: () => undefined,
};
