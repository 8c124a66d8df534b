// Several accounts of one vendor in one project and one warehouse: each account's rows, state and
// ACTIVATE_VERSION are its own, the model shows every account, and a state never resumes another
// account's history. Two ClassMarker simulators with different seeds (so different keys and data)
// are the two accounts.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountBinding } from '../src/accounts.js';
import { runDemo } from '../src/demo.js';
import { ExitCode } from '../src/errors.js';
import { createLogger, type Logger, silentLogger } from '../src/log.js';
import { buildModel, candidateAccounts } from '../src/model/index.js';
import { loadStoredState, planPipeline, runPipeline, stateLocation } from '../src/pipeline.js';
import { bundledTap, bundledTarget } from '../src/plugins.js';
import { type Project, parseProject } from '../src/project.js';
import { writeState } from '../src/state-store.js';
import { duckdbRows, FAKE_TAP, PG_URL, pgSchema, tapline, tempDir } from './helpers.js';

interface ClassMarkerSimulator {
  config: Record<string, unknown>;
  data: { groupResults: unknown[]; linkResults: unknown[]; tests: unknown[] };
  close(): Promise<void>;
}

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const ready = bundledTap('classmarker') !== undefined && bundledTarget('duckdb') !== undefined && bundledTarget('postgres') !== undefined;

/** One simulated ClassMarker account: its own key, secret and results (the seed decides them). */
async function classmarkerAccount(seed: string): Promise<ClassMarkerSimulator> {
  const { startClassMarkerSimulator } = (await import('@tapline/tap-classmarker/simulator' as string)) as {
    startClassMarkerSimulator(o: object): Promise<ClassMarkerSimulator>;
  };
  return startClassMarkerSimulator({ seed, groupResults: 30, linkResults: 60, rateLimitPerHour: 1000 });
}

