// `pnpm --filter @tapline/bench many-streams`: both targets on one input of many keyed streams whose records interleave (a tap syncing many tables at once): wall time and peak RSS.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { benchKeyProperties, benchRecord, benchSchema } from './generate.js';
import { type Measured, runTarget, targetBin } from './measure.js';

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** SCHEMA of every stream first, then `rows` records dealt round-robin over the streams, a STATE every `stateEvery`. */
async function writeInterleaved(path: string, streams: number, rows: number, stateEvery: number): Promise<void> {
  const out = createWriteStream(path);
  let buffer = '';
  const write = async (line: string) => {
    buffer += `${line}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  };
  const name = (i: number) => `results_${String(i).padStart(3, '0')}`;
  for (let s = 0; s < streams; s++)
    await write(JSON.stringify({ type: 'SCHEMA', stream: name(s), schema: benchSchema, key_properties: benchKeyProperties }));
  for (let i = 1; i <= rows; i++) {
    await write(
      JSON.stringify({ type: 'RECORD', stream: name(i % streams), record: benchRecord(i), time_extracted: '2025-01-15T08:00:00Z' }),
    );
    if (i % stateEvery === 0 || i === rows) await write(JSON.stringify({ type: 'STATE', value: { position: i } }));
  }
  out.end(buffer);
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { streams: { type: 'string' }, rows: { type: 'string' }, 'state-every': { type: 'string' }, only: { type: 'string' } },
  });
  const streams = Number(values.streams ?? 500);
  const rows = Number(values.rows ?? 250_000);
  const stateEvery = Number(values['state-every'] ?? 5_000);
  const dir = await mkdtemp(join(tmpdir(), 'tapline-many-streams-'));
  const schema = `bench_many_${process.pid}`;
  try {
    const input = join(dir, 'input.jsonl');
    await writeInterleaved(input, streams, rows, stateEvery);
    process.stderr.write(
      `${streams} keyed streams, ${rows} records interleaved, a STATE every ${stateEvery}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GB\n`,
    );
    const results: [string, Measured][] = [];
    const postgres = targetBin('@tapline/target-postgres', 'target-postgres.js');
    if (postgres !== undefined && values.only !== 'duckdb') {
      results.push([
        'target-postgres',
        await runTarget(postgres, { connection_string: PG_URL, default_target_schema: schema }, input, dir),
      ]);
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
    const duckdb = targetBin('@tapline/target-duckdb', 'target-duckdb.js');
    if (duckdb !== undefined && values.only !== 'postgres') {
      results.push(['target-duckdb', await runTarget(duckdb, { path: join(dir, 'many.duckdb') }, input, dir)]);
    }
    for (const [target, measured] of results) {
      process.stdout.write(
        `${target}: ${measured.seconds.toFixed(1)} s wall, ${measured.cpuSeconds?.toFixed(1) ?? '?'} s CPU, peak RSS ${measured.peakRssMb?.toFixed(0) ?? '?'} MB\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
