// Tapline's own tables on PostgreSQL (the state table and the account bindings) are versioned knex
// migrations: a database an older Tapline made is upgraded in place, with its rows kept.
import { PG_URL, pgIsReachable, withScratchSchema } from '@tapline/testing';
import { describe, expect, it } from 'vitest';
import { type PostgresConfig, postgresConfigSchema, postgresWarehouse } from '../src/index.js';

const reachable = await pgIsReachable();
const open = (schema: string) =>
  postgresWarehouse.open(postgresConfigSchema.parse({ connection_string: PG_URL, default_target_schema: schema }) as PostgresConfig);
const binding = { account: 'school', vendor: 'classmarker', base_url: 'https://api.classmarker.com', credentials: 'c0ffee' };

describe.skipIf(!reachable)("Tapline's own tables on PostgreSQL", () => {
  it('upgrades the tables an older Tapline made (state table, _accounts in VARCHAR) in place, keeping their rows', () =>
    withScratchSchema('own_old', async (schema, client) => {
      // Exactly the statements the runner and the target ran before the tables were migrations.
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(
        `CREATE TABLE "${schema}"._tapline_state (id text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
      );
      await client.query(
        `CREATE TABLE IF NOT EXISTS "${schema}"._tapline_state_accounts (pipeline VARCHAR PRIMARY KEY, account VARCHAR NOT NULL, vendor VARCHAR NOT NULL, ` +
          'base_url VARCHAR, credentials VARCHAR, bound_at TIMESTAMPTZ NOT NULL)',
      );
      await client.query(`INSERT INTO "${schema}"._tapline_state VALUES ('school', '{"bookmarks":{"a":1}}', now())`);
      await client.query(`INSERT INTO "${schema}"._tapline_state_accounts VALUES ('school', 'school', 'classmarker', NULL, 'old', now())`);
      const state = { schema, table: '_tapline_state' };

      const session = await open(schema);
      try {
        await session.prepareOwnTables(state);
        const ran = await client.query(`SELECT name FROM "${schema}"._tapline_state_migrations ORDER BY id`);
        expect(ran.rows.map((r) => r.name)).toEqual(['0001_state_table', '0002_account_bindings']);
        expect(await session.readState(state, 'school')).toEqual({ bookmarks: { a: 1 } });
        expect(await session.readAccountBinding(state, 'school')).toEqual({
          account: 'school',
          vendor: 'classmarker',
          base_url: null,
          credentials: 'old',
        });
        await session.writeAccountBinding(state, 'school', binding);
        expect(await session.readAccountBinding(state, 'school')).toEqual(binding);
        expect(await session.clearState(state, 'school')).toBe(true);
        expect(await session.clearState(state, 'school')).toBe(false);
        expect(await session.readAccountBinding(state, 'school')).toBeUndefined();
      } finally {
        await session.close();
      }
    }));

  it('creates the account bindings in a new schema; two runners starting at once migrate one after the other, and later ones only read', () =>
    withScratchSchema('own_new', async (schema, client) => {
      const target = `${schema}_tables`;
      const state = { schema: target, table: 'pipeline_state' };
      const sessions = await Promise.all([open(target), open(target)]);
      try {
        await Promise.all(sessions.map((s) => s.prepareOwnTables(state)));
        const tables = await client.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [target]);
        // The state table is a load's to make, in the transaction of its first rows.
        expect(tables.rows.map((r) => r.table_name)).toEqual([
          'pipeline_state_accounts',
          'pipeline_state_migrations',
          'pipeline_state_migrations_lock',
        ]);
        expect((await client.query(`SELECT count(*)::int AS n FROM "${target}".pipeline_state_migrations`)).rows[0].n).toBe(2);
        // A lock row left behind by a migrator that died does not stop the next one.
        await client.query(`UPDATE "${target}".pipeline_state_migrations_lock SET is_locked = 1`);
        await client.query(`DELETE FROM "${target}".pipeline_state_migrations WHERE name = '0002_account_bindings'`);
        await sessions[0]!.prepareOwnTables(state);
        expect((await client.query(`SELECT count(*)::int AS n FROM "${target}".pipeline_state_migrations`)).rows[0].n).toBe(2);
      } finally {
        await Promise.all(sessions.map((s) => s.close()));
        await client.query(`DROP SCHEMA IF EXISTS "${target}" CASCADE`);
      }
    }));
});