/** A logger that keeps what it is told, to check what a run says. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(
    createLogger('text', (line) => void lines.push(line)),
    { lines },
  );
}

describe.each(['postgres', 'duckdb'] as const)('two ClassMarker accounts in one %s warehouse', (warehouse) => {
  it.skipIf(!ready)(
    "load side by side: neither overwrites nor retires the other's rows, and the model shows both",
    async () => {
      const [north, south] = await Promise.all([classmarkerAccount('account-north'), classmarkerAccount('account-south')]);
      const pgTest = warehouse === 'postgres' ? await pgSchema('cli_accounts') : undefined;
      // The accounts' schemas are named after their taps: unique names in a PostgreSQL shared with other tests.
      const prefix = pgTest?.schema ?? 'school';
      const [a, b] = [`${prefix}_north`, `${prefix}_south`];
      try {
        const connection = pgTest ? { connection_string: PG_URL } : { path: path.join(dir, 'w.duckdb') };
        const settings = {
          taps: { [a]: { type: 'classmarker', config: north.config }, [b]: { type: 'classmarker', config: south.config } },
          targets: { wh: { type: warehouse, config: connection } },
          pipelines: { north: { tap: a, target: 'wh' }, south: { tap: b, target: 'wh' } },
        };
        const project = parseProject(settings, path.join(dir, 'tapline.yml'));
        const run = async (pipeline: string) => {
          const summary = await runPipeline(planPipeline(project, 'tapline.yml', { tap: pipeline }, dir), { log: silentLogger });
          expect(summary.status, summary.error).toBe('succeeded');
          return summary;
        };
        await run('north');
        await run('south');
        // North again: its full-table streams (tests, groups, links) send ACTIVATE_VERSION once more.
        expect((await run('north')).incremental).toBe(true);

        const query = async (sql: string) =>
          pgTest ? (await pgTest.client.query(sql)).rows : await duckdbRows(connection.path as string, sql);
        const count = async (schema: string, table: string, where = 'TRUE') =>
          Number((await query(`SELECT count(*) AS n FROM "${schema}"."${table}" WHERE ${where}`))[0]!.n);
        for (const [schema, served] of [
          [a, north],
          [b, south],
        ] as const) {
          expect(await count(schema, 'link_results')).toBe(served.data.linkResults.length);
          expect(await count(schema, 'group_results')).toBe(served.data.groupResults.length);
          expect(await count(schema, 'tests', '_sdc_deleted_at IS NULL')).toBe(served.data.tests.length);
          // Each account's state sits beside its own rows.
          expect(await count(schema, '_tapline_state')).toBe(1);
        }

        const viewSchema = pgTest?.schema ?? 'main';
        const accounts = candidateAccounts({ config: connection, taps: project.taps }).filter((c) => c.account === a || c.account === b);
        expect(accounts).toEqual([
          { provider: 'classmarker', account: a, schema: a },
          { provider: 'classmarker', account: b, schema: b },
        ]);
        if (pgTest) {
          // Only these accounts: other tests' schemas in a shared PostgreSQL are not ours.
          const built = await buildModel({ kind: warehouse, config: connection, schema: viewSchema, cwd: dir, accounts });
          expect(built.accounts.map((x) => x.account)).toEqual([a, b]);
        } else {
          // tapline model finds every account of the project by itself.
          await writeFile(path.join(dir, 'tapline.yml'), JSON.stringify(settings));
          const model = await tapline(['model', '--target', 'wh'], { cwd: dir });
          expect(model.code, model.stderr).toBe(ExitCode.ok);
          expect(model.stderr).toContain(`model built in main from classmarker account ${a} (${a}), classmarker account ${b} (${b})`);
        }
        const perAccount = await query(
          `SELECT account, count(*) AS n, count(DISTINCT source_key) AS keys FROM "${viewSchema}".exam_results GROUP BY account ORDER BY account`,
        );
        const served = (s: ClassMarkerSimulator) => s.data.linkResults.length + s.data.groupResults.length;
        expect(perAccount.map((r) => [r.account, Number(r.n), Number(r.keys)])).toEqual([
          [a, served(north), served(north)],
          [b, served(south), served(south)],
        ]);
        const exams = await query(`SELECT account, count(*) AS n FROM "${viewSchema}".exams GROUP BY account ORDER BY account`);
        expect(exams.map((r) => [r.account, Number(r.n)])).toEqual([
          [a, north.data.tests.length],
          [b, south.data.tests.length],
        ]);
      } finally {
        await Promise.all([north.close(), south.close()]);
        if (pgTest) for (const schema of [a, b]) await pgTest.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pgTest?.drop();
      }
    },
    180_000,
  );

  it.skipIf(!ready)(
    'a pipeline whose tap now reads another account refuses to resume; --new-account starts it fresh and says so',
    async () => {
      const [first, second] = await Promise.all([classmarkerAccount('switch-first'), classmarkerAccount('switch-second')]);
      const pgTest = warehouse === 'postgres' ? await pgSchema('cli_switch') : undefined;
      const tap = pgTest?.schema ?? 'classmarker_school';
      try {
        const connection = pgTest ? { connection_string: PG_URL } : { path: 'w.duckdb' };
        const write = (config: Record<string, unknown>) =>
          writeFile(
            path.join(dir, 'tapline.yml'),
            JSON.stringify({
              taps: { [tap]: { type: 'classmarker', config } },
              targets: { wh: { type: warehouse, config: connection } },
              pipelines: { school: { tap, target: 'wh' } },
            }),
          );
        await write(first.config);
        const loaded = await tapline(['run', 'school'], { cwd: dir });
        expect(loaded.code, loaded.stderr).toBe(ExitCode.ok);

        // The binding names the account and never holds a credential.
        const bindingRows = pgTest
          ? (await pgTest.client.query(`SELECT * FROM "${tap}"._tapline_state_accounts`)).rows
          : await duckdbRows(path.join(dir, 'w.duckdb'), `SELECT * FROM "${tap}"._tapline_state_accounts`);
        expect(bindingRows).toHaveLength(1);
        expect(bindingRows[0]).toMatchObject({ pipeline: 'school', account: tap, vendor: 'classmarker', base_url: 'http://127.0.0.1' });
        const stored = JSON.stringify(bindingRows);
        for (const secret of [first.config.api_key, first.config.api_secret]) expect(stored).not.toContain(String(secret));

        // The same tap now points at another account: refused, nothing loaded, one sentence saying how to start fresh.
        await write(second.config);
        const refused = await tapline(['run', 'school', '--summary-json'], { cwd: dir });
        expect(refused.code).toBe(ExitCode.config);
        expect(refused.stderr).toContain(
          `Pipeline school's stored state was read from another account than tap ${tap} now reads (another api_key), and resuming from it would skip this account's history: ` +
            'start this account fresh by running again with --new-account (or tapline state clear school first)',
        );
        expect(refused.stderr).toContain('--new-account');
        expect(refused.stderr).toContain('tapline state clear school');
        expect(JSON.parse(refused.stdout.trim())).toMatchObject({ pipeline: 'school', status: 'failed', exit_code: ExitCode.config });
        for (const secret of [first.config.api_key, second.config.api_key]) expect(refused.stderr).not.toContain(String(secret));

        const fresh = await tapline(['run', 'school', '--new-account', '--summary-json'], { cwd: dir });
        expect(fresh.code, fresh.stderr).toBe(ExitCode.ok);
        expect(fresh.stderr).toContain('--new-account: the classmarker account at http://127.0.0.1');
        expect(fresh.stderr).toContain('starts from no state');
        const summary = JSON.parse(fresh.stdout.trim()) as { incremental: boolean; streams: { stream: string; rows_read: number }[] };
        expect(summary.incremental).toBe(false);
        expect(summary.streams.find((s) => s.stream === 'link_results')?.rows_read).toBe(second.data.linkResults.length);

        // Bound to the new account now: the next run resumes without a word about accounts.
        const again = await tapline(['run', 'school', '--summary-json'], { cwd: dir });
        expect(again.code, again.stderr).toBe(ExitCode.ok);
        expect((JSON.parse(again.stdout.trim()) as { incremental: boolean }).incremental).toBe(true);

        // state clear forgets the binding too: the first account then starts fresh without --new-account.
        await write(first.config);
        expect((await tapline(['state', 'clear', 'school'], { cwd: dir })).code).toBe(ExitCode.ok);
        const back = await tapline(['run', 'school', '--summary-json'], { cwd: dir });
        expect(back.code, back.stderr).toBe(ExitCode.ok);
        expect((JSON.parse(back.stdout.trim()) as { incremental: boolean }).incremental).toBe(false);
      } finally {
        await Promise.all([first.close(), second.close()]);
        await pgTest?.drop(); // the tap's schema
      }
    },
    240_000,
  );

  it('binds a state stored before states were bound on its first run, and says so', async () => {
    const pgTest = warehouse === 'postgres' ? await pgSchema('cli_unbound') : undefined;
    try {
      const connection = pgTest
        ? { connection_string: PG_URL, default_target_schema: pgTest.schema }
        : { path: path.join(dir, 'w.duckdb') };
      const project: Project = parseProject(
        {
          taps: { fake: { command: ['node', FAKE_TAP], config: { records: 3, state_every: 3 } } },
          targets: { wh: { type: warehouse, config: connection } },
        },
        path.join(dir, 'tapline.yml'),
      );
      const plan = planPipeline(project, 'tapline.yml', { tap: 'fake', target: 'wh' }, dir);
      await writeState(stateLocation(plan)!, plan.name, { bookmarks: { events: { offset: 1 } } });
      const log = recordingLogger();
      const summary = await runPipeline(plan, { log });
      expect(summary.status, summary.error).toBe('succeeded');
      expect(summary.incremental).toBe(true);
      expect(log.lines.join('\n')).toContain(
        `pipeline fake-to-wh: its stored state was bound to no account (it was stored by an older tapline); it is bound now to the node ${FAKE_TAP} account`,
      );
      // Bound once: the next run says nothing about it.
      const quiet = recordingLogger();
      expect((await runPipeline(plan, { log: quiet })).status).toBe('succeeded');
      expect(quiet.lines.join('\n')).not.toContain('bound');
    } finally {
      await pgTest?.drop();
    }
  }, 60_000);
});

describe("the demo's warehouse.duckdb reused for a real account", () => {
  it.skipIf(!ready)(
    "refuses to resume the demo's bookmarks, and a second demo still resumes its own",
    async () => {
      const small = { classmarker: ['--group-results', '20', '--link-results', '40'] };
      const demo = () => runDemo({ cwd: dir, log: silentLogger, providers: ['classmarker'], simulatorFlags: small, write: () => {} });
      expect(await demo()).toBe(ExitCode.ok);

      const real = await classmarkerAccount('a-real-account');
      try {
        await writeFile(
          path.join(dir, 'tapline.yml'),
          JSON.stringify({ taps: { classmarker: { config: real.config } }, targets: { duckdb: { config: { path: 'warehouse.duckdb' } } } }),
        );
        const refused = await tapline(['run', 'classmarker', 'duckdb'], { cwd: dir });
        expect(refused.code).toBe(ExitCode.config);
        expect(refused.stderr).toContain(
          "Pipeline classmarker-to-duckdb's stored state was read from another account than tap classmarker now reads (another api_key)",
        );
        expect(refused.stderr).toContain('tapline state clear classmarker-to-duckdb');
      } finally {
        await real.close();
      }
      // The demo's simulators take a new port each time: still the same account, so the demo resumes.
      const lines: string[] = [];
      expect(
        await runDemo({ cwd: dir, log: silentLogger, providers: ['classmarker'], simulatorFlags: small, write: (t) => void lines.push(t) }),
      ).toBe(ExitCode.ok);
      expect(lines.join('')).toContain('incremental: resumed from the state stored in the warehouse');
    },
    180_000,
  );
});

describe("a renamed tap whose state was left in its connector's schema", () => {
  it.skipIf(!ready)('refuses a surprise full sync into the schema named after the tap, and says how to go on there', async () => {
    const file = path.join(dir, 'tapline.yml');
    const settings = (schema?: string) => ({
      taps: {
        school: {
          type: 'classmarker',
          ...(schema ? { schema } : {}),
          config: { api_key: 'k', api_secret: 's', base_url: 'http://127.0.0.1:1' },
        },
      },
      targets: { duckdb: { config: { path: 'w.duckdb' } } },
      pipelines: { nightly: { tap: 'school', target: 'duckdb' } },
    });
    const plan = planPipeline(parseProject(settings(), file), file, { tap: 'nightly' }, dir);
    expect(plan.target.config.default_target_schema).toBe('school');
    // Where taps of classmarker loaded before each tap had a schema of its own.
    const location = stateLocation(plan)!;
    await writeState({ ...location, config: { ...location.config, default_target_schema: 'classmarker' } }, 'nightly', { bookmarks: {} });
    await expect(runPipeline(plan, { log: silentLogger })).rejects.toThrow(
      'Pipeline nightly has no state in schema school, where tap school now loads (a schema per account), but has one in schema classmarker, ' +
        'where its tables were loaded before: to go on there, set taps.school.schema: classmarker in tapline.yml',
    );
    const there = planPipeline(parseProject(settings('classmarker'), file), file, { tap: 'nightly' }, dir);
    expect(await loadStoredState(there)).toEqual({ bookmarks: {} });
  });
});

describe('two pipelines writing one vendor into the same tables', () => {
  const cm = (key: string) => ({ type: 'classmarker', config: { api_key: key, api_secret: 's', base_url: 'http://127.0.0.1:1' } });
  const plan = (settings: Record<string, unknown>, pipeline: string) =>
    planPipeline(parseProject(settings, path.join(dir, 'tapline.yml')), path.join(dir, 'tapline.yml'), { tap: pipeline }, dir);

  it('is refused when the target sends every tap into one schema, naming both pipelines and what to do', () => {
    const settings = {
      taps: { north: cm('k1'), south: cm('k2') },
      targets: { wh: { type: 'duckdb', config: { path: 'w.duckdb', default_target_schema: 'raw' } } },
      pipelines: { 'north-hourly': { tap: 'north', target: 'wh' }, 'south-hourly': { tap: 'south', target: 'wh' } },
    };
    expect(() => plan(settings, 'north-hourly')).toThrow(
      `${path.join(dir, 'tapline.yml')}: pipelines north-hourly (tap north) and south-hourly (tap south) both load classmarker into schema raw of the same warehouse, ` +
        "so each account's rows and ACTIVATE_VERSION would overwrite and retire the other's: give each tap its own schema",
    );
    // Each tap's own schema separates them again.
    const separated = { ...settings, taps: { north: { ...cm('k1'), schema: 'raw_north' }, south: { ...cm('k2'), schema: 'raw_south' } } };
    expect(plan(separated, 'north-hourly').target.config.default_target_schema).toBe('raw_north');
  });

  it('is impossible by default: each tap loads into a schema named after it', () => {
    const settings = {
      taps: { north: cm('k1'), south: cm('k2') },
      targets: { wh: { type: 'postgres', config: { connection_string: PG_URL } } },
      pipelines: { n: { tap: 'north', target: 'wh' }, s: { tap: 'south', target: 'wh' } },
    };
    expect(plan(settings, 'n').target.config.default_target_schema).toBe('north');
    expect(plan(settings, 's').target.config.default_target_schema).toBe('south');
  });

  it('is refused for two taps run by the same command into one schema, and allowed for other vendors or other warehouses', () => {
    const fake = (records: number) => ({ command: ['node', FAKE_TAP], config: { records } });
    const settings = {
      taps: { one: fake(1), two: fake(2), cm: cm('k') },
      targets: { a: { type: 'duckdb', config: { path: 'a.duckdb' } }, b: { type: 'duckdb', config: { path: 'b.duckdb' } } },
      pipelines: {
        p1: { tap: 'one', target: 'a' },
        p2: { tap: 'two', target: 'a' },
        p3: { tap: 'two', target: 'b' },
        p4: { tap: 'cm', target: 'a' },
      },
    };
    expect(() => plan(settings, 'p1')).toThrow(/pipelines p1 \(tap one\) and p2 \(tap two\) both load node .* into schema main/);
    const apart = {
      ...settings,
      pipelines: { p1: { tap: 'one', target: 'a' }, p3: { tap: 'two', target: 'b' }, p4: { tap: 'cm', target: 'a' } },
    };
    expect(() => plan(apart, 'p1')).not.toThrow();
  });
});

describe('what names an account', () => {
  const config = { api_key: 'cmKEY1', api_secret: 'SECRET1', base_url: 'https://api.classmarker.com/' };
  it('is the vendor, the address and a keyed hash of the key: a rotated secret keeps it, another key does not', () => {
    const bound = accountBinding('school', 'classmarker', config);
    expect(bound).toMatchObject({ account: 'school', vendor: 'classmarker', base_url: 'https://api.classmarker.com' });
    expect(bound.credentials).toMatch(/^[0-9a-f]{32}$/);
    expect(accountBinding('school', 'classmarker', { ...config, api_secret: 'ROTATED' }).credentials).toBe(bound.credentials);
    expect(accountBinding('school', 'classmarker', { ...config, api_key: 'cmKEY2' }).credentials).not.toBe(bound.credentials);
    // Testpress: the username names the account (its password may change); OnlineExamMaker: the code.
    const tp = accountBinding('t', 'testpress', { base_url: 'https://x.testpress.in', username: 'admin', password: 'p1' });
    expect(accountBinding('t', 'testpress', { base_url: 'https://x.testpress.in', username: 'admin', password: 'p2' }).credentials).toBe(
      tp.credentials,
    );
    expect(accountBinding('o', 'onlineexammaker', { code: 'a' }).credentials).not.toBe(
      accountBinding('o', 'onlineexammaker', { code: 'b' }).credentials,
    );
  });

  it('keeps no user info or query from the address, and no port on loopback, where a simulator takes any free port', () => {
    expect(accountBinding('x', 'v', { base_url: 'https://user:pw@h.example:8443/api/?token=t' }).base_url).toBe(
      'https://h.example:8443/api',
    );
    expect(accountBinding('x', 'v', { base_url: 'http://127.0.0.1:40123' }).base_url).toBe('http://127.0.0.1');
    expect(accountBinding('x', 'v', { base_url: 'http://localhost:5000/v1' }).base_url).toBe('http://localhost/v1');
  });
});
