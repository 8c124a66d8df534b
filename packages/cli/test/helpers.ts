// Shared test fixtures: temp folders, the fake tap/target, a project for them, DuckDB and PostgreSQL queries.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { type Project, parseProject } from '../src/project.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FAKE_TAP = path.join(here, 'fixtures', 'fake-tap.mjs');
export const FAKE_TARGET = path.join(here, 'fixtures', 'fake-target.mjs');
export const OUTLIVE_RUNNER = path.join(here, 'fixtures', 'outlive-runner.mjs');
export const TAPLINE_BIN = path.join(here, '..', 'bin', 'tapline.js');
export const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tapline-cli-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A project running the fake tap into the fake DuckDB target (declared `type: duckdb` so state lives in the file). */
export function fakeProject(dir: string, tap: Record<string, unknown>, target: Record<string, unknown> = {}): Project {
  return parseProject(fakeProjectSettings(dir, tap, target), path.join(dir, 'tapline.yml'));
}

/** The raw tapline.yml content of `fakeProject`. */
export function fakeProjectSettings(dir: string, tap: Record<string, unknown>, target: Record<string, unknown> = {}) {
  return {
    taps: { fake: { command: ['node', FAKE_TAP], config: tap } },
    targets: { warehouse: { type: 'duckdb', command: ['node', FAKE_TARGET], config: { path: path.join(dir, 'w.duckdb'), ...target } } },
    pipelines: { 'fake-to-warehouse': { tap: 'fake', target: 'warehouse' } },
  };
}

export async function duckdbRows(file: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A fresh PostgreSQL schema for one test, dropped by the returned cleanup. */
export async function pgSchema(prefix: string): Promise<{ schema: string; client: pg.Client; drop: () => Promise<void> }> {
  const schema = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA "${schema}"`);
  return {
    schema,
    client,
    drop: async () => {
      await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      await client.end();
    },
  };
}

export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `tapline` executable. */
export function tapline(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TAPLINE_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** What an uninterrupted run of the fake tap loads: events 0..n-1 once each, users by id with their last version. */
export function expectedFakeLoad(records: number): { events: number[]; users: Map<number, number> } {
  const users = new Map<number, number>();
  for (let n = 0; n < records; n += 3) users.set(n % 50, n);
  return { events: Array.from({ length: records }, (_, i) => i), users };
}

/** `tapline <args>` in `cwd` as a child the test keeps in `children` (to kill after it); `onStderr` sees the log as it comes. */
export function watchTapline(
  cwd: string,
  args: string[],
  children: ChildProcess[],
  onStderr: (text: string) => void = () => {},
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [TAPLINE_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => onStderr((stderr += chunk.toString())));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

/**
 * The model's `providerSchemas` reading only `provider`'s tables, in `schema`: the other providers
 * point at a schema that does not exist, since other tests' schemas in a shared PostgreSQL are not ours.
 */
export function onlyProvider(provider: string, schema: string): Record<string, string> {
  const none = `${schema}_none`;
  return { classmarker: none, testpress: none, onlineexammaker: none, cbthost: none, [provider]: schema };
}
