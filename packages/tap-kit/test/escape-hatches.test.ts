// The weaker-to-stronger hooks, config partitions, unsorted streams, the look-back clamp and bad records.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { coerce, createLogger, defineApi, defineTap, type Logger, RunSummary, type SingerMessage, sync, TapError } from '../src/index.js';

const NOW = () => new Date('2024-06-01T00:00:00Z');

function capture() {
  const messages: SingerMessage[] = [];
  const lines: string[] = [];
  const log: Logger = createLogger({ env: {}, write: (line) => void lines.push(line) });
  return { messages, lines, log, write: (m: SingerMessage) => void messages.push(m) };
}

const api = defineApi({
  config: z.object({ rooms: z.array(z.number()), start_date: z.string().optional() }),
  baseUrl: () => 'http://127.0.0.1:9',
});

/** Rows a custom fetch yields, out of cursor order, per room. */
const ROWS: Record<number, Array<{ id: string; at: string }>> = {
  1: [
    { id: 'a', at: '2024-05-03T00:00:00Z' },
    { id: 'b', at: '2024-05-01T00:00:00+02:00' },
  ],
  2: [{ id: 'c', at: '2024-01-01T00:00:00Z' }],
};

const bookings = api.stream({
  name: 'bookings',
  partitions: (config) => config.rooms.map((room) => ({ room })),
  key: ['id'],
  record: z.object({ id: z.string(), room: z.number(), at: coerce.isoDateTime(), label: z.string() }),
  incremental: { cursor: 'at', sorted: false, maxLookback: '3mo' },
  transform: (raw: { id: string; at: string }) => (raw.id === 'skip' ? null : { ...raw, label: raw.id.toUpperCase() }),
  async *fetch(ctx) {
    yield ROWS[ctx.context.room as number] ?? [];
    yield ctx.context.room === 1 ? [{ id: 'skip', at: '2024-05-05T00:00:00Z' }] : [];
  },
});

const tap = defineTap({ name: 'tap-rooms', description: 'Rooms.', version: '0.0.0', api, streams: [bookings] });

describe('hooks and policies', () => {
  it('fetch and transform feed the runner; partitions come from config; context fields land in records', async () => {
    const out = capture();
    await sync({
      tap,
      config: { rooms: [1, 2] },
      write: out.write,
      log: out.log,
      now: NOW,
      http: {
        request: async () => {
          throw new Error('no HTTP expected');
        },
      } as never,
    });
    const records = out.messages.filter((m) => m.type === 'RECORD').map((m) => (m as { record: Record<string, unknown> }).record);
    // Room 2's only booking is older than the 3-month clamp, so it is dropped and the clamp is logged.
    expect(records).toEqual([
      { id: 'a', room: 1, at: '2024-05-03T00:00:00Z', label: 'A' },
      { id: 'b', room: 1, at: '2024-04-30T22:00:00Z', label: 'B' },
    ]);
    expect(out.lines.filter((l) => l.includes('starting at 2024-03-01T00:00:00.000Z'))).toHaveLength(2);
  });

  it('an unsorted stream shared across partitions commits its bookmark only once every partition ran', async () => {
    const out = capture();
    await sync({ tap, config: { rooms: [1, 2] }, write: out.write, log: out.log, now: NOW, http: {} as never });
    const states = out.messages.filter((m) => m.type === 'STATE').map((m) => JSON.stringify((m as { value: unknown }).value));
    expect(states.slice(0, -2).every((s) => !s.includes('replication_key_value'))).toBe(true);
    expect(JSON.parse(states.at(-1)!)).toEqual({
      bookmarks: { bookings: { replication_key: 'at', replication_key_value: '2024-05-03T00:00:00Z' } },
      currently_syncing: null,
    });
  });

  it('a record that does not match its schema is set aside with the stream, field and value named, and the stream goes on', async () => {
    const broken = api.stream({
      name: 'broken',
      key: ['id'],
      record: z.object({ id: z.number().int(), score: coerce.decimal() }),
      async *fetch() {
        yield [
          { id: 1, score: '1.5' },
          { id: 2, score: 'n/a' },
          { id: 3, score: 2 },
        ];
      },
    });
    const out = capture();
    const summary = new RunSummary();
    await sync({
      tap: defineTap({ ...tap, streams: [broken] }),
      config: { rooms: [] },
      write: out.write,
      log: out.log,
      http: {} as never,
      summary,
    });
    const records = out.messages.filter((m) => m.type === 'RECORD') as Array<{ stream: string; record: Record<string, unknown> }>;
    expect(records.filter((m) => m.stream === 'broken').map((m) => m.record.id)).toEqual([1, 3]);
    expect(records.filter((m) => m.stream === '_sdc_rejected_records').map((m) => m.record.reason)).toEqual([
      'field "score": expected a decimal number, got "n/a"',
    ]);
    expect(summary.toJSON()).toMatchObject({ status: 'partial', streams: { broken: { records: 2, rejected: 1 } } });
  });

  it('a transform that throws sets that record aside; a TapError from it still stops the run', async () => {
    const transformed = (transform: (raw: { id: number }) => unknown) =>
      defineTap({
        ...tap,
        streams: [
          api.stream({
            name: 'transformed',
            key: ['id'],
            record: z.object({ id: z.number().int() }),
            transform,
            async *fetch() {
              yield [{ id: 1 }, { id: 2 }];
            },
          }),
        ],
      });
    const out = capture();
    const odd = transformed((raw) => (raw.id === 2 ? (null as unknown as { x: string }).x : raw));
    await sync({ tap: odd, config: { rooms: [] }, write: out.write, log: out.log, http: {} as never });
    const reject = out.messages.find((m) => m.type === 'RECORD' && m.stream === '_sdc_rejected_records') as {
      record: Record<string, unknown>;
    };
    expect(reject.record).toMatchObject({ stream: 'transformed', record_json: '{"id":2}', field: null });
    expect(reject.record.reason).toMatch(/^the stream's transform failed on it: /);
    const stopping = transformed(() => {
      throw new TapError('stream transformed: the vendor sent a shape without a key.', 'system');
    });
    await expect(sync({ tap: stopping, config: { rooms: [] }, write: () => {}, log: out.log, http: {} as never })).rejects.toThrow(
      'without a key',
    );
  });

  it('declarations are checked when the tap loads', () => {
    expect(() => api.stream({ name: 'Bad-Name', path: '/x', key: [], record: z.object({}) })).toThrow('snake_case');
    expect(() => api.stream({ name: 'x', path: '/x', key: ['id' as never], record: z.object({ a: z.string() }) })).toThrow(
      'key field "id"',
    );
    expect(() =>
      api.stream({
        name: 'y',
        path: '/y',
        key: [],
        record: z.object({ at: z.string() }),
        incremental: { cursor: 'at', sorted: true, lookback: '10 minutes' as never },
      }),
    ).toThrow('invalid duration');
    expect(() => api.stream({ name: 'z', path: '/z', key: [], record: z.object({ _sdc_extra: z.string() }) })).toThrow(
      '"_sdc_extra" is the kit\'s column',
    );
    expect(() => api.stream({ name: 'w', path: '/w', key: [], record: z.object({ a: z.string() }), consumes: ['a'] })).toThrow(
      'consumes "a", which the record schema declares',
    );
  });
});
