// The runner's logger: the shared one (@tapline/singer), on stderr as text or JSON (`--log-format`).
import { createLogger as createSharedLogger, type LogFormat, type Logger, type LogLevel } from '@tapline/singer';

export type { LogFormat, Logger, LogLevel };

/** A logger at `level` (default TAPLINE_LOG_LEVEL, else info); `write` gets each line without its newline. */
export function createLogger(format: LogFormat = 'text', write?: (line: string) => void, level?: LogLevel): Logger {
  return createSharedLogger({
    format,
    ...(level !== undefined ? { level } : {}),
    ...(write !== undefined ? { write: (line: string) => write(line.replace(/\n$/, '')) } : {}),
  });
}

/** A logger that drops everything (library use, tests). */
export { silentLogger } from '@tapline/singer';
