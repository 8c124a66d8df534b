// Public API of @tapline/singer: the Singer protocol for Tapline's taps and targets.
export * from './messages.js';
export { SingerInputError, describeLocation, isStackExhausted } from './errors.js';
export type { InputLocation, SingerWarning, WarningHandler } from './errors.js';
export {
  LosslessNumber,
  isExactDouble,
  isLosslessNumber,
  parseJson,
  stringifyJson,
  containsLosslessNumber,
  containsNonFinite,
  parseJsonAllowingNonFinite,
  withApproximateNumbers,
  mayContainUnsafeNumber,
  nestingDepth,
  setOwn,
  isPlainObject,
  isInheritedName,
} from './json.js';
export { parseMessage, assertSchemaHasProperties, describeValue } from './parse-message.js';
export type { ParseMessageOptions } from './parse-message.js';
export { readMessages, readLineBlocks, forEachLine, lineRanges, isBlank, inputParseOptions } from './reader.js';
export type { ParsedLine, ReadMessagesOptions, LineBlock } from './reader.js';
export { SingerWriter, formatMessage } from './writer.js';
export type { RecordOptions } from './writer.js';
export * from './catalog.js';
export { LOGICAL_KINDS, logicalTypeOf, widenLogical, widenKind } from './logical-type.js';
export { resolveLocalRefs } from './schema-refs.js';
export { settingFromText, settingTypes, type SettingFromText } from './setting-text.js';
export { SECRET_SETTING } from './settings.js';
export type { LogicalKind, LogicalType } from './logical-type.js';
export { compileRecordValidator, UncompilableSchema } from './validate.js';
export type { RecordValidator, ValidationProblem } from './validate.js';
export { EXIT_CODES, RUNNER_EXIT_CODES, EXIT_CODE_TABLE, exitCodesOf, exitCodesHelp, exitCodesMarkdown, signalExitCode } from './exit-codes.js';
export type { ExitCodeEntry, ExitCodeUser, SharedExitCode } from './exit-codes.js';
export { createLogger, silentLogger, levelOfLine, parseLogLevel, LOG_LEVELS, LOG_LEVEL_ENV } from './log.js';
export type { Logger, LoggerOptions, LogLevel, LogFormat, LogFields } from './log.js';
