// Pipes a tap's Singer output into the real target-duckdb / target-postgres executables and reads tables back.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';

export const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const bin = (name: string) => fileURLToPath(new URL(`../../node_modules/@tapline/${name}/bin/${name}.js`, import.meta.url));

/** Runs a target with `input` on stdin; resolves with its exit code and stderr. */
export function runTarget(name: 'target-duckdb' | 'target-postgres', config: unknown, input: string): Promise<{ code: number; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin(name), '--config', configPath], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
    child.stdin.end(input);
  });
}

/** A fresh DuckDB file in a temp dir. */
export function duckdbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'tap-landing-')), 'warehouse.duckdb');
}

export async function queryDuckDB(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A schema of its own for one test; `drop()` removes it. */
export async function pgSchema(): Promise<{ name: string; query(sql: string): Promise<Record<string, unknown>[]>; drop(): Promise<void> }> {
  const name = `tap_landing_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  return {
    name,
    query: async (sql) => (await client.query(sql)).rows,
    drop: async () => {
      await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await client.end();
    },
  };
}
