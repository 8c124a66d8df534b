// Tapline's own tables on PostgreSQL: the state table and, beside it, the runner's account bindings
// (`<state table>_accounts`). Their DDL is versioned as knex migrations, kept here in code and
// recorded per state table in `<state table>_migrations`, so a database made by an older Tapline
// is brought up to date in order. The load path does not load knex (it costs ~150 ms at start-up):
// it creates the state table itself (`stateTableDdl`), in its transaction.
import { type AccountBinding, accountsTableOf, type TableRef } from '@tapline/target-kit';
import type { Knex } from 'knex';
import type pg from 'pg';
import type { PgConnection } from './connection.js';

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const qualified = (table: TableRef): string => `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`;

/** The state table, as every Tapline version made it: one row per pipeline. */
export const stateTableDdl = (table: TableRef): string =>
  `CREATE TABLE IF NOT EXISTS ${qualified(table)} (id text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`;

/** The runner's account bindings beside the state table (named once, in target-kit). */
export const accountsTable = accountsTableOf;
/** Where knex records which migrations ran (and, with `_lock` appended, its lock row). */
export const migrationsTable = (state: TableRef): TableRef => ({ schema: state.schema, table: `${state.table}_migrations` });

interface Migration {
  readonly name: string;
  up(knex: Knex, state: TableRef): Promise<void>;
}

/**
 * In order, never edited once released: a change is a new migration. The state table itself is
 * made by a load, in the transaction of its first rows (so a failed first run leaves no table),
 * with `stateTableDdl`: the first migration records that shape as the baseline, and a later change
 * of it is a migration that alters an existing table together with a new `stateTableDdl`. The
 * account bindings are the runner's alone, made here; `IF NOT EXISTS` keeps a table an older
 * Tapline made (in VARCHAR columns, which PostgreSQL stores as text).
 */
const MIGRATIONS: readonly Migration[] = [
  { name: '0001_state_table', up: async () => {} },
  {
    name: '0002_account_bindings',
    async up(knex, state) {
      const accounts = accountsTable(state);
      if (await knex.schema.withSchema(accounts.schema).hasTable(accounts.table)) return;
      await knex.schema.withSchema(accounts.schema).createTable(accounts.table, (table) => {
        table.text('pipeline').primary();
        table.text('account').notNullable();
        table.text('vendor').notNullable();
        table.text('base_url');
        table.text('credentials');
        table.timestamp('bound_at', { useTz: true }).notNullable();
      });
    },
  },
];

/** knex's migration source, from the list above rather than files read at run time. */
function migrationSource(state: TableRef): Knex.MigrationSource<Migration> {
  return {
    getMigrations: async () => [...MIGRATIONS],
    getMigrationName: (migration) => migration.name,
    getMigration: async (migration) => ({ up: (knex: Knex) => migration.up(knex, state), down: async () => {} }),
  };
}

let loaded: Promise<typeof import('knex').knex> | undefined;
/** knex is CommonJS: from ESM its factory is the default export. */
const loadKnex = () => (loaded ??= import('knex').then((module) => module.default as unknown as typeof import('knex').knex));

/** A knex that only writes SQL (run on the session's own connection): PostgreSQL's dialect, no pool. */
let builder: Knex | undefined;
export async function sqlBuilder(): Promise<Knex> {
  builder ??= (await loadKnex())({ client: 'pg' });
  return builder;
}

/** The migrations not yet recorded for `state`, read on the session's connection (a read-only check when none are due). */
async function pendingMigrations(db: PgConnection, state: TableRef): Promise<string[]> {
  const recorded = qualified(migrationsTable(state));
  const found = await db.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [recorded]);
  if (found.rows[0]?.found == null) return MIGRATIONS.map((m) => m.name);
  const done = new Set((await db.query<{ name: string }>(`SELECT name FROM ${recorded}`)).rows.map((r) => r.name));
  return MIGRATIONS.map((m) => m.name).filter((name) => !done.has(name));
}

/**
 * Brings Tapline's tables beside `state` up to date. knex runs the migrations on a connection of
 * its own (each in its transaction) while the calling connection holds an advisory lock on the state
 * table's name, so two runners starting at once migrate one after the other; a knex lock row left
 * by a migrator that died is released first, since no other can hold it now.
 */
export async function migrateOwnTables(db: PgConnection, settings: pg.ClientConfig, state: TableRef): Promise<void> {
  if ((await pendingMigrations(db, state)).length === 0) return;
  const key = [`tapline own tables ${qualified(state)}`];
  await db.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', key);
  const knex = (await loadKnex())({ client: 'pg', connection: settings as Knex.PgConnectionConfig, pool: { min: 0, max: 1 } });
  try {
    await knex.raw(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(state.schema)}`);
    const config = { migrationSource: migrationSource(state), schemaName: state.schema, tableName: migrationsTable(state).table };
    if (await knex.schema.withSchema(state.schema).hasTable(`${config.tableName}_lock`)) await knex.migrate.forceFreeMigrationsLock(config);
    await knex.migrate.latest(config);
  } finally {
    await knex.destroy();
    await db.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', key);
  }
}

const BINDING_COLUMNS = ['account', 'vendor', 'base_url', 'credentials'] as const;

/** The account binding of pipeline `id`, or undefined (also when the table was never made). */
export async function readAccountBinding(db: PgConnection, state: TableRef, id: string): Promise<AccountBinding | undefined> {
  const accounts = accountsTable(state);
  if (!(await exists(db, accounts))) return undefined;
  const knex = await sqlBuilder();
  const query = knex(accounts.table).withSchema(accounts.schema).select(BINDING_COLUMNS).where({ pipeline: id }).toSQL().toNative();
  return (await db.query<AccountBinding & pg.QueryResultRow>(query.sql, query.bindings as unknown[])).rows[0];
}

export async function writeAccountBinding(db: PgConnection, state: TableRef, id: string, binding: AccountBinding): Promise<void> {
  const accounts = accountsTable(state);
  const knex = await sqlBuilder();
  const row = { pipeline: id, ...pick(binding), bound_at: knex.fn.now() };
  const query = knex(accounts.table).withSchema(accounts.schema).insert(row).onConflict('pipeline').merge().toSQL().toNative();
  await db.query(query.sql, query.bindings as unknown[]);
}

/** Deletes pipeline `id`'s state and binding in one transaction; answers whether a state was stored. */
export async function deleteState(db: PgConnection, state: TableRef, id: string): Promise<boolean> {
  if (!(await exists(db, state))) return false;
  const knex = await sqlBuilder();
  const accounts = accountsTable(state);
  await db.query('BEGIN');
  try {
    const removed = knex(state.table).withSchema(state.schema).where({ id }).delete().toSQL().toNative();
    const found = (await db.query(removed.sql, removed.bindings as unknown[])).rowCount ?? 0;
    // The next run starts fresh, so it binds to whichever account its tap then reads.
    if (await exists(db, accounts)) {
      const unbound = knex(accounts.table).withSchema(accounts.schema).where({ pipeline: id }).delete().toSQL().toNative();
      await db.query(unbound.sql, unbound.bindings as unknown[]);
    }
    await db.query('COMMIT');
    return found > 0;
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

export async function exists(db: PgConnection, table: TableRef): Promise<boolean> {
  const found = await db.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [qualified(table)]);
  return found.rows[0]?.found != null;
}

const pick = (binding: AccountBinding) => Object.fromEntries(BINDING_COLUMNS.map((c) => [c, binding[c]]));
