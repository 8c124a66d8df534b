// The DuckDB harness for the shared target contract suite: a fresh database file per test.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDuckDB } from '@tapline/testing/landing';
import type { TargetPlace } from '@tapline/testing/target-contract';
import { DUCKDB_COMMIT_CADENCE } from '../src/session.js';
import { descriptionPart, kindOfColumn } from '../src/types.js';

export { withDuckDB };

const BIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '../bin/target-duckdb.js');

/** Plain-JS reading of one cell, by DuckDB type (the contract suite's value conventions). */
function cellSql(name: string, type: string): string {
  const q = `"${name.replaceAll('"', '""')}"`;
  if (type === 'TIMESTAMP WITH TIME ZONE') return `strftime(${q} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')`;
  if (type === 'DATE' || type === 'TIME' || type === 'JSON' || type === 'HUGEINT' || type.startsWith('DECIMAL('))
    return `CAST(${q} AS VARCHAR)`;
  return q;
}

function plainValue(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (type === 'JSON') return JSON.parse(value as string) as unknown;
  // Exact numbers: a number when a double holds them exactly, else their digits (the contract's convention).
  if (type === 'HUGEINT' || type.startsWith('DECIMAL(')) {
    const text = (value as string).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
    return String(Number(text)) === text ? Number(text) : text;
  }
  return value;
}

/** The contract's place to load into, plus the DuckDB file it lives in. */
export interface DuckDBPlace extends TargetPlace {
  readonly path: string;
}

export const duckdbHarness = {
  name: 'duckdb',
  textAcceptsNul: true,
  maxTablesPerCommit: DUCKDB_COMMIT_CADENCE.maxTablesPerCommit,
  async unavailable(): Promise<string | null> {
    return null; // DuckDB is embedded: always available
  },
  async open(): Promise<DuckDBPlace> {
    const dir = await mkdtemp(join(tmpdir(), 'tapline-duckdb-test-'));
    const path = join(dir, 'warehouse.duckdb');
    const types = async (table: string) =>
      withDuckDB(path, (query) =>
        query(
          `SELECT column_name AS name, data_type AS type, comment FROM duckdb_columns()
           WHERE schema_name = 'main' AND table_name = '${table.replaceAll("'", "''")}' ORDER BY column_index`,
        ),
      ) as Promise<{ name: string; type: string; comment: string | null }[]>;
    const qualify = (table: string) => `"main"."${table.replaceAll('"', '""')}"`;
    return {
      path,
      // Explicit, as the PostgreSQL harness does: every stream (even `a-b`) lands in main.
      config: { path, default_target_schema: 'main' },
      command: [process.execPath, BIN],
      async rows(table, orderBy = []) {
        const columns = await types(table);
        const select = columns.map(({ name, type }) => `${cellSql(name, type)} AS "${name.replaceAll('"', '""')}"`).join(', ');
        const order = orderBy.length > 0 ? ` ORDER BY ${orderBy.map((name) => `"${name}"`).join(', ')}` : '';
        const rows = await withDuckDB(path, (query) => query(`SELECT ${select} FROM ${qualify(table)}${order}`));
        return rows.map((row) => Object.fromEntries(columns.map(({ name, type }) => [name, plainValue(row[name], type)])));
      },
      async columns(table) {
        const columns = await types(table);
        return Object.fromEntries(columns.map(({ name, type, comment }) => [name, kindOfColumn(type, comment) ?? type]));
      },
      async tables() {
        const rows = await withDuckDB(path, (query) =>
          query(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1`),
        );
        return rows.map((row) => row.name as string);
      },
      qualify,
      async execute(sql) {
        await withDuckDB(path, (query) => query(sql));
      },
      async comments(table) {
        const name = table.replaceAll("'", "''");
        const [tableRow] = await withDuckDB(path, (query) =>
          query(`SELECT comment FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = '${name}'`),
        );
        const columns = await types(table);
        return {
          table: (tableRow?.comment as string | null | undefined) ?? null,
          // The decimal marker (types.ts) is the target's bookkeeping, not part of the description.
          columns: Object.fromEntries(columns.map(({ name, comment }) => [name, descriptionPart(comment)])),
        };
      },
      async close() {
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};
