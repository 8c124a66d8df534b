// @tapline/tap-kit: declare a stream, get a Singer tap.
export { defineApi, defineTap } from './declare.js';
export type {
  ApiDeclaration,
  ApiProfile,
  Context,
  IncrementalSettings,
  EachOptions,
  ParentLink,
  RecordSelector,
  StartFormat,
  StreamContext,
  StreamDeclaration,
  StreamDefinition,
  Subcommand,
  SubcommandContext,
  TapDeclaration,
  TapDefinition,
} from './declare.js';
export { coerce, normaliseIsoDateTime, SINGER_DECIMAL_FORMAT } from './coerce.js';
export type { Duration } from './duration.js';
export { subtractDuration } from './duration.js';
export type { ApiHttpOptions } from './declare.js';
export { createApiClient, type ApiClientOptions } from './client.js';
export { recordJsonSchema, type JsonSchema } from './json-schema.js';
export { readStreamRecord, streamJsonSchema, EXTRA_FIELD } from './record-reader.js';
export { discoverCatalog, resolveSelection, type Catalog, type CatalogEntry, type StreamSelection } from './catalog.js';
export { budgetSnapshot, compareCursor, fullRefreshState, rateBudgetOf, readStateFile, stateShapeProblem, StateStore, type TapState, type StreamBookmark, type PartitionBookmark, type CursorValue } from './state.js';
export { sync, formatStart, type SyncOptions } from './sync.js';
/** The one Singer message type, @tapline/singer's; what `sync` writes. */
export type { SingerMessage } from '@tapline/singer';
export { runTap, runTapCli, type CliIo } from './cli.js';
export { RunSummary, SUMMARY_PREFIX, type RunStatus, type RunSummaryJson, type StreamSummary } from './run-summary.js';
export { packageVersion } from './package-version.js';
export { loadConfig, loadTapConfig, envPrefix, settingsJsonSchema, sharedSettings, tapSettingsJsonSchema, type SharedSettings } from './config.js';
export { createLogger, silentLogger, ProgressLine, type Logger, type LogLevel } from './log.js';
export { TapError, UsageError, EXIT_CODES, exitCodeFor, blameOf, isRateLimited, type Blame } from './errors.js';
