// target-postgres on a real PostgreSQL (PG_URL), as the shared target contract suite sees it.
import { fileURLToPath } from 'node:url';
import { createPgTestSchema, PG_URL, pgIsReachable } from '@tapline/testing';
import type { TargetHarness } from '@tapline/testing/target-contract';
import { KIND_OF_SQL_TYPE, quoteIdent } from '../src/dialect.js';

const bin = fileURLToPath(new URL('../bin/target-postgres.js', import.meta.url));

export const postgresHarness: TargetHarness = {
  name: 'postgres',
  textAcceptsNul: false,
  maxColumns: 1600,
  primaryKeys: true,
  keepsSignOfZeroBesideZero: true,
  async unavailable() {
    return (await pgIsReachable()) ? null : `PostgreSQL does not answer at ${PG_URL}`;
  },
  async open() {
    const fixture = await createPgTestSchema();
    const { client, schema } = fixture;
    const qualify = (table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;
    return {
      config: { connection_string: fixture.url, default_target_schema: schema },
      command: [process.execPath, bin],
      qualify,
      async rows(table, orderBy = []) {
        const order = orderBy.length > 0 ? ` ORDER BY ${orderBy.map(quoteIdent).join(', ')}` : '';
        return (await client.query(`SELECT * FROM ${qualify(table)}${order}`)).rows as Record<string, unknown>[];
      },
      async columns(table) {
        const result = await client.query<{ name: string; type: string }>(
          `SELECT column_name AS name, format_type(a.atttypid, NULL) AS type
             FROM information_schema.columns c
             JOIN pg_attribute a ON a.attrelid = ($1 || '.' || $2)::regclass AND a.attname = c.column_name
            WHERE c.table_schema = $3 AND c.table_name = $4 ORDER BY c.ordinal_position`,
          [quoteIdent(schema), quoteIdent(table), schema, table],
        );
        return Object.fromEntries(result.rows.map((row) => [row.name, KIND_OF_SQL_TYPE[row.type] ?? row.type]));
      },
      async tables() {
        const result = await client.query<{ name: string }>(
          'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1',
          [schema],
        );
        return result.rows.map((row) => row.name);
      },
      async execute(sql) {
        await client.query(sql);
      },
      async comments(table) {
        const read = await client.query<{ column: string | null; comment: string | null }>(
          `SELECT NULL AS column, obj_description(($1 || '.' || $2)::regclass, 'pg_class') AS comment
           UNION ALL
           SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a
            WHERE a.attrelid = ($1 || '.' || $2)::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
          [quoteIdent(schema), quoteIdent(table)],
        );
        const columns = read.rows.filter((row) => row.column !== null).map((row) => [row.column!, row.comment] as const);
        return { table: read.rows.find((row) => row.column === null)?.comment ?? null, columns: Object.fromEntries(columns) };
      },
      close: () => fixture.drop(),
    };
  },
};
