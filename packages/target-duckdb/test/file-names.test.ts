// Any DuckDB file name works: DuckDB names the catalog after the file, so a schema named like the
// file (analytics.duckdb, schema analytics) would make two-part names ambiguous; the target writes
// every name with its catalog.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runTarget } from '@tapline/target-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { duckdbConfigSchema, duckdbDialect } from '../src/index.js';
import { withDuckDB } from './duckdb-harness.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tapline-duckdb-names-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = (...messages: unknown[]) => `${messages.map((message) => JSON.stringify(message)).join('\n')}\n`;

async function load(input: string, config: Record<string, unknown>) {
  const states: string[] = [];
  await runTarget({
    dialect: duckdbDialect,
    config: duckdbConfigSchema.parse(config),
    input: Readable.from([input]),
    output: { write: (text: string) => states.push(text.trim()) },
    log: { info: () => {}, warn: () => {} },
  });
  return states;
}

const schema = (properties: Record<string, unknown>) => ({
  type: 'SCHEMA',
  stream: 'results',
  key_properties: ['id'],
  schema: { type: 'object', properties: { id: { type: 'integer' }, ...properties } },
});
const record = (value: Record<string, unknown>) => ({ type: 'RECORD', stream: 'results', record: value, version: 2 });

/**
 * Two runs into one file: rows and state, then updates by key, a new column after those updates
 * (the table is rebuilt in the transaction), a wider decimal, and ACTIVATE_VERSION retiring a row.
 */
async function loadTwice(file: string, targetSchema: string | undefined) {
  const path = join(dir, file);
  const config = {
    path,
    state_table: 'tapline_state',
    activate_version: true,
    ...(targetSchema === undefined ? {} : { default_target_schema: targetSchema }),
  };
  const first = await load(
    lines(schema({ score: { type: 'number' } }), record({ id: 1, score: 1.5 }), record({ id: 2, score: 2 }), {
      type: 'STATE',
      value: { run: 1 },
    }),
    config,
  );
  const second = await load(
    lines(
      schema({ score: { type: 'string', format: 'decimal' }, note: { type: 'string' } }),
      { type: 'ACTIVATE_VERSION', stream: 'results', version: 3 },
      { ...record({ id: 1, score: '10.125', note: 'again' }), version: 3 },
      { type: 'ACTIVATE_VERSION', stream: 'results', version: 3 },
      { type: 'STATE', value: { run: 2 } },
    ),
    config,
  );
  return { path, states: [...first, ...second] };
}

async function read(path: string, sql: string) {
  return withDuckDB(path, (query) => query(sql));
}

describe('any DuckDB file name works', () => {
  it('loads into schema analytics of analytics.duckdb (the catalog is named like the schema)', async () => {
    const { path, states } = await loadTwice('analytics.duckdb', 'analytics');
    expect(states).toEqual(['{"run":1}', '{"run":2}']);
    expect(
      await read(
        path,
        `SELECT id, CAST(score AS DOUBLE) AS score, note, _sdc_deleted_at IS NOT NULL AS retired FROM analytics.analytics.results ORDER BY id`,
      ),
    ).toEqual([
      { id: 1n, score: 10.125, note: 'again', retired: false },
      { id: 2n, score: 2, note: null, retired: true },
    ]);
    expect(await read(path, `SELECT CAST(value AS VARCHAR) AS value FROM analytics.analytics.tapline_state`)).toEqual([
      { value: '{"run":2}' },
    ]);
  });

  it('loads into the default schema main of main.duckdb (a catalog DuckDB names main_db)', async () => {
    const { path, states } = await loadTwice('main.duckdb', undefined);
    expect(states).toEqual(['{"run":1}', '{"run":2}']);
    expect(await read(path, `SELECT id, note FROM main_db.main.results ORDER BY id`)).toEqual([
      { id: 1n, note: 'again' },
      { id: 2n, note: null },
    ]);
  });

  it('loads into a file with a space and dots in its name (catalog "my warehouse"), into schema my_warehouse', async () => {
    const { path, states } = await loadTwice('my warehouse.v2.duckdb', 'my_warehouse');
    expect(states).toEqual(['{"run":1}', '{"run":2}']);
    expect(await read(path, `SELECT id, note FROM "my warehouse".my_warehouse.results ORDER BY id`)).toEqual([
      { id: 1n, note: 'again' },
      { id: 2n, note: null },
    ]);
  });

  it('loads into schema my of my.warehouse.duckdb (DuckDB names the catalog my, before the first dot)', async () => {
    const { path, states } = await loadTwice('my.warehouse.duckdb', 'my');
    expect(states).toEqual(['{"run":1}', '{"run":2}']);
    expect(await read(path, `SELECT count(*) AS rows FROM my.my.results`)).toEqual([{ rows: 2n }]);
    expect(await read(path, `SELECT count(*) AS rows FROM my.my.tapline_state`)).toEqual([{ rows: 1n }]);
  });
});
