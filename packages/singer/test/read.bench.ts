// Micro benchmark of the reader and validator (not part of `vitest run`): pnpm --filter @tapline/singer exec vitest bench --run
import { bench, describe } from 'vitest';
import { compileRecordValidator, parseJson, readMessages } from '../src/index.js';

const LINES = 20_000;
const line = (i: number, bigId: boolean) =>
  JSON.stringify({
    type: 'RECORD',
    stream: 'results',
    record: {
      id: bigId ? `@${10_000_000_000_000_000n + BigInt(i)}@` : i,
      score: i * 1.37,
      name: `candidate ${i}`,
      passed: i % 2 === 0,
      started_at: '2024-05-01T10:00:00.123456Z',
      finished_at: i % 7 === 0 ? null : '2024-05-01T11:00:00Z',
      answers: { tags: ['a', 'b', 'c'], attempts: i % 5 },
      comment: 'x'.repeat(200),
    },
  }).replace(/"@(\d+)@"/, '$1');
const input = (bigId: boolean) => Buffer.from(Array.from({ length: LINES }, (_, i) => line(i, bigId)).join('\n'));
const plain = input(false);
const big = input(true);

async function* chunks(bytes: Buffer): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += 65_536) yield bytes.subarray(offset, offset + 65_536);
}

describe(`read ${LINES} records`, () => {
  bench('JSON.parse per line (baseline)', () => {
    for (const text of plain.toString('utf8').split('\n')) JSON.parse(text);
  });
  bench('readMessages', async () => {
    for await (const batch of readMessages(chunks(plain))) void batch;
  });
  bench('readMessages, every id beyond 2^53', async () => {
    for await (const batch of readMessages(chunks(big))) void batch;
  });
});

describe(`validate ${LINES} records`, () => {
  const validate = compileRecordValidator({
    type: 'object',
    properties: {
      id: { type: 'integer' },
      score: { type: 'number' },
      name: { type: 'string' },
      passed: { type: 'boolean' },
      started_at: { type: 'string', format: 'date-time' },
      finished_at: { type: ['null', 'string'], format: 'date-time' },
      answers: { type: 'object' },
      comment: { type: 'string' },
    },
  });
  const records = plain
    .toString('utf8')
    .split('\n')
    .map((text) => (parseJson(text) as { record: unknown }).record);
  bench('compiled validator', () => {
    for (const record of records) validate(record);
  });
});
