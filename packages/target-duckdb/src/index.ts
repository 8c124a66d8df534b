// Public API of @tapline/target-duckdb: the dialect, its config and the session, for the runner and tests.
export { duckdbDialect } from './dialect.js';
export { duckdbConfigSchema, databasePath, snapshotPath, DEFAULT_PATH, DEFAULT_LOCK_TIMEOUT_SECONDS, type DuckDBTargetConfig } from './config.js';
export { openDuckDBInstance, lockHolder, type OpenOptions } from './open.js';
export { publishSnapshot } from './snapshot.js';
export { openDuckDBSession, DuckDBSession } from './session.js';
export { SQL_TYPE, kindOfSqlType, kindOfColumn, DECIMAL_COMMENT } from './types.js';
