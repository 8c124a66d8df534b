// DuckDB fixtures for tests: open a database file just long enough to read it (a target needs the lock otherwise).
import { DuckDBInstance } from '@duckdb/node-api';

export type Query = (sql: string) => Promise<Record<string, unknown>[]>;

/** Opens the file, runs `body` with a query function (session in UTC), and closes the file again. */
export async function withDuckDB<T>(path: string, body: (query: Query) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    return await body(async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[]);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Rows of one query against a DuckDB file, as JS objects (BIGINT as bigint, DECIMAL as number). */
export function queryDuckDB(path: string, sql: string): Promise<Record<string, unknown>[]> {
  return withDuckDB(path, (query) => query(sql));
}
