// Logging on stderr only (stdout carries Singer messages): levelled lines, METRIC lines, progress.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A Singer SDK style metric line: `METRIC: {"type":"counter","metric":...,"value":...,"tags":{...}}`. */
  metric(type: 'counter' | 'timer', metric: string, value: number, tags: Record<string, unknown>): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface StderrLoggerOptions {
  level?: LogLevel;
  /** Where lines go; process.stderr by default. */
  write?: (line: string) => void;
  /** Called before each line so a live progress line can step aside. */
  beforeLine?: () => void;
}

/** A logger writing `<time> LEVEL message` lines to stderr. */
export function createStderrLogger(options: StderrLoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const emit = (level: LogLevel, message: string) => {
    if (RANK[level] < threshold) return;
    options.beforeLine?.();
    write(`${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`);
  };
  return {
    debug: (message) => emit('debug', message),
    info: (message) => emit('info', message),
    warn: (message) => emit('warn', message),
    error: (message) => emit('error', message),
    metric: (type, metric, value, tags) => emit('info', `METRIC: ${JSON.stringify({ type, metric, value, tags })}`),
  };
}

/** A logger that drops everything (library use and quiet tests). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  metric() {},
};

/**
 * A live `stream: N records (R/s)` line, redrawn in place on a terminal. Only used when stderr is a
 * TTY, so piped logs stay clean.
 */
export class ProgressLine {
  private readonly counts = new Map<string, { records: number; since: number }>();
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  start(): void {
    this.timer = setInterval(() => this.draw(), 500);
    this.timer.unref();
  }

  count(stream: string, records: number): void {
    const entry = this.counts.get(stream) ?? { records: 0, since: Date.now() };
    entry.records += records;
    this.counts.set(stream, entry);
  }

  /** Erase the line so a log line can be written cleanly. */
  clear(): void {
    if (!this.drawn) return;
    this.stream.write('\r\x1b[K');
    this.drawn = false;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }

  private draw(): void {
    if (this.counts.size === 0) return;
    const now = Date.now();
    const parts = [...this.counts].map(([name, { records, since }]) => {
      const rate = records / Math.max((now - since) / 1000, 0.001);
      return `${name}: ${records} records (${rate.toFixed(0)}/s)`;
    });
    const columns = this.stream.columns ?? 120;
    this.stream.write(`\r\x1b[K${parts.join(' | ').slice(0, columns - 1)}`);
    this.drawn = true;
  }
}
