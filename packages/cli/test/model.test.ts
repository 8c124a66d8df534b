// The unified exam model: exam_results and exams over loaded simulator data, numbers checked against
// what the simulator served, in PostgreSQL and DuckDB.

import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_QUERIES } from '../src/demo.js';
import { ExitCode } from '../src/errors.js';
import { silentLogger } from '../src/log.js';
import { buildModel } from '../src/model/index.js';
import { MODEL_COLUMNS } from '../src/model/mapping.js';
import { planPipeline, runPipeline } from '../src/pipeline.js';
import { bundledTap, bundledTarget } from '../src/plugins.js';
import { parseProject } from '../src/project.js';
import { duckdbRows, onlyProvider, PG_URL, pgSchema, tapline, tempDir } from './helpers.js';

interface ServedResult {
  user_id?: number;
  group_id?: number;
  test_id: number;
  first: string | null;
  last: string | null;
  email: string;
  points_scored: number;
  percentage: number;
  passed: boolean;
  time_started: number;
  time_finished: number;
}
interface ClassMarkerSimulator {
  config: Record<string, unknown>;
  data: {
    tests: { test_id: number; test_name: string }[];
    groupResults: { result: ServedResult }[];
    linkResults: { result: ServedResult & { link_result_id: number } }[];
  };
  gradePending(kind: 'group' | 'link'): unknown[];
  editPoints(kind: 'group' | 'link', count: number, withinSeconds?: number): unknown[];
  close(): Promise<void>;
}

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

/** ClassMarker's answer variants (docs/providers/classmarker.md): simulator options, and what happens between two runs. */
const CLASSMARKER_VARIANTS = {
  'the current form': { options: {}, between: undefined },
  'the older form, with null names and blank e-mails': {
    options: { legacyPayload: true, nullNames: true, blankEmails: true },
    between: undefined,
  },
  'results graded and points edited between two runs': {
    options: { awaitingGrading: 6 },
    between: (s: ClassMarkerSimulator) => {
      for (const kind of ['group', 'link'] as const) {
        s.gradePending(kind);
        s.editPoints(kind, 3);
      }
    },
  },
} as const;

