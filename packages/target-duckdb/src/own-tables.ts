// Tapline's own tables in a DuckDB file: the state table's neighbour that binds each pipeline to
// an account (`<state table>_accounts`). knex has no DuckDB dialect, so this is their one DDL
// path here (PostgreSQL's are knex migrations in target-postgres); `CREATE ... IF NOT EXISTS`
// leaves a file an older Tapline made as it is.
import type { DuckDBConnection } from '@duckdb/node-api';
import { type AccountBinding, accountsTableOf, type TableRef } from '@tapline/target-kit';

/** `name` of a table, written as `qualify` writes it (the session's catalog rule). */
type Qualify = (...names: string[]) => string;

const BINDING_COLUMNS = ['account', 'vendor', 'base_url', 'credentials'] as const;

export async function tableExists(connection: DuckDBConnection, table: TableRef): Promise<boolean> {
  const reader = await connection.runAndReadAll(
    `SELECT 1 FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = $1 AND table_name = $2`,
    [table.schema, table.table],
  );
  return reader.currentRowCount > 0;
}

export async function createAccountsTable(connection: DuckDBConnection, qualify: Qualify, state: TableRef): Promise<void> {
  const accounts = accountsTableOf(state);
  await connection.run(
    `CREATE TABLE IF NOT EXISTS ${qualify(accounts.schema, accounts.table)} (pipeline VARCHAR PRIMARY KEY, account VARCHAR NOT NULL, ` +
      `vendor VARCHAR NOT NULL, base_url VARCHAR, credentials VARCHAR, bound_at TIMESTAMPTZ NOT NULL)`,
  );
}

export async function readAccountBinding(
  connection: DuckDBConnection,
  qualify: Qualify,
  state: TableRef,
  id: string,
): Promise<AccountBinding | undefined> {
  const accounts = accountsTableOf(state);
  if (!(await tableExists(connection, accounts))) return undefined;
  const reader = await connection.runAndReadAll(
    `SELECT ${BINDING_COLUMNS.join(', ')} FROM ${qualify(accounts.schema, accounts.table)} WHERE pipeline = $1`,
    [id],
  );
  return reader.getRowObjectsJson()[0] as AccountBinding | undefined;
}

export async function writeAccountBinding(
  connection: DuckDBConnection,
  qualify: Qualify,
  state: TableRef,
  id: string,
  binding: AccountBinding,
): Promise<void> {
  const accounts = accountsTableOf(state);
  await connection.run(
    `INSERT INTO ${qualify(accounts.schema, accounts.table)} (pipeline, ${BINDING_COLUMNS.join(', ')}, bound_at) VALUES ($1, $2, $3, $4, $5, current_timestamp) ` +
      `ON CONFLICT (pipeline) DO UPDATE SET ${BINDING_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, bound_at = EXCLUDED.bound_at`,
    [id, binding.account, binding.vendor, binding.base_url, binding.credentials],
  );
}

/** Deletes pipeline `id`'s state and binding in one transaction; answers whether a state was stored. */
export async function deleteState(connection: DuckDBConnection, qualify: Qualify, state: TableRef, id: string): Promise<boolean> {
  if (!(await tableExists(connection, state))) return false;
  const accounts = accountsTableOf(state);
  await connection.run('BEGIN TRANSACTION');
  try {
    const found = await connection.runAndReadAll(`SELECT 1 FROM ${qualify(state.schema, state.table)} WHERE id = $1`, [id]);
    await connection.run(`DELETE FROM ${qualify(state.schema, state.table)} WHERE id = $1`, [id]);
    // The next run starts fresh, so it binds to whichever account its tap then reads.
    if (await tableExists(connection, accounts)) {
      await connection.run(`DELETE FROM ${qualify(accounts.schema, accounts.table)} WHERE pipeline = $1`, [id]);
    }
    await connection.run('COMMIT');
    return found.currentRowCount > 0;
  } catch (error) {
    await connection.run('ROLLBACK').catch(() => {});
    throw error;
  }
}
