// The one logger of every Tapline tap, target and the runner: pino, on stderr (stdout carries
// Singer messages), as Singer-style `LEVEL message` lines or one JSON object per line.
import { type DestinationStream, pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export type LogFields = Record<string, unknown>;

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * Read by every logger the factory makes when no level is given: the runner sets it for the tap
 * and target it starts, so `tapline --log-level debug` reaches both.
 */
export const LOG_LEVEL_ENV = 'TAPLINE_LOG_LEVEL';

export interface Logger {
  readonly format: LogFormat;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** A Singer SDK style metric line: `METRIC: {"type":"counter","metric":...,"value":...,"tags":{...}}`, at info. */
  metric(type: 'counter' | 'timer', metric: string, value: number, tags: Record<string, unknown>): void;
}

export interface LoggerOptions {
  /** Lines below it are dropped; default `TAPLINE_LOG_LEVEL` from `env`, else info. `silent` drops all. */
  level?: LogLevel | 'silent';
  format?: LogFormat;
  /** Where each line goes, newline included; process.stderr by default. */
  write?: (line: string) => void;
  /** Called before each line, so a live progress line can step aside. */
  beforeLine?: () => void;
  /** Applied to each finished line (secrets out). */
  redact?: (line: string) => string;
  env?: NodeJS.ProcessEnv;
}

/** `level` if it names a level, else undefined (for flags and environment variables). */
export function parseLogLevel(level: string | undefined): LogLevel | undefined {
  return LOG_LEVELS.find((known) => known === level);
}

/** A pino line rendered for a person: `WARN message key=value`, as Singer taps and targets write. */
function textLine(json: string): string {
  const { level, message, time: _time, ...fields } = JSON.parse(json) as { level: string; message: string; time?: unknown } & LogFields;
  // A forwarded child line reads with its source as a prefix.
  const { source, ...rest } = fields;
  const prefix = typeof source === 'string' ? `[${source}] ` : '';
  const tail = Object.entries(rest)
    .map(([key, value]) => ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('');
  return `${level.toUpperCase()} ${prefix}${message}${tail}\n`;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'text';
  const level = options.level ?? parseLogLevel((options.env ?? process.env)[LOG_LEVEL_ENV]) ?? 'info';
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  // pino's synchronous destination contract: one serialised line per write.
  const destination: DestinationStream = {
    write(json: string) {
      const line = format === 'json' ? json : textLine(json);
      options.beforeLine?.();
      write(options.redact ? options.redact(line) : line);
    },
  };
  const logger = pino(
    {
      level,
      base: undefined,
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const log = (at: LogLevel, message: string, fields?: LogFields): void => {
    if (fields === undefined || Object.keys(fields).length === 0) logger[at](message);
    else logger[at](fields, message);
  };
  return {
    format,
    log,
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
    metric: (type, metric, value, tags) => log('info', `METRIC: ${JSON.stringify({ type, metric, value, tags })}`),
  };
}

/** A logger that drops everything (library use and quiet tests). */
export const silentLogger: Logger = createLogger({ level: 'silent', write: () => {} });

/**
 * The level a line another program wrote on stderr was logged at: a JSON line's `level` (pino's
 * label or number), else the Singer level word it starts with (after a timestamp or `|`, as the
 * Meltano SDK writes), else info. Lets the runner forward a child's WARN as a warning.
 */
export function levelOfLine(line: string): { level: LogLevel; message: string; fields?: LogFields } {
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    try {
      const { level, message, msg, time: _time, ...fields } = JSON.parse(trimmed) as LogFields;
      const text = typeof message === 'string' ? message : typeof msg === 'string' ? msg : undefined;
      if (text !== undefined) return { level: levelNamed(level) ?? 'info', message: text, fields };
    } catch {
      // not JSON after all: read as text
    }
  }
  // An optional timestamp first (`2026-01-02T03:04:05Z INFO`, the Meltano SDK's `2026-01-02 03:04:05,678 | INFO |`).
  const match = /^(?:\d[\d\-:.,TZ+ ]*?\s*\|?\s*)?(CRITICAL|FATAL|ERROR|WARN(?:ING)?|INFO|DEBUG)\b[\s|:]*/.exec(trimmed);
  if (!match) return { level: 'info', message: line };
  const level = levelNamed(match[1]) ?? 'info';
  // CRITICAL lines keep their word: they are a failure's one sentence, read as such downstream.
  return {
    level,
    message: match[1] === 'CRITICAL' || match[1] === 'FATAL' ? trimmed.slice(match[0].indexOf(match[1])) : trimmed.slice(match[0].length),
  };
}

function levelNamed(level: unknown): LogLevel | undefined {
  if (typeof level === 'number') return level >= 50 ? 'error' : level >= 40 ? 'warn' : level >= 30 ? 'info' : 'debug';
  if (typeof level !== 'string') return undefined;
  const word = level.toUpperCase();
  if (word === 'CRITICAL' || word === 'FATAL' || word === 'ERROR') return 'error';
  if (word === 'WARN' || word === 'WARNING') return 'warn';
  if (word === 'INFO') return 'info';
  if (word === 'DEBUG' || word === 'TRACE') return 'debug';
  return undefined;
}
