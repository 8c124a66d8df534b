// Without a configured memory_limit, DuckDB's limit follows the widest table and the longest line the session loads; a configured one is left alone.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type ColumnDef, runTarget } from '@tapline/target-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { duckdbConfigSchema, duckdbDialect } from '../src/index.js';
import { type DuckDBSession, memoryLimitMbFor, openDuckDBSession } from '../src/session.js';
import { type DuckDBPlace, duckdbHarness, withDuckDB } from './duckdb-harness.js';

let place: DuckDBPlace;
let session: DuckDBSession | undefined;

beforeEach(async () => {
  place = await duckdbHarness.open();
});
afterEach(async () => {
  await session?.close();
  session = undefined;
  await place.close();
});

const wide = (count: number): ColumnDef[] => Array.from({ length: count }, (_, i) => ({ name: `c${i}`, kind: 'string' }));

describe('memory_limit', () => {
  it('starts small and grows with the widest table: 64MB plus a quarter MB a column', async () => {
    session = await openDuckDBSession(place.path, undefined);
    expect(session.memoryLimitMb).toBe(64);
    await session.begin();
    await session.createTable({ schema: 'main', table: 'narrow' }, wide(21), []);
    expect(await session.describeTable({ schema: 'main', table: 'narrow' })).not.toBeNull();
    expect(session.memoryLimitMb).toBe(memoryLimitMbFor(21));
    await session.createTable({ schema: 'main', table: 'wide' }, wide(831), []);
    await session.describeTable({ schema: 'main', table: 'wide' });
    expect(session.memoryLimitMb).toBe(272);
    await session.describeTable({ schema: 'main', table: 'narrow' }); // never lowered
    expect(session.memoryLimitMb).toBe(272);
    await session.commit();
  });

  it('grows with the longest line of a batch too: a 40MB value loads under the limit the session sets', async () => {
    expect(memoryLimitMbFor(21, 60 * 2 ** 20)).toBe(memoryLimitMbFor(21) + 240);
    expect(memoryLimitMbFor(21, 200_000)).toBe(memoryLimitMbFor(21)); // ordinary lines change nothing
    const value = 'é'.repeat(20 * 2 ** 20);
    const input = [
      JSON.stringify({
        type: 'SCHEMA',
        stream: 'big',
        schema: { type: 'object', properties: { id: { type: 'integer' }, t: { type: 'string' } } },
        key_properties: ['id'],
      }),
      JSON.stringify({ type: 'RECORD', stream: 'big', record: { id: 1, t: value } }),
    ].join('\n');
    await runTarget({
      dialect: duckdbDialect,
      config: duckdbConfigSchema.parse(place.config),
      input: Readable.from([input]),
      output: { write: () => {} },
      log: { info: () => {}, warn: () => {} },
    });
    const [row] = (await withDuckDB(place.path, (query) => query('SELECT length(t) AS n FROM main.big'))) as { n: number | bigint }[];
    expect(Number(row!.n)).toBe(value.length);
  });

  it('grows with the tables written since the last checkpoint: 400 streams in one transaction load under the limit the session sets', async () => {
    expect(memoryLimitMbFor(21, 0, 400)).toBe(memoryLimitMbFor(21) + 192);
    expect(memoryLimitMbFor(21, 0, 31)).toBe(memoryLimitMbFor(21)); // a few tables change nothing
    const streams = Array.from({ length: 400 }, (_, i) => `t${i}`);
    const input = streams.flatMap((stream) => [
      JSON.stringify({
        type: 'SCHEMA',
        stream,
        schema: { type: 'object', properties: { id: { type: 'integer' }, v: { type: 'string' } } },
        key_properties: ['id'],
      }),
      JSON.stringify({ type: 'RECORD', stream, record: { id: 1, v: stream } }),
    ]);
    await runTarget({
      dialect: duckdbDialect,
      config: duckdbConfigSchema.parse(place.config),
      input: Readable.from([[...input, '{"type":"STATE","value":{"done":true}}'].join('\n')]),
      output: { write: () => {} },
      log: { info: () => {}, warn: () => {} },
    });
    const [row] = (await withDuckDB(place.path, (query) =>
      query("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name LIKE 't%'"),
    )) as { n: number | bigint }[];
    expect(Number(row!.n)).toBe(400);
  }, 180_000); // 400 tables in one DuckDB transaction: about 10 s alone, much longer on a busy CI machine

  it('checkpoints after a commit once 128 tables were written since the last checkpoint, so small tables do not pile up in memory', () => {
    const streams = Array.from({ length: 130 }, (_, i) => `t${i}`);
    const input = streams.flatMap((stream, i) => [
      JSON.stringify({
        type: 'SCHEMA',
        stream,
        schema: { type: 'object', properties: { id: { type: 'integer' } } },
        key_properties: ['id'],
      }),
      JSON.stringify({ type: 'RECORD', stream, record: { id: i } }),
      JSON.stringify({ type: 'STATE', value: { done: i } }),
    ]);
    const config = join(place.path, '..', 'config.json');
    // Without the notebooks' snapshot, whose publishing checkpoints too (snapshot.ts).
    writeFileSync(config, JSON.stringify({ ...place.config, publish_snapshot: false }));
    const result = spawnSync(place.command[0]!, [...place.command.slice(1), '--config', config], {
      input: input.join('\n'),
      encoding: 'utf8',
      env: { ...process.env, TAPLINE_DUCKDB_TRACE: '1' },
    });
    expect(result.status).toBe(0);
    const statements = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('TRACE'))
      .map((line) => line.replace(/^TRACE \d+ms /, ''));
    // 130 tables: no commit before the end of input, whose commit is followed by one checkpoint.
    expect(statements.slice(-2)).toEqual(['COMMIT', 'CHECKPOINT']);
    expect(statements.filter((statement) => statement === 'CHECKPOINT')).toHaveLength(1);
  });

  it('keeps a configured limit as it is', async () => {
    session = await openDuckDBSession(place.path, '96MB');
    expect(session.memoryLimitMb).toBeNull();
    await session.begin();
    await session.createTable({ schema: 'main', table: 'wide' }, wide(831), []);
    await session.describeTable({ schema: 'main', table: 'wide' });
    expect(session.memoryLimitMb).toBeNull();
    await session.commit();
  });
});
