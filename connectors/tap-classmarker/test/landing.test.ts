// `tap-classmarker | target-duckdb` and `| target-postgres` as real processes: exactly the simulator's results land.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startClassMarkerSimulator, type ClassMarkerSimulator } from '../simulator/index.js';

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dir = mkdtempSync(join(tmpdir(), 'classmarker-landing-'));
const file = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};
const tapBin = fileURLToPath(new URL('../bin/tap-classmarker.js', import.meta.url));
const targetBin = (name: string) => fileURLToPath(new URL(`../node_modules/@tapline/${name}/bin/${name}.js`, import.meta.url));

/** `tap --config c.json [--state s.json] | target --config d.json`; resolves with both exit codes and the last state line. */
function pipe(tapArgs: string[], target: 'target-duckdb' | 'target-postgres', targetConfig: string) {
  return new Promise<{ tap: number; target: number; stderr: string; state: unknown }>((resolve, reject) => {
    const tap = spawn(process.execPath, [tapBin, ...tapArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    const sink = spawn(process.execPath, [targetBin(target), '--config', targetConfig], { stdio: ['pipe', 'pipe', 'pipe'] });
    tap.stdout.pipe(sink.stdin);
    let stderr = '';
    let out = '';
    tap.stderr.on('data', (chunk) => (stderr += chunk));
    sink.stderr.on('data', (chunk) => (stderr += chunk));
    sink.stdout.on('data', (chunk) => (out += chunk));
    let tapCode: number | undefined;
    tap.on('error', reject);
    sink.on('error', reject);
    tap.on('close', (code) => (tapCode = code ?? 1));
    sink.on('close', (code) => {
      const lines = out.trim().split('\n').filter(Boolean);
      resolve({ tap: tapCode ?? -1, target: code ?? 1, stderr, state: lines.length ? JSON.parse(lines.at(-1)!) : undefined });
    });
  });
}

/** link_result_id -> time_finished (UNIX seconds), as the simulator holds them. */
const heldLinks = (sim: ClassMarkerSimulator) => new Map(sim.data.linkResults.map((e) => [e.result.link_result_id, e.result.time_finished]));
const heldGroupKeys = (sim: ClassMarkerSimulator) => sim.data.groupResults.map((e) => `${e.result.user_id}/${e.result.test_id}/${e.result.group_id}/${e.result.time_started}`).sort();

let sim: ClassMarkerSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function twoRuns(target: 'target-duckdb' | 'target-postgres', targetConfig: string, read: () => Promise<{ links: Map<number, number>; groupKeys: string[] }>) {
  sim = await startClassMarkerSimulator({ seed: 'landing', linkResults: 2000, groupResults: 500, rateLimitPerHour: 1000 });
  const config = file(`tap-${target}.json`, sim.config);
  const first = await pipe(['--config', config], target, targetConfig);
  expect(first, first.stderr).toMatchObject({ tap: 0, target: 0 });
  const landed = await read();
  expect(landed.links).toEqual(heldLinks(sim));
  expect(landed.groupKeys).toEqual(heldGroupKeys(sim));

  // Between runs: new results, and re-opened exams re-sent with a later time_finished.
  sim.addResults('link', 25);
  sim.addResults('group', 10);
  sim.reopenResults('link', 3);
  sim.reopenResults('group', 3);
  sim.requests.clear();
  const state = file(`state-${target}.json`, first.state);
  const second = await pipe(['--config', config, '--state', state], target, targetConfig);
  expect(second, second.stderr).toMatchObject({ tap: 0, target: 0 });
  expect(sim.requests.count('links_recent_results')).toBe(1); // only what is new
  const after = await read();
  expect(after.links).toEqual(heldLinks(sim));
  expect(after.groupKeys).toEqual(heldGroupKeys(sim));
}

describe('landing', () => {
  it('lands exactly the simulator’s results in DuckDB, and a second run adds only new ones', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'classmarker-duckdb-')), 'warehouse.duckdb');
    const read = async () => {
      const instance = await DuckDBInstance.create(path);
      const connection = await instance.connect();
      try {
        const links = (await connection.runAndReadAll('SELECT link_result_id, epoch(time_finished)::BIGINT AS t FROM main.link_results')).getRowObjectsJS();
        const groups = (await connection.runAndReadAll('SELECT user_id, test_id, group_id, epoch(time_started)::BIGINT AS s FROM main.group_results')).getRowObjectsJS();
        return {
          links: new Map(links.map((r) => [Number(r.link_result_id), Number(r.t)])),
          groupKeys: groups.map((r) => `${r.user_id}/${r.test_id}/${r.group_id}/${r.s}`).sort(),
        };
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    };
    await twoRuns('target-duckdb', file('duckdb.json', { path }), read);
  }, 60_000);

  it('lands the same in PostgreSQL', async () => {
    const schema = `classmarker_landing_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const read = async () => {
        const links = (await client.query(`SELECT link_result_id, extract(epoch FROM time_finished)::bigint AS t FROM "${schema}".link_results`)).rows;
        const groups = (await client.query(`SELECT user_id, test_id, group_id, extract(epoch FROM time_started)::bigint AS s FROM "${schema}".group_results`)).rows;
        return {
          links: new Map(links.map((r) => [Number(r.link_result_id), Number(r.t)])),
          groupKeys: groups.map((r) => `${r.user_id}/${r.test_id}/${r.group_id}/${r.s}`).sort(),
        };
      };
      await twoRuns('target-postgres', file('postgres.json', { connection_string: PG_URL, default_target_schema: schema }), read);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }, 60_000);
});
