import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatMessage, parseJson, SingerWriter } from '../src/index.js';

/** A sink that holds each write until `release()` is called, like a slow pipe. */
class SlowSink extends Writable {
  readonly lines: string[] = [];
  private pending: Array<() => void> = [];
  constructor(highWaterMark: number) {
    super({ highWaterMark, decodeStrings: false });
  }
  override _write(chunk: string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.lines.push(chunk);
    this.pending.push(callback);
  }
  release(): void {
    const callbacks = this.pending;
    this.pending = [];
    for (const callback of callbacks) callback();
  }
}

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('SingerWriter', () => {
  it('writes one JSON line per message', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      decodeStrings: false,
      write(chunk: string, _encoding, callback) {
        lines.push(chunk);
        callback();
      },
    });
    const writer = new SingerWriter(sink);
    const writes = [
      writer.writeSchema('users', { type: 'object', properties: { id: { type: 'integer' } } }, ['id']),
      writer.writeRecord('users', { id: 1 }, { version: 7, timeExtracted: new Date('2024-01-01T00:00:00Z') }),
      writer.writeActivateVersion('users', 7),
      writer.writeState({ bookmarks: { users: { id: 1 } } }),
    ];
    await Promise.all(writes);
    expect(lines).toEqual([
      '{"type":"SCHEMA","stream":"users","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":["id"]}\n',
      '{"type":"RECORD","stream":"users","record":{"id":1},"version":7,"time_extracted":"2024-01-01T00:00:00.000Z"}\n',
      '{"type":"ACTIVATE_VERSION","stream":"users","version":7}\n',
      '{"type":"STATE","value":{"bookmarks":{"users":{"id":1}}}}\n',
    ]);
  });

  it('resolves a write at once while the buffer has room, and only after drain when it is full', async () => {
    const sink = new SlowSink(64);
    const writer = new SingerWriter(sink);
    expect(await settled(writer.writeState(1))).toBe(true);
    const full = writer.writeRecord('s', { text: 'x'.repeat(100) });
    expect(await settled(full)).toBe(false);
    sink.release();
    await new Promise((resolve) => setImmediate(resolve));
    sink.release();
    expect(await settled(full)).toBe(true);
  });

  it('rejects pending and later writes when the output fails', async () => {
    const sink = new SlowSink(8);
    const writer = new SingerWriter(sink);
    const waiting = writer.writeState({ big: 'y'.repeat(50) });
    sink.destroy(new Error('EPIPE'));
    await expect(waiting).rejects.toThrow('EPIPE');
    await expect(writer.writeState(2)).rejects.toThrow('EPIPE');
  });

  it('end() flushes and ends a plain stream', async () => {
    const sink = new SlowSink(1 << 20);
    const writer = new SingerWriter(sink);
    await writer.writeState(1);
    const ending = writer.end();
    sink.release();
    await ending;
    expect(sink.writableFinished).toBe(true);
  });
});

describe('formatMessage', () => {
  it('keeps big numbers as digits, with no trailing newline', () => {
    const message = { type: 'RECORD' as const, stream: 's', record: parseJson('{"id":99999999999999999}') as Record<string, unknown> };
    expect(formatMessage(message)).toBe('{"type":"RECORD","stream":"s","record":{"id":99999999999999999}}');
  });
});
