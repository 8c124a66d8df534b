// Where a DuckDB target config points, read without loading DuckDB (the `/place` entry point, for the runner's plans).
import path from 'node:path';
import type { WarehousePlace } from '@tapline/target-kit';
import { type DuckDBTargetConfig, databasePath } from './config.js';

/** `:memory:`, a URL (`md:`, `s3://`) and the home folder (`~`) are not names in a folder. */
const inNoFolder = (file: string): boolean => /^:memory:$|^[a-z][a-z0-9+.-]+:|^~(?=\/|$)/i.test(file);

export const duckdbPlace: WarehousePlace = {
  defaultSchema: 'main',
  inFolder(config, folder) {
    const file = databasePath(config as Pick<DuckDBTargetConfig, 'path' | 'filepath'>);
    const resolved: Record<string, unknown> = { ...config, path: inNoFolder(file) ? file : path.resolve(folder, file) };
    delete resolved.filepath;
    if (typeof config.publish_snapshot === 'string') resolved.publish_snapshot = path.resolve(folder, config.publish_snapshot);
    return resolved;
  },
  identity: (config, folder) => `duckdb:${String(duckdbPlace.inFolder(config, folder).path)}`,
  // DuckDB lets one process write a file at a time; a database in memory is the run's own.
  heldAlone: (config, folder) => (databasePath(config) === ':memory:' ? undefined : duckdbPlace.identity(config, folder)),
};