describe.each(['postgres', 'duckdb'] as const)('the unified model in %s over ClassMarker simulator data', (warehouse) => {
  const ready = bundledTap('classmarker') !== undefined && bundledTarget(warehouse) !== undefined;
  describe.each(Object.keys(CLASSMARKER_VARIANTS) as (keyof typeof CLASSMARKER_VARIANTS)[])('in %s', (variant) => {
    it.skipIf(!ready)(
      'maps every served result to one exam_results row and aggregates exams',
      async () => {
        const { options, between } = CLASSMARKER_VARIANTS[variant];
        const legacy = 'legacyPayload' in options;
        const { startClassMarkerSimulator } = (await import('@tapline/tap-classmarker/simulator' as string)) as {
          startClassMarkerSimulator(o: object): Promise<ClassMarkerSimulator>;
        };
        const simulator = await startClassMarkerSimulator({ seed: 'model-test', groupResults: 120, linkResults: 300, ...options });
        const pgTest = warehouse === 'postgres' ? await pgSchema('cli_model') : undefined;
        try {
          const viewSchema = pgTest?.schema ?? 'main';
          const connection = pgTest ? { connection_string: PG_URL } : { path: path.join(dir, 'w.duckdb') };
          const providerSchema = pgTest ? `${pgTest.schema}_cm` : 'classmarker';
          const project = parseProject(
            {
              taps: { classmarker: { config: simulator.config } },
              targets: { [warehouse]: { config: { ...connection, default_target_schema: providerSchema } } },
            },
            path.join(dir, 'tapline.yml'),
          );
          const pipeline = planPipeline(project, 'tapline.yml', { tap: 'classmarker', target: warehouse }, dir);
          const summary = await runPipeline(pipeline, { log: silentLogger });
          expect(summary.status, summary.error).toBe('succeeded');
          if (between) {
            between(simulator);
            const again = await runPipeline(pipeline, { log: silentLogger });
            expect(again.status, again.error).toBe('succeeded');
          }

          await buildModel({
            kind: warehouse,
            config: connection,
            schema: viewSchema,
            cwd: dir,
            providerSchemas: onlyProvider('classmarker', providerSchema),
          });
          const query = async (sql: string) =>
            pgTest ? (await pgTest.client.query(sql)).rows : await duckdbRows((connection as { path: string }).path, sql);

          // source_key does not depend on the session's time zone (a group result's start is unix seconds).
          const zone = `SET TimeZone = 'Asia/Kolkata'`;
          if (pgTest) await pgTest.client.query(zone);
          const groupKeys = await query(
            `${pgTest ? '' : `${zone}; `}SELECT source_key FROM "${viewSchema}".exam_results WHERE source_key LIKE 'group_result:%'`,
          );
          if (pgTest) await pgTest.client.query(`SET TimeZone = 'UTC'`);
          expect(groupKeys.map((r) => r.source_key).sort()).toEqual(
            simulator.data.groupResults
              .map(({ result: r }) => `group_result:${r.group_id}:${r.test_id}:${r.user_id}:${r.time_started}`)
              .sort(),
          );

          const served = [...simulator.data.groupResults, ...simulator.data.linkResults].map((s) => s.result);
          const columns = await query(`SELECT * FROM "${viewSchema}".exam_results LIMIT 1`);
          expect(Object.keys(columns[0]!)).toEqual(['provider', 'account', ...MODEL_COLUMNS]);

          const [totals] = await query(
            `SELECT count(*) AS n, count(DISTINCT source_key) AS keys, sum(score) AS score, sum(CASE WHEN passed THEN 1 ELSE 0 END) AS passed,
                count(passed) AS with_verdict, count(email) AS with_email, count(candidate_name) AS with_name,
                sum(CASE WHEN status = 'finished' THEN 1 ELSE 0 END) AS finished,
                min(finished_at) AS first_finished, sum(duration_seconds) AS duration
         FROM "${viewSchema}".exam_results WHERE provider = 'classmarker'`,
          );
          expect(Number(totals!.n)).toBe(served.length);
          expect(Number(totals!.keys)).toBe(served.length); // source_key is unique within a provider
          expect(Number(totals!.score)).toBeCloseTo(
            served.reduce((s, r) => s + r.points_scored, 0),
            6,
          );
          // The older form sends no verdict and no pass mark: unknown, never guessed.
          expect(Number(totals!.with_verdict)).toBe(legacy ? 0 : served.length);
          expect(Number(totals!.passed)).toBe(legacy ? 0 : served.filter((r) => r.passed).length);
          expect(Number(totals!.with_email)).toBe(served.filter((r) => r.email.trim() !== '').length);
          expect(Number(totals!.with_name)).toBe(served.filter((r) => r.first !== null || r.last !== null).length);
          expect(Number(totals!.finished)).toBe(served.length);
          expect(new Date(String(totals!.first_finished)).getTime()).toBe(Math.min(...served.map((r) => r.time_finished)) * 1000);
          expect(Number(totals!.duration)).toBe(served.reduce((s, r) => s + (r.time_finished - r.time_started), 0));

          const exams = await query(
            `SELECT exam_id, exam_title, attempts, mean_score, pass_rate FROM "${viewSchema}".exams ORDER BY exam_id`,
          );
          const byTest = new Map<number, ServedResult[]>();
          for (const r of served) byTest.set(r.test_id, [...(byTest.get(r.test_id) ?? []), r]);
          expect(exams.map((e) => Number(e.exam_id))).toEqual(simulator.data.tests.map((t) => t.test_id).sort((a, b) => a - b));
          for (const exam of exams) {
            const attempts = byTest.get(Number(exam.exam_id)) ?? [];
            const test = simulator.data.tests.find((t) => t.test_id === Number(exam.exam_id))!;
            expect(exam.exam_title).toBe(test.test_name);
            expect(Number(exam.attempts)).toBe(attempts.length);
            if (attempts.length) {
              expect(Number(exam.mean_score)).toBeCloseTo(attempts.reduce((s, r) => s + r.points_scored, 0) / attempts.length, 6);
              if (legacy) expect(exam.pass_rate).toBeNull();
              else expect(Number(exam.pass_rate)).toBeCloseTo(attempts.filter((r) => r.passed).length / attempts.length, 6);
            }
          }
        } finally {
          await simulator.close();
          if (pgTest) await pgTest.client.query(`DROP SCHEMA IF EXISTS "${pgTest.schema}_cm" CASCADE`);
          await pgTest?.drop();
        }
      },
      90_000,
    );
  });
  if (!ready) it.skip(`tap-classmarker or target-${warehouse} is not built yet`, () => {});
});

describe('the unified model with no provider tables', () => {
  it('creates empty views with every column, so queries work before the first load', async () => {
    const file = path.join(dir, 'w.duckdb');
    await duckdbRows(file, 'SELECT 1'); // a warehouse nothing was loaded into yet
    const built = await buildModel({ kind: 'duckdb', config: { path: file }, cwd: dir });
    expect(built.providers).toEqual([]);
    expect(await duckdbRows(file, 'SELECT count(*) AS n FROM exam_results')).toEqual([{ n: '0' }]);
    const columns = await duckdbRows(
      file,
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'exams' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => c.column_name)).toEqual([
      'provider',
      'account',
      'exam_id',
      'exam_title',
      'attempts',
      'mean_score',
      'mean_percentage',
      'pass_rate',
    ]);
  });

  it('works in a file named like the view schema (analytics.duckdb, --schema analytics), where DuckDB calls the catalog analytics too', async () => {
    const file = path.join(dir, 'analytics.duckdb');
    await duckdbRows(file, 'SELECT 1');
    await buildModel({ kind: 'duckdb', config: { path: file }, cwd: dir, schema: 'analytics' });
    await buildModel({ kind: 'duckdb', config: { path: file }, cwd: dir, schema: 'analytics' }); // again: the views are replaced
    expect(await duckdbRows(file, 'SELECT count(*) AS n FROM analytics.analytics.exams')).toEqual([{ n: '0' }]);
  });
});

