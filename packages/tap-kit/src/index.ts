// @tapline/tap-kit: declare a stream, get a Singer tap.

/** The one Singer message type, @tapline/singer's; what `sync` writes. */
export type { SingerMessage } from '@tapline/singer';
export { type Catalog, type CatalogEntry, discoverCatalog, resolveSelection, type StreamSelection } from './catalog.js';
export { type CliIo, runTap, runTapCli } from './cli.js';
export { type ApiClientOptions, createApiClient } from './client.js';
export { coerce, normaliseIsoDateTime, SINGER_DECIMAL_FORMAT } from './coerce.js';
export {
  envPrefix,
  loadConfig,
  loadTapConfig,
  type SharedSettings,
  settingsJsonSchema,
  sharedSettings,
  tapSettingsJsonSchema,
} from './config.js';
export type {
  ApiDeclaration,
  ApiHttpOptions,
  ApiProfile,
  Context,
  EachOptions,
  IncrementalSettings,
  ParentLink,
  RecordSelector,
  StartFormat,
  StreamContext,
  StreamDeclaration,
  StreamDefinition,
  StreamEndpoint,
  Subcommand,
  SubcommandContext,
  TapDeclaration,
  TapDefinition,
} from './declare.js';
export { defineApi, defineTap } from './declare.js';
export type { Duration } from './duration.js';
export { subtractDuration } from './duration.js';
export { type Blame, blameOf, EXIT_CODES, exitCodeFor, isRateLimited, TapError, UsageError } from './errors.js';
export { type JsonSchema, recordJsonSchema } from './json-schema.js';
export { createLogger, type Logger, type LogLevel, ProgressLine, silentLogger } from './log.js';
export { packageVersion } from './package-version.js';
export { EXTRA_FIELD, readStreamRecord, streamJsonSchema } from './record-reader.js';
export { type RunStatus, RunSummary, type RunSummaryJson, type StreamSummary, SUMMARY_PREFIX } from './run-summary.js';
export {
  budgetSnapshot,
  type CursorValue,
  compareCursor,
  fullRefreshState,
  type PartitionBookmark,
  rateBudgetOf,
  readStateFile,
  StateStore,
  type StreamBookmark,
  stateShapeProblem,
  type TapState,
} from './state.js';
export { formatStart, type SyncOptions, sync } from './sync.js';
