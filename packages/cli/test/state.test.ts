// `tapline state get|set|clear` against the state table in DuckDB and PostgreSQL: the very table and
// row a run reads, numbers exact.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountBinding } from '../src/accounts.js';
import { ExitCode } from '../src/errors.js';
import { loadStoredState, planPipeline } from '../src/pipeline.js';
import { parseProject } from '../src/project.js';
import { FAKE_TAP, PG_URL, pgSchema, tapline, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const BIG = '9007199254740993'; // 2^53 + 1: a double would make it ...992

describe.each(['duckdb', 'postgres'] as const)('tapline state in %s', (warehouse) => {
  it('gets, sets and clears exactly the state a run reads and writes', async () => {
    const pgTest = warehouse === 'postgres' ? await pgSchema('cli_state') : undefined;
    try {
      // Names the targets normalise (MyState is my_state, RawExams raw_exams); the fake pipeline's
      // target sets default_target_schema, `provider` does not (a provider then loads into its own schema).
      const connection = pgTest ? { connection_string: PG_URL } : { path: 'w.duckdb' };
      const copy = path.join(dir, 'state-seen-by-tap.json');
      const settings = {
        state_table: pgTest ? `${pgTest.schema}.MyState` : 'MyState',
        taps: {
          fake: { command: ['node', FAKE_TAP], config: { records: 5, state_every: 5, state_copy: copy } },
          classmarker: { config: {} },
        },
        targets: {
          raw: { type: warehouse, config: { ...connection, default_target_schema: pgTest?.schema ?? 'RawExams' } },
          [warehouse]: { config: connection },
        },
        pipelines: { nightly: { tap: 'fake', target: 'raw' } },
      };
      await writeFile(path.join(dir, 'tapline.yml'), JSON.stringify(settings));
      const project = parseProject(settings, path.join(dir, 'tapline.yml'));
      const storedFor = (request: { tap: string; target?: string; pipeline?: string }) =>
        loadStoredState(planPipeline(project, path.join(dir, 'tapline.yml'), request, dir));
      const run = async (...args: string[]) => {
        const result = await tapline(args, { cwd: dir });
        expect(result.stderr).not.toMatch(/\n\s+at /);
        return result;
      };

      const empty = await run('state', 'get', 'nightly');
      expect(empty).toMatchObject({ code: 0, stdout: '' });
      expect(empty.stderr).toContain('No state stored for pipeline nightly');

      // What a run stored is what `state get` finds.
      expect((await run('run', 'nightly')).code).toBe(0);
      expect(JSON.parse((await run('state', 'get', 'nightly')).stdout)).toEqual({ bookmarks: { events: { offset: 5 } } });

      // `state set` writes where the run reads, numbers exact, and the tap gets them exact.
      const value = `{"bookmarks":{"events":{"offset":5}},"big":${BIG}}`;
      expect((await run('state', 'set', 'nightly', '--value', value)).code).toBe(0);
      const got = await run('state', 'get', 'fake', 'raw'); // the same pipeline, named as for run
      expect(got.stdout).toMatch(new RegExp(`"big": ${BIG}[,\\n]`));
      expect(await storedFor({ tap: 'nightly' })).toMatchObject({ bookmarks: { events: { offset: 5 } } });
      expect((await run('run', 'nightly')).code).toBe(0);
      expect(await readFile(copy, 'utf8')).toContain(`"big":${BIG}`);

      // A default pipeline name works without --target, and lands where `tapline run classmarker <warehouse>` reads.
      expect((await run('state', 'set', `classmarker-to-${warehouse}`, '--value', '{"x":1}')).code).toBe(0);
      expect(await storedFor({ tap: 'classmarker', target: warehouse })).toEqual({ x: 1 });
      // --pipeline: name the tap and target, as for run; a bare unknown name is not guessed at.
      expect((await run('state', 'set', 'classmarker', warehouse, '--pipeline', 'cm-hourly', '--value', '{"y":2}')).code).toBe(0);
      expect(await storedFor({ tap: 'classmarker', target: warehouse, pipeline: 'cm-hourly' })).toEqual({ y: 2 });
      const bare = await run('state', 'get', 'cm-hourly', '--target', warehouse);
      expect(bare.code).toBe(ExitCode.usage);
      expect(bare.stderr).toContain('tapline state get <tap> <target> --pipeline cm-hourly');

      const cleared = await run('state', 'clear', 'nightly');
      expect(cleared.stderr).toContain('State of pipeline nightly cleared');
      expect((await run('state', 'get', 'nightly')).stdout).toBe('');
      expect(await storedFor({ tap: 'nightly' })).toBeUndefined();
    } finally {
      await pgTest?.drop();
    }
  }, 120_000);
});

describe('a PostgreSQL warehouse an older tapline made (before its own tables were knex migrations)', () => {
  it('resumes from its state, still bound to its account; the tables are migrated in place and clear still forgets both', async () => {
    const pgTest = await pgSchema('cli_upgrade');
    try {
      const { client, schema } = pgTest;
      const copy = path.join(dir, 'state-seen-by-tap.json');
      const settings = {
        taps: { fake: { command: ['node', FAKE_TAP], config: { records: 5, state_every: 5, state_copy: copy } } },
        targets: { postgres: { config: { connection_string: PG_URL, default_target_schema: schema } } },
        pipelines: { nightly: { tap: 'fake', target: 'postgres' } },
      };
      const file = path.join(dir, 'tapline.yml');
      await writeFile(file, JSON.stringify(settings));
      const plan = planPipeline(parseProject(settings, file), file, { tap: 'nightly' }, dir);
      const bound = accountBinding(plan.tap.name, plan.tap.vendor, plan.tap.config);
      // The tables and rows exactly as the previous release's target and runner wrote them.
      await client.query(
        `CREATE TABLE "${schema}"._tapline_state (id text PRIMARY KEY, value jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
      );
      await client.query(
        `CREATE TABLE "${schema}"._tapline_state_accounts (pipeline VARCHAR PRIMARY KEY, account VARCHAR NOT NULL, vendor VARCHAR NOT NULL, ` +
          'base_url VARCHAR, credentials VARCHAR, bound_at TIMESTAMPTZ NOT NULL)',
      );
      await client.query(`INSERT INTO "${schema}"._tapline_state (id, value) VALUES ('nightly', '{"bookmarks":{"events":{"offset":3}}}')`);
      await client.query(`INSERT INTO "${schema}"._tapline_state_accounts VALUES ('nightly', $1, $2, $3, $4, now())`, [
        bound.account,
        bound.vendor,
        bound.base_url,
        bound.credentials,
      ]);

      const resumed = await tapline(['run', 'nightly'], { cwd: dir });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).not.toContain('bound to no account');
      expect(await readFile(copy, 'utf8')).toContain('"offset":3');
      const migrated = await client.query(`SELECT name FROM "${schema}"._tapline_state_migrations ORDER BY id`);
      expect(migrated.rows.map((r) => r.name)).toEqual(['0001_state_table', '0002_account_bindings']);

      expect((await tapline(['state', 'clear', 'nightly'], { cwd: dir })).stderr).toContain('State of pipeline nightly cleared');
      expect((await client.query(`SELECT count(*)::int AS n FROM "${schema}"._tapline_state_accounts`)).rows[0].n).toBe(0);
    } finally {
      await pgTest.drop();
    }
  }, 120_000);
});

describe('tapline state errors', () => {
  it('refuses a state that is not JSON, naming the problem', async () => {
    const result = await tapline(['state', 'set', 'p', '--target', 'duckdb', '--value', '{oops'], { cwd: dir });
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toContain('The new state is not valid JSON');
  });

  it('names a --file it cannot read, in one sentence', async () => {
    const result = await tapline(['state', 'set', 'p', '--target', 'duckdb', '--file', 'nope.json'], { cwd: dir });
    expect(result.code).toBe(ExitCode.config);
    expect(result.stderr.trim()).toBe('ERROR --file nope.json: no such file.');
  });

  it('asks which warehouse when the pipeline is unknown', async () => {
    const result = await tapline(['state', 'get', 'nowhere'], { cwd: dir });
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toContain('No pipeline named "nowhere"');
  });
});
