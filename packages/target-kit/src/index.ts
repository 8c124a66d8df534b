// Public API of @tapline/target-kit: the loader core every Tapline target is built on.
export type * from './dialect.js';
export { META, METADATA_COLUMNS } from './metadata.js';
export { METADATA_DESCRIPTIONS, descriptionOf } from './comments.js';
export { baseConfigSchema, parseConfig, readConfigFile, type BaseTargetConfig } from './config.js';
export { ConfigError, LoadError, ResourceError, isDiskFull, SingerInputError, Interrupted, EXIT_CODES, UsageError, TransientError, classifyError, batchLines, keyMatchesSeveralRows, type StopSignal } from './errors.js';
export { normaliseName, columnNamesFor, tableRefForStream } from './names.js';
export { widenKind, planColumns, type ColumnPlan } from './column-plan.js';
export { encodeCell, hasNoEscapes } from './encode.js';
export { EncodedRows } from './encoded-rows.js';
export {
  runTarget,
  defaultWorkerThreads,
  readStoredState,
  stateTableRef,
  stderrLogger,
  type Logger,
  type RunTargetOptions,
  type RunSummary,
} from './loader.js';
export { runTargetCli, type TargetDefinition } from './cli.js';
