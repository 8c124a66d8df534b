// Many interleaved streams: DuckDB's commits are paced so each table is written once per run
// (DUCKDB_COMMIT_CADENCE), and exactly-once still holds when the target is SIGKILLed mid-run.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { readStoredState, runTarget } from '@tapline/target-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { duckdbConfigSchema, duckdbDialect } from '../src/index.js';
import { type DuckDBPlace, duckdbHarness, withDuckDB } from './duckdb-harness.js';

const BIN = fileURLToPath(new URL('../bin/target-duckdb.js', import.meta.url));
const STREAMS = 30;
const stream = (n: number) => `s${n % STREAMS}`;

let place: DuckDBPlace;
beforeEach(async () => {
  place = await duckdbHarness.open();
});
afterEach(async () => place.close());

/**
 * A tap syncing STREAMS tables at once, resumed after `position`: the SCHEMA of every stream,
 * then records `position + 1 .. total` dealt round-robin (keyless: a row loaded twice stays
 * twice), a STATE `{position}` every `stateEvery`.
 */
function tapOutput(position: number, total: number, stateEvery: number): string[] {
  const lines = Array.from({ length: STREAMS }, (_, n) =>
    JSON.stringify({
      type: 'SCHEMA',
      stream: stream(n),
      schema: { type: 'object', properties: { n: { type: 'integer' }, text: { type: 'string' } } },
      key_properties: [],
    }),
  );
  for (let n = position + 1; n <= total; n++) {
    lines.push(JSON.stringify({ type: 'RECORD', stream: stream(n), record: { n, text: `record ${n}` } }));
    if (n % stateEvery === 0) lines.push(JSON.stringify({ type: 'STATE', value: { position: n } }));
  }
  return lines;
}

/** Every `n` loaded, over the streams' tables committed so far, in order (duplicates kept). */
async function loadedNumbers(): Promise<number[]> {
  return withDuckDB(place.path, async (query) => {
    const tables = await query(`SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND table_name LIKE 's%'`);
    if (tables.length === 0) return [];
    const union = tables.map((row) => `SELECT n FROM main."${row.table_name as string}"`).join(' UNION ALL ');
    return (await query(`SELECT n FROM (${union}) ORDER BY n`)).map((row) => Number(row.n));
  });
}

describe('many interleaved streams', () => {
  it('commit once when their rows are few: every table is written in one transaction, whatever batch_size_rows', async () => {
    const states: string[] = [];
    const summary = await runTarget({
      dialect: duckdbDialect,
      config: duckdbConfigSchema.parse({ ...place.config, batch_size_rows: 20 }),
      input: Readable.from([tapOutput(0, 300, 10).join('\n')]),
      output: { write: (text: string) => states.push(text.trim()) },
      log: { info: () => {}, warn: () => {} },
    });
    // 30 STATEs, 300 rows: no stream's batch reached 20 rows, so only the end of input committed.
    expect(summary.statesEmitted).toBe(1);
    expect(states).toEqual(['{"position":300}']);
    expect(await loadedNumbers()).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });

  it('load every record exactly once when the target is SIGKILLed at random points and run again from the stored state', async () => {
    const total = 1200;
    // Batches of 5 rows: streams fill theirs at different times, so commits (about every 150
    // records) come after some tables were written and while the others' rows are still held.
    const config = { ...place.config, batch_size_rows: 5, state_table: 'tapline_state' };
    const positionStored = async () => {
      const state = (await readStoredState(duckdbDialect, duckdbConfigSchema.parse(config))) as { position?: number } | undefined;
      return state?.position ?? 0;
    };
    const configFile = `${place.path}.config.json`;
    writeFileSync(configFile, JSON.stringify(config));
    let seed = 20261207;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let kill = 0; kill < 4; kill++) {
      const from = await positionStored();
      const child = spawn(process.execPath, [BIN, '--config', configFile], { stdio: ['pipe', 'pipe', 'ignore'] });
      let echoed = '';
      child.stdout.on('data', (chunk: Buffer) => {
        echoed += chunk.toString();
      });
      // The rest of the sync, without its end; killed once it committed once or twice, while it loads what follows.
      child.stdin.on('error', () => {}); // the pipe breaks when the kill lands mid-write
      child.stdin.write(`${tapOutput(from, total, 10).join('\n')}\n`);
      const commits = 1 + Math.floor(random() * 2);
      for (let waited = 0; echoed.split('\n').length <= commits && waited < 30_000; waited += 5) await sleep(5);
      await sleep(random() * 30);
      child.kill('SIGKILL');
      await once(child, 'exit');
      // What it echoed was committed: the stored state is at least the last echoed one, and never beyond what was sent.
      const lastEchoed = echoed.trim().split('\n').filter(Boolean).at(-1);
      const stored = await positionStored();
      if (lastEchoed !== undefined) expect(stored).toBeGreaterThanOrEqual((JSON.parse(lastEchoed) as { position: number }).position);
      expect(stored).toBeGreaterThanOrEqual(from);
      // Exactly the records up to the stored state are in, none twice (rows past it may not be committed).
      expect(await loadedNumbers()).toEqual(Array.from({ length: stored }, (_, i) => i + 1));
    }
    const from = await positionStored();
    await runTarget({
      dialect: duckdbDialect,
      config: duckdbConfigSchema.parse(config),
      input: Readable.from([tapOutput(from, total, 10).join('\n')]),
      output: { write: () => {} },
      log: { info: () => {}, warn: () => {} },
    });
    expect(await loadedNumbers()).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  }, 120_000);
});
