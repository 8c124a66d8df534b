// The database refusing a change (a role without CREATE, a name a type already has) is one sentence saying where, exit 1, not a crash.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PG_URL, pgIsReachable, plainPgClient, withScratchSchema } from '@tapline/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/target-postgres.js', import.meta.url));
const reachable = await pgIsReachable();
/** One keyed stream with one record: enough to make the target create a schema and a table. */
const input = [
  '{"type":"SCHEMA","stream":"exams","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
  '{"type":"RECORD","stream":"exams","record":{"id":1}}',
].join('\n');

/** The target CLI with this config (written to a file, as a user would) on this input. */
function runTarget(config: Record<string, unknown>, stdin: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'tapline-refusal-')), 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return spawnSync(process.execPath, [bin, '--config', file], { input: stdin, encoding: 'utf8' });
}

describe.skipIf(!reachable)('refusals by PostgreSQL', () => {
  const role = `tapline_norights_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(8).toString('hex');
  let admin: pg.Client;
  let skip: string | null = null;
  const roleUrl = () => {
    const url = new URL(PG_URL);
    url.username = role;
    url.password = password;
    return url.href;
  };

  beforeAll(async () => {
    admin = await plainPgClient();
    try {
      // A new role has no CREATE on the database (PostgreSQL grants PUBLIC only CONNECT and TEMP).
      await admin.query(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`);
      if (!(await pgIsReachable(roleUrl()))) skip = `the new role cannot log in at ${PG_URL}`;
    } catch (error) {
      skip = `cannot create a role here (${(error as Error).message})`;
    }
  });
  afterAll(async () => {
    await admin.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
    await admin.end();
  });

  it('a role that may not create the target schema gets one sentence naming the stream and line, and exit 7', (context) => {
    if (skip) return context.skip(skip);
    const result = runTarget({ connection_string: roleUrl(), default_target_schema: `not_mine_${randomBytes(4).toString('hex')}` }, input);
    expect(result.status).toBe(7);
    expect(result.stderr).toMatch(
      /^CRITICAL line 1 \(stream "exams"\): PostgreSQL refused to create schema "not_mine_[0-9a-f]+": permission denied/m,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a state_table the role may not create is refused before any input is read, naming state_table', (context) => {
    if (skip) return context.skip(skip);
    // PostgreSQL 15 and later give PUBLIC no CREATE on schema public; older servers would allow this.
    const result = runTarget(
      { connection_string: roleUrl(), default_target_schema: 'public', state_table: `public.state_${randomBytes(4).toString('hex')}` },
      '',
    );
    if (result.status === 0) return context.skip('this server lets any role create tables in schema public');
    expect(result.status).toBe(7);
    expect(result.stderr).toMatch(/^CRITICAL state_table: PostgreSQL refused to create table public\.state_[0-9a-f]+: permission denied/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe.skipIf(!reachable)("refusals with PostgreSQL's own hint", () => {
  it("a type named like the stream's table: the sentence carries PostgreSQL's hint on what to do", async () => {
    await withScratchSchema('hinted', async (schema, admin) => {
      await admin.query(`CREATE SCHEMA "${schema}"`);
      await admin.query(`CREATE TYPE "${schema}".exams AS ENUM ('a')`);
      const result = runTarget({ connection_string: PG_URL, default_target_schema: schema }, input);
      expect(result.status).toBe(7);
      expect(result.stderr).toMatch(
        new RegExp(
          `^CRITICAL line 1 \\(stream "exams"\\): PostgreSQL refused to create table ${schema}\\.exams: type "exams" already exists \\(A relation has an associated type .*\\)$`,
          'm',
        ),
      );
    });
  });
});

describe.skipIf(!reachable)('a state_table PostgreSQL refuses to write', () => {
  it('one sentence naming state_table, exit 7, no state echoed and none of the rows it covers committed', async () => {
    await withScratchSchema('badstate', async (schema, admin) => {
      await admin.query(`CREATE SCHEMA "${schema}"`);
      // Made by hand with an integer id: the state's id ("default") cannot be stored.
      await admin.query(`CREATE TABLE "${schema}".tapline_state (id integer PRIMARY KEY, value json, updated_at timestamptz)`);
      const result = runTarget(
        { connection_string: PG_URL, default_target_schema: schema, state_table: 'tapline_state' },
        `${input}\n{"type":"STATE","value":{"at":1}}\n`,
      );
      expect(result.status).toBe(7);
      expect(result.stderr).toMatch(
        new RegExp(
          `^CRITICAL state_table: PostgreSQL refused to store the state in ${schema}\\.tapline_state: invalid input syntax for type integer`,
          'm',
        ),
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
      const tables = await admin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]);
      expect(tables.rows).toEqual([{ table_name: 'tapline_state' }]);
    });
  });
});