/** The SQL statements of a README's ```sql blocks. */
function documentedQueries(readme: string): string[] {
  const text = readFileSync(new URL(readme, import.meta.url), 'utf8');
  return [...text.matchAll(/```sql\n([\s\S]*?)```/g)].flatMap((m) =>
    m[1]!
      .split(';')
      .map((sql) =>
        sql
          .split('\n')
          .filter((line) => !line.startsWith('--'))
          .join('\n')
          .trim(),
      )
      .filter(Boolean),
  );
}
const QUERIES = [...documentedQueries('../README.md'), ...documentedQueries('../../../README.md')];

describe('tapline model over tables a pipeline loaded into default_target_schema', () => {
  it('finds them there, puts the views where no provider table is, picks CBTHost titles deliberately, and the documented queries run', async () => {
    const file = path.join(dir, 'w.duckdb');
    // What `tapline run` loads with default_target_schema: wh (every provider into wh), by hand:
    // a ClassMarker link_results, a Testpress exams table (a provider table named like the view), CBTHost results.
    await duckdbRows(
      file,
      `CREATE SCHEMA wh;
       CREATE TABLE wh.link_results (link_result_id BIGINT, test_id BIGINT, points_scored DOUBLE, percentage DOUBLE, time_finished TIMESTAMPTZ);
       INSERT INTO wh.link_results VALUES (1, 7, 5, 50, '2026-01-01T10:00:00Z'), (2, 7, 10, 100, '2026-01-02T10:00:00Z');
       CREATE TABLE wh.exams (id BIGINT, title VARCHAR);
       CREATE TABLE wh.results (cbt_test_id VARCHAR, cbt_pass_code VARCHAR, cbt_total_score DOUBLE, cbt_test_info VARCHAR);
       INSERT INTO wh.results VALUES ('T1', 'a', 1, 'Physics'), ('T1', 'b', 2, NULL), ('T1', 'c', 3, NULL),
         ('T2', 'd', 1, 'Alpha'), ('T2', 'e', 1, 'Alpha'), ('T2', 'f', 1, 'Zulu'), ('T2', 'g', 1, NULL), ('T2', 'h', 1, NULL)`,
    );
    await writeFile(path.join(dir, 'd.json'), JSON.stringify({ path: 'w.duckdb', default_target_schema: 'wh' }));
    const built = await tapline(['model', '--target-config', 'd.json'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toContain('model built in main from classmarker account classmarker (wh), cbthost account cbthost (wh)');

    const counts = await duckdbRows(file, 'SELECT provider, count(*) AS n FROM main.exam_results GROUP BY provider ORDER BY provider');
    expect(counts).toEqual([
      { provider: 'cbthost', n: '8' },
      { provider: 'classmarker', n: '2' },
    ]);
    // A CBTHost exam's title: a title the results carry before the exam id standing in for one
    // (mass reads carry none), the most frequent first: never the lexically largest.
    const titles = await duckdbRows(file, `SELECT exam_id, exam_title FROM main.exams WHERE provider = 'cbthost' ORDER BY exam_id`);
    expect(titles).toEqual([
      { exam_id: 'T1', exam_title: 'Physics' },
      { exam_id: 'T2', exam_title: 'Alpha' },
    ]);

    for (const sql of [...QUERIES, ...EXAMPLE_QUERIES.map((q) => q.sql)]) await duckdbRows(file, sql);
    expect(EXAMPLE_QUERIES.map((q) => q.sql)).toEqual(documentedQueries('../README.md')); // the demo shows the documented ones

    // Views asked into the schema holding a provider's exams table: a sentence, not a catalog error.
    const clash = await tapline(['model', '--target-config', 'd.json', '--schema', 'wh'], { cwd: dir });
    expect(clash.code).toBe(ExitCode.config);
    expect(clash.stderr.trim()).toBe(
      "ERROR wh.exams is a table, not the model's view (a provider loaded into wh?): put the views elsewhere with --schema NAME.",
    );

    // A misspelt path is an error, not a new empty warehouse.
    await writeFile(path.join(dir, 'typo.json'), JSON.stringify({ path: 'wharehouse.duckdb' }));
    const typo = await tapline(['model', '--target-config', 'typo.json'], { cwd: dir });
    expect(typo.code).toBe(ExitCode.config);
    expect(typo.stderr).toContain(`There is no DuckDB file at ${path.join(dir, 'wharehouse.duckdb')}`);
    expect(existsSync(path.join(dir, 'wharehouse.duckdb'))).toBe(false);
  }, 60_000);

  it('the documented queries run in PostgreSQL too', async () => {
    const pgTest = await pgSchema('cli_queries');
    try {
      const nowhere = `${pgTest.schema}_none`;
      await buildModel({
        kind: 'postgres',
        config: { connection_string: PG_URL },
        schema: pgTest.schema,
        cwd: dir,
        providerSchemas: { classmarker: nowhere, testpress: nowhere, onlineexammaker: nowhere, cbthost: nowhere },
      });
      await pgTest.client.query(`SET search_path TO "${pgTest.schema}"`);
      for (const sql of QUERIES) await pgTest.client.query(sql);
    } finally {
      await pgTest.drop();
    }
  });
});
