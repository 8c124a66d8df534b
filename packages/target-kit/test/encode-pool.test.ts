// Encode workers (the built dist, as the targets run them): which lines they encode, which they hand back, and failures.
import { Readable } from 'node:stream';
import { stringifyJson } from '@tapline/singer';
import { describe, expect, it } from 'vitest';
import { EncodedRows } from '../src/encoded-rows.js';
import type { InputBlock } from '../src/parallel/encode-pool.js';
import type { WorkerSinkSettings } from '../src/parallel/protocol.js';
import { layoutForSchema, StreamSink } from '../src/sink.js';

// Workers run JavaScript: the pool comes from the build, as in the targets.
const { EncodePool } = (await import(
  new URL('../dist/parallel/encode-pool.js', import.meta.url).href
)) as typeof import('../src/parallel/encode-pool.js');
const encoderModule = new URL('./fixtures/json-row-encoder.mjs', import.meta.url).href;

const settings: WorkerSinkSettings = {
  maxIdentifierBytes: 63,
  textAcceptsNul: true,
  sanitizeNul: false,
  replaceUnpairedSurrogates: false,
  validate: true,
  metadataColumns: [],
  appendOnly: false,
  loadUndeclared: false,
  interpretContentEncoding: false,
  flattenMaxLevel: 0,
  checkPlainRows: true,
};
const schema = { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } };
const lines = (...messages: object[]) => Readable.from([`${messages.map((message) => JSON.stringify(message)).join('\n')}\n`]);

/** The main thread's sink for `people`, as the loader has it after the SCHEMA. */
function peopleSink(): StreamSink {
  const sinkSettings = { ...settings, warn: () => {}, rowEncoder: () => ({ encode: () => '' }) };
  const sink = new StreamSink(
    'people',
    { schema: 'main', table: 'people' },
    layoutForSchema('people', schema, ['id'], 1, sinkSettings),
    sinkSettings,
  );
  sink.setSchema(schema, stringifyJson([schema, ['id']]));
  return sink;
}

async function all(blocks: AsyncIterable<InputBlock>): Promise<InputBlock[]> {
  const taken: InputBlock[] = [];
  for await (const block of blocks) taken.push(block);
  return taken;
}

describe('encode workers', () => {
  it('encode the records of streams they know; every other line, a failing record and the rest of its stream come back as lines', async () => {
    const pool = new EncodePool({
      workers: 1,
      startAfterBytes: 0,
      blockBytes: 1 << 20,
      setup: { rowEncoderModule: encoderModule, settings },
    });
    const sink = peopleSink();
    pool.publish(sink.snapshot());
    try {
      const blocks = await all(
        pool.blocks(
          lines(
            { type: 'SCHEMA', stream: 'people', schema, key_properties: ['id'] }, // the same again: the main thread skips it
            { type: 'RECORD', stream: 'people', record: { id: 1, name: 'Émile' } },
            { type: 'RECORD', stream: 'people', record: { id: 2, name: 'b' } },
            { type: 'STATE', value: { at: 2 } },
            { type: 'RECORD', stream: 'people', record: { id: 'x' } }, // fails validation: the main thread reports it
            { type: 'RECORD', stream: 'people', record: { id: 3 } }, // after a failure, the stream's records stay with the main thread
            { type: 'RECORD', stream: 'other', record: { id: 1 } }, // a stream the workers do not know
          ),
        ),
      );
      expect(blocks).toHaveLength(1);
      const block = blocks[0]!;
      if (block.kind !== 'encoded') throw new Error('expected a block the worker encoded');
      expect(block.result.events).toEqual([
        { kind: 'line', line: 1, start: expect.any(Number), end: expect.any(Number) },
        { kind: 'rows', stream: 'people', version: sink.version, count: 2 },
        ...[4, 5, 6, 7].map((line) => ({ kind: 'line', line, start: expect.any(Number), end: expect.any(Number) })),
      ]);
      const part = block.result.parts.people!;
      const rows = EncodedRows.fromParts(part.rows);
      expect([rows.rowText(0), rows.rowText(1)]).toEqual(['[1,"Émile"]\n', '[2,"b"]\n']);
      expect(rows.lines).toEqual([2, 3]);
      expect(part.keys).toEqual([1, 2]);
      const [start, end] = [block.result.ranges[0]!, block.result.ranges[1]!];
      expect(JSON.parse(block.block.bytes.toString('utf8', start, end))).toMatchObject({ record: { id: 1 } });
      expect(block.clock.baseSequence).toBeGreaterThan(Date.now() * 1000 - 60e6);
    } finally {
      await pool.close();
    }
  });

  it('a worker that cannot load its encoder fails the read with that error instead of waiting forever', async () => {
    const pool = new EncodePool({
      workers: 1,
      startAfterBytes: 0,
      blockBytes: 1,
      setup: { rowEncoderModule: new URL('./fixtures/no-such-encoder.mjs', import.meta.url).href, settings },
    });
    try {
      await expect(all(pool.blocks(lines({ type: 'STATE', value: {} }, { type: 'STATE', value: {} })))).rejects.toThrow(/no-such-encoder/);
    } finally {
      await pool.close();
    }
  });
});
