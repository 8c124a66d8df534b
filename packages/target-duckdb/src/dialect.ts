// The DuckDB dialect: what target-kit needs to know about DuckDB and how to open it.
import type { Dialect } from '@tapline/target-kit';
import { type DuckDBTargetConfig, databasePath, duckdbThreads, snapshotPath } from './config.js';
import { DUCKDB_COMMIT_CADENCE, openDuckDBSession } from './session.js';

export const duckdbDialect: Dialect<DuckDBTargetConfig> = {
  name: 'DuckDB',
  capabilities: {
    // DuckDB has no identifier length limit; 255 bytes keeps names readable and portable.
    maxIdentifierBytes: 255,
    textAcceptsNul: true,
    defaultSchema: 'main',
    canWidenColumns: true,
    commits: DUCKDB_COMMIT_CADENCE,
  },
  connect: (config, log) =>
    openDuckDBSession(databasePath(config), config.memory_limit, {
      threads: duckdbThreads(config),
      snapshotPath: snapshotPath(config),
      ...(config.lock_timeout_seconds === undefined ? {} : { lockTimeoutSeconds: config.lock_timeout_seconds }),
      giveWay: config.giveWay === true,
      ...(log === undefined ? {} : { log }),
    }),
  // spool.ts loads no DuckDB (no native addon), so encode workers can make its encoders.
  rowEncoderModule: new URL('./spool.js', import.meta.url).href,
  // DuckDB's errors name their kind ("Catalog Error: ..."); a Parser Error is a statement of ours that is wrong: a bug.
  isRefusal: (error) => error instanceof Error && /^(?!Parser )[A-Z][A-Za-z ]* Error: /.test(error.message),
};
