// The runner's logger: one line per event on stderr, as text or JSON (`--log-format`).

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  readonly format: LogFormat;
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  format: LogFormat = 'text',
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  const log = (level: LogLevel, message: string, fields: Record<string, unknown> = {}): void => {
    if (format === 'json') {
      write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }));
      return;
    }
    // Text: the source of a forwarded child line reads as a prefix, other fields as key=value.
    const { source, ...rest } = fields;
    const prefix = typeof source === 'string' ? `[${source}] ` : '';
    const tail = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    write(`${level.toUpperCase().padEnd(5)} ${prefix}${message}${tail ? ` ${tail}` : ''}`);
  };
  return {
    format,
    log,
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

/** A logger that drops everything (library use, tests). */
export const silentLogger: Logger = createLogger('text', () => {});
