// Public API of @tapline/target-kit: the loader core every Tapline target is built on.

export { runTargetCli, type TargetDefinition } from './cli.js';
export { type ColumnPlan, planColumns, widenKind } from './column-plan.js';
export { descriptionOf, METADATA_DESCRIPTIONS } from './comments.js';
export { type CommitCadence, DEFAULT_COMMIT_INTERVAL_MS, DEFAULT_MAX_TABLES_PER_COMMIT } from './commit-policy.js';
export { type BaseTargetConfig, baseConfigSchema, parseConfig, readConfigFile } from './config.js';
export type * from './dialect.js';
export { encodeCell, hasNoEscapes } from './encode.js';
export { EncodedRows } from './encoded-rows.js';
export {
  batchLines,
  ConfigError,
  classifyError,
  EXIT_CODES,
  Interrupted,
  isDiskFull,
  keyMatchesSeveralRows,
  LoadError,
  ResourceError,
  SingerInputError,
  type StopSignal,
  TransientError,
  UsageError,
} from './errors.js';
export { knobsFromEnvironment, type TargetKnobs } from './knobs.js';
export {
  defaultWorkerThreads,
  type Logger,
  type RunSummary,
  type RunTargetOptions,
  readStoredState,
  runTarget,
  stateTableRef,
  stderrLogger,
} from './loader.js';
export { META, METADATA_COLUMNS } from './metadata.js';
export { columnNamesFor, normaliseName, tableRefForStream } from './names.js';
export { type AccountBinding, accountsTableOf, type Warehouse, type WarehousePlace, type WarehouseSession } from './warehouse.js';
