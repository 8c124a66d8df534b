// `pnpm bench`: each target's wall time against its database's own bulk load of the same rows, and its peak RSS.

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { BENCH_STREAM, benchRecord, writeBenchInput } from './generate.js';
import { type Measured, runTarget, targetBin } from './measure.js';

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The bench table's columns as both targets create them (record columns, then metadata columns). */
const COLUMNS: readonly [name: string, duckdb: string, postgres: string][] = [
  ['result_id', 'BIGINT', 'bigint'],
  ['exam_id', 'BIGINT', 'bigint'],
  ['user_id', 'BIGINT', 'bigint'],
  ['user_name', 'VARCHAR', 'text'],
  ['email', 'VARCHAR', 'text'],
  ['score', 'DOUBLE', 'double precision'],
  ['percentage', 'DOUBLE', 'double precision'],
  ['passed', 'BOOLEAN', 'boolean'],
  ['attempt', 'BIGINT', 'bigint'],
  ['started_at', 'TIMESTAMPTZ', 'timestamptz'],
  ['finished_at', 'TIMESTAMPTZ', 'timestamptz'],
  ['duration_seconds', 'BIGINT', 'bigint'],
  ['ip_address', 'VARCHAR', 'text'],
  ['feedback', 'VARCHAR', 'text'],
  ['details', 'JSON', 'jsonb'],
];
const META_COLUMNS: readonly [string, string, string][] = [
  ['_sdc_extracted_at', 'TIMESTAMPTZ', 'timestamptz'],
  ['_sdc_received_at', 'TIMESTAMPTZ', 'timestamptz'],
  ['_sdc_batched_at', 'TIMESTAMPTZ', 'timestamptz'],
  ['_sdc_deleted_at', 'TIMESTAMPTZ', 'timestamptz'],
  ['_sdc_sequence', 'BIGINT', 'bigint'],
  ['_sdc_table_version', 'BIGINT', 'bigint'],
];

/** The records alone, one JSON object per line (DuckDB read_json's input) and as CSV (COPY's input). */
async function writeBaselineInputs(dir: string, rows: number): Promise<{ ndjson: string; csv: string }> {
  const ndjson = join(dir, 'records.jsonl');
  const csv = join(dir, 'records.csv');
  const json = createWriteStream(ndjson);
  const text = createWriteStream(csv);
  let jsonBuffer = '';
  let csvBuffer = '';
  const csvCell = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    const raw = typeof value === 'object' ? JSON.stringify(value) : String(value);
    return typeof value === 'string' || typeof value === 'object' ? `"${raw.replaceAll('"', '""')}"` : raw;
  };
  for (let i = 1; i <= rows; i++) {
    const record = benchRecord(i);
    jsonBuffer += `${JSON.stringify(record)}\n`;
    csvBuffer += `${COLUMNS.map(([name]) => csvCell(record[name])).join(',')},2025-01-15T08:00:00Z,,,,,\n`;
    if (jsonBuffer.length > 1 << 20) {
      if (!json.write(jsonBuffer)) await once(json, 'drain');
      if (!text.write(csvBuffer)) await once(text, 'drain');
      jsonBuffer = '';
      csvBuffer = '';
    }
  }
  json.end(jsonBuffer);
  text.end(csvBuffer);
  await Promise.all([once(json, 'finish'), once(text, 'finish')]);
  return { ndjson, csv };
}

