// Public API of @tapline/target-duckdb: the dialect, its config and the session, for the runner and tests.
export { duckdbDialect } from './dialect.js';
export { duckdbConfigSchema, databasePath, DEFAULT_PATH, type DuckDBTargetConfig } from './config.js';
export { openDuckDBSession, DuckDBSession } from './session.js';
export { SQL_TYPE, kindOfSqlType, kindOfColumn, DECIMAL_COMMENT } from './types.js';
