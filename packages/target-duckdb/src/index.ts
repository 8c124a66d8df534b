// Public API of @tapline/target-duckdb: the dialect, its config and the session, for the runner and tests.

export {
  DEFAULT_LOCK_TIMEOUT_SECONDS,
  DEFAULT_PATH,
  type DuckDBTargetConfig,
  databasePath,
  duckdbConfigSchema,
  snapshotPath,
} from './config.js';
export { duckdbDialect } from './dialect.js';
export { lockHolder, type OpenOptions, openDuckDBInstance, processesWaitingFor } from './open.js';
export { duckdbPlace } from './place.js';
export { DuckDBSession, openDuckDBSession } from './session.js';
export { publishSnapshot } from './snapshot.js';
export { DECIMAL_COMMENT, kindOfColumn, kindOfSqlType, SQL_TYPE } from './types.js';
export { duckdbWarehouse } from './warehouse.js';
