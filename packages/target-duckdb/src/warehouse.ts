// target-duckdb as the runner's warehouse: the dialect's session, opened on the file a project's config names.
import { existsSync } from 'node:fs';
import type { Warehouse } from '@tapline/target-kit';
import { type DuckDBTargetConfig, databasePath } from './config.js';
import { duckdbDialect } from './dialect.js';
import { processesWaitingFor } from './open.js';
import { duckdbPlace } from './place.js';
import type { DuckDBSession } from './session.js';

export const duckdbWarehouse: Warehouse<DuckDBTargetConfig> = {
  ...duckdbPlace,
  exists: (config) => {
    const file = databasePath(config);
    return /^[a-z][a-z0-9+.-]+:/i.test(file) || file === ':memory:' || existsSync(file);
  },
  describe: (config) => `DuckDB file at ${databasePath(config)}`,
  async open(config, log) {
    const session = (await duckdbDialect.connect(config, log)) as DuckDBSession;
    session.schema = config.default_target_schema ?? duckdbPlace.defaultSchema;
    return session;
  },
  waitingWriters: (config) => processesWaitingFor(databasePath(config)),
  givingWay: (config) => ({ ...config, giveWay: true }),
};
