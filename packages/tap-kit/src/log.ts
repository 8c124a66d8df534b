// Logging on stderr only (stdout carries Singer messages): the shared logger, and a live progress line.

export { createLogger, type Logger, type LogLevel, silentLogger } from '@tapline/singer';

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
