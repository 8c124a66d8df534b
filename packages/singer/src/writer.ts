// Writes Singer messages as JSON lines to a Writable (a tap's stdout), honouring backpressure.
import type { Writable } from 'node:stream';
import { stringifyJson } from './json.js';
import type { JsonSchema, SingerMessage } from './messages.js';

/** One message as one line of JSON, without the trailing newline. Big numbers keep their digits. */
export function formatMessage(message: SingerMessage): string {
  return stringifyJson(message);
}

export interface RecordOptions {
  version?: number | bigint;
  /** When the record was read from the source; written as RFC 3339 UTC. */
  timeExtracted?: Date | string;
}

/**
 * Writes messages to `output`. `await write(...)` resolves at once while the stream's buffer has
 * room and after 'drain' when it is full, so a fast tap cannot fill memory when its reader is slow.
 * A stream error (e.g. EPIPE when the target died) rejects the current and every later write.
 */
export class SingerWriter {
  private failure: Error | undefined;

  constructor(private readonly output: Writable) {
    output.on('error', (error: Error) => {
      this.failure ??= error;
    });
  }

  async write(message: SingerMessage): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.output.write(`${formatMessage(message)}\n`)) return;
    await this.drained();
  }

  writeSchema(stream: string, schema: JsonSchema, keyProperties: string[] = [], bookmarkProperties?: string[]): Promise<void> {
    return this.write({
      type: 'SCHEMA',
      stream,
      schema,
      key_properties: keyProperties,
      ...(bookmarkProperties === undefined ? {} : { bookmark_properties: bookmarkProperties }),
    });
  }

  writeRecord(stream: string, record: Record<string, unknown>, options: RecordOptions = {}): Promise<void> {
    const message: SingerMessage = { type: 'RECORD', stream, record };
    if (options.version !== undefined) message.version = options.version;
    if (options.timeExtracted !== undefined) {
      message.time_extracted = typeof options.timeExtracted === 'string' ? options.timeExtracted : options.timeExtracted.toISOString();
    }
    return this.write(message);
  }

  writeState(value: unknown): Promise<void> {
    return this.write({ type: 'STATE', value });
  }

  writeActivateVersion(stream: string, version: number | bigint): Promise<void> {
    return this.write({ type: 'ACTIVATE_VERSION', stream, version });
  }

  /**
   * Resolve once everything written so far has been handed to the operating system. Ends the
   * stream unless it is the process's stdout or stderr, which must stay open.
   */
  end(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      const isStdio = (this.output as unknown) === process.stdout || (this.output as unknown) === process.stderr;
      if (isStdio) this.output.write('', done);
      else this.output.end(done);
    });
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.output.off('drain', onDrain);
        this.output.off('error', onError);
        this.output.off('close', onClose);
      };
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const onClose = () => {
        cleanup();
        reject(this.failure ?? new Error('output closed before it drained'));
      };
      this.output.on('drain', onDrain);
      this.output.on('error', onError);
      this.output.on('close', onClose);
    });
  }
}
