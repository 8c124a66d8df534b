// Public API of @tapline/singer: the Singer protocol for Tapline's taps and targets.

export * from './catalog.js';
export type { InputLocation, SingerWarning, WarningHandler } from './errors.js';
export { describeLocation, isStackExhausted, SingerInputError } from './errors.js';
export type { ExitCodeEntry, ExitCodeUser, SharedExitCode } from './exit-codes.js';
export {
  EXIT_CODE_TABLE,
  EXIT_CODES,
  exitCodesHelp,
  exitCodesMarkdown,
  exitCodesOf,
  RUNNER_EXIT_CODES,
  signalExitCode,
} from './exit-codes.js';
export {
  containsLosslessNumber,
  containsNonFinite,
  isExactDouble,
  isInheritedName,
  isLosslessNumber,
  isPlainObject,
  LosslessNumber,
  mayContainUnsafeNumber,
  nestingDepth,
  parseJson,
  parseJsonAllowingNonFinite,
  setOwn,
  stringifyJson,
  withApproximateNumbers,
} from './json.js';
export type { LogFields, LogFormat, Logger, LoggerOptions, LogLevel } from './log.js';
export { createLogger, LOG_LEVEL_ENV, LOG_LEVELS, levelOfLine, parseLogLevel, silentLogger } from './log.js';
export type { LogicalKind, LogicalType } from './logical-type.js';
export { LOGICAL_KINDS, logicalTypeOf, widenKind, widenLogical } from './logical-type.js';
export * from './messages.js';
export type { ParseMessageOptions } from './parse-message.js';
export { assertSchemaHasProperties, describeValue, parseMessage } from './parse-message.js';
export type { LineBlock, ParsedLine, ReadMessagesOptions } from './reader.js';
export { forEachLine, inputParseOptions, isBlank, lineRanges, readLineBlocks, readMessages } from './reader.js';
export { resolveLocalRefs } from './schema-refs.js';
export { type SettingFromText, settingFromText, settingTypes } from './setting-text.js';
export { SECRET_SETTING } from './settings.js';
export type { RecordValidator, ValidationProblem } from './validate.js';
export { compileRecordValidator, UncompilableSchema } from './validate.js';
export type { RecordOptions } from './writer.js';
export { formatMessage, SingerWriter } from './writer.js';