/** DuckDB's own read_json of the records into an identical table in a fresh file. */
async function duckdbReadJson(ndjson: string, dir: string): Promise<Measured> {
  const instance = await DuckDBInstance.create(join(dir, 'baseline.duckdb'));
  const connection = await instance.connect();
  try {
    const all = [...COLUMNS, ...META_COLUMNS];
    await connection.run(`CREATE TABLE ${BENCH_STREAM} (${all.map(([name, type]) => `"${name}" ${type}`).join(', ')})`);
    const spec = COLUMNS.map(([name, type]) => `"${name}": '${type}'`).join(', ');
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    await connection.run(
      `INSERT INTO ${BENCH_STREAM} SELECT *, TIMESTAMPTZ '2025-01-15 08:00:00+00', NULL, NULL, NULL, NULL, NULL
       FROM read_json('${ndjson}', format = 'newline_delimited', columns = {${spec}})`,
    );
    await connection.run('CHECKPOINT');
    const cpu = process.cpuUsage(cpuStarted);
    return { seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A plain COPY FROM STDIN (FORMAT csv) of the same rows into an identical table (with its primary key). */
async function postgresCopy(csv: string, schema: string): Promise<Measured> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const all = [...COLUMNS, ...META_COLUMNS];
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(
      `CREATE TABLE "${schema}".baseline (${all.map(([name, , type]) => `"${name}" ${type}`).join(', ')}, PRIMARY KEY (result_id))`,
    );
    const started = performance.now();
    await pipeline(createReadStream(csv), client.query(copyFrom(`COPY "${schema}".baseline FROM STDIN (FORMAT csv)`)));
    return { seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.end();
  }
}

/**
 * Write out what earlier loads left in PostgreSQL's buffers and WAL before a timed load, so that
 * no load pays for another's checkpoint (a 1M-row load writes ~0.5 GB of WAL; the background
 * checkpoint it triggers otherwise lands in whichever load runs next).
 */
async function checkpoint(): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query('CHECKPOINT').finally(() => client.end());
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
}

/** The bin of a workspace target, or undefined when that package is not built. */
interface Row {
  target: string;
  rows: number;
  seconds: number;
  baseline: string;
  baselineSeconds: number;
  goal: string;
  cpuSeconds?: number;
  baselineCpuSeconds?: number;
  peakRssMb?: number;
  smallRssMb?: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, only: { type: 'string' } } });
  const rows = Number(values.rows ?? 1_000_000);
  if (!Number.isSafeInteger(rows) || rows < 1) throw new Error('--rows must be a positive integer');
  const only = values.only;
  if (only !== undefined && only !== 'postgres' && only !== 'duckdb') throw new Error('--only must be postgres or duckdb');
  const small = Math.min(100_000, rows);

  const dir = await mkdtemp(join(tmpdir(), 'tapline-bench-'));
  const results: Row[] = [];
  try {
    log(`generating ${rows.toLocaleString('en')} records in ${dir}`);
    const input = await writeBenchInput(join(dir, 'input.singer'), rows);
    const smallInput = small < rows ? await writeBenchInput(join(dir, 'input-small.singer'), small) : input;
    const baselines = await writeBaselineInputs(dir, rows);
    log(`input: ${(input.bytes / 1e6).toFixed(0)} MB, ${(input.bytes / rows).toFixed(0)} bytes per message`);

    if (only !== 'postgres') {
      const bin = targetBin('@tapline/target-duckdb', 'target-duckdb.js');
      if (bin === undefined) log('target-duckdb is not built; skipped');
      else {
        log('duckdb: read_json baseline');
        const baseline = await duckdbReadJson(baselines.ndjson, dir);
        const smallRun = small < rows ? await runTarget(bin, { path: join(dir, 'small.duckdb') }, smallInput.path, dir) : undefined;
        log('duckdb: target-duckdb');
        const run = await runTarget(bin, { path: join(dir, 'target.duckdb') }, input.path, dir);
        results.push({
          target: 'target-duckdb',
          rows,
          seconds: run.seconds,
          baseline: 'DuckDB `read_json`',
          baselineSeconds: baseline.seconds,
          goal: '≤ 2',
          ...cpuOf(run, baseline),
          ...(run.peakRssMb === undefined ? {} : { peakRssMb: run.peakRssMb }),
          ...(smallRun?.peakRssMb === undefined ? {} : { smallRssMb: smallRun.peakRssMb }),
        });
      }
    }

    if (only !== 'duckdb') {
      const bin = targetBin('@tapline/target-postgres', 'target-postgres.js');
      const schema = `bench_${process.pid}`;
      if (bin === undefined) log('target-postgres is not built; skipped');
      else {
        try {
          log('postgres: COPY baseline');
          await checkpoint();
          const baseline = await postgresCopy(baselines.csv, `${schema}_copy`);
          const config = (target: string) => ({ connection_string: PG_URL, default_target_schema: target });
          const smallRun = small < rows ? await runTarget(bin, config(`${schema}_small`), smallInput.path, dir) : undefined;
          log('postgres: target-postgres');
          await checkpoint();
          const run = await runTarget(bin, config(schema), input.path, dir);
          results.push({
            target: 'target-postgres',
            rows,
            seconds: run.seconds,
            baseline: '`COPY ... FROM STDIN (FORMAT csv)`',
            baselineSeconds: baseline.seconds,
            goal: '≤ 1.5',
            ...cpuOf(run, baseline),
            ...(run.peakRssMb === undefined ? {} : { peakRssMb: run.peakRssMb }),
            ...(smallRun?.peakRssMb === undefined ? {} : { smallRssMb: smallRun.peakRssMb }),
          });
        } finally {
          for (const name of [schema, `${schema}_small`, `${schema}_copy`]) await dropSchema(name).catch(() => {});
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(table(results, small, rows));
}

function cpuOf(run: Measured, baseline: Measured): Pick<Row, 'cpuSeconds' | 'baselineCpuSeconds'> {
  return {
    ...(run.cpuSeconds === undefined ? {} : { cpuSeconds: run.cpuSeconds }),
    ...(baseline.cpuSeconds === undefined ? {} : { baselineCpuSeconds: baseline.cpuSeconds }),
  };
}

function table(results: readonly Row[], small: number, rows: number): string {
  const mb = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(0)} MB`);
  const count = (n: number) => n.toLocaleString('en');
  const cpu = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(1)} s`);
  const lines = [
    `| target | rows | target wall time | baseline | baseline time | ratio | goal | target CPU | baseline CPU | peak RSS at ${count(small)} | peak RSS at ${count(rows)} |`,
    '|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.target} | ${count(r.rows)} | ${r.seconds.toFixed(1)} s | ${r.baseline} | ${r.baselineSeconds.toFixed(1)} s | ${(r.seconds / r.baselineSeconds).toFixed(2)} | ${r.goal} | ${cpu(r.cpuSeconds)} | ${cpu(r.baselineCpuSeconds)} | ${mb(r.smallRssMb ?? r.peakRssMb)} | ${mb(r.peakRssMb)} |`,
    ),
  ];
  return `\n${lines.join('\n')}\n`;
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
