// The unified exam model: exam_results and exams over loaded simulator data, numbers checked against
// what the simulator served, in PostgreSQL and DuckDB.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planPipeline, runPipeline } from '../src/pipeline.js';
import { silentLogger } from '../src/log.js';
import { parseProject } from '../src/project.js';
import { bundledTap, bundledTarget } from '../src/plugins.js';
import { buildModel } from '../src/model/index.js';
import { RESULT_COLUMNS } from '../src/model/mapping.js';
import { duckdbRows, pgSchema, tempDir, PG_URL } from './helpers.js';

interface ServedResult {
  test_id: number;
  points_scored: number;
  percentage: number;
  passed: boolean;
  time_started: number;
  time_finished: number;
}
interface ClassMarkerSimulator {
  config: Record<string, unknown>;
  data: { tests: { test_id: number; test_name: string }[]; groupResults: { result: ServedResult }[]; linkResults: { result: ServedResult & { link_result_id: number } }[] };
  close(): Promise<void>;
}

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

describe.each(['postgres', 'duckdb'] as const)('the unified model in %s over ClassMarker simulator data', (warehouse) => {
  const ready = bundledTap('classmarker') !== undefined && bundledTarget(warehouse) !== undefined;
  it.skipIf(!ready)('maps every served result to one exam_results row and aggregates exams', async () => {
    const { startClassMarkerSimulator } = (await import('@tapline/tap-classmarker/simulator' as string)) as {
      startClassMarkerSimulator(o: { seed: string; groupResults: number; linkResults: number }): Promise<ClassMarkerSimulator>;
    };
    const simulator = await startClassMarkerSimulator({ seed: 'model-test', groupResults: 120, linkResults: 300 });
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
      const summary = await runPipeline(planPipeline(project, 'tapline.yml', { tap: 'classmarker', target: warehouse }, dir), {
        log: silentLogger,
      });
      expect(summary.status, summary.error).toBe('succeeded');

      await buildModel({
        kind: warehouse,
        config: { ...connection, default_target_schema: viewSchema },
        cwd: dir,
        // Only ClassMarker's tables: other providers' schemas in a shared PostgreSQL are not ours.
        providerSchemas: { classmarker: providerSchema, testpress: `${providerSchema}_none`, onlineexammaker: `${providerSchema}_none`, cbthost: `${providerSchema}_none` },
      });
      const query = async (sql: string) =>
        pgTest ? (await pgTest.client.query(sql)).rows : await duckdbRows((connection as { path: string }).path, sql);

      const served = [...simulator.data.groupResults, ...simulator.data.linkResults].map((s) => s.result);
      const columns = await query(`SELECT * FROM "${viewSchema}".exam_results LIMIT 1`);
      expect(Object.keys(columns[0]!)).toEqual(['provider', ...RESULT_COLUMNS]);

      const [totals] = await query(
        `SELECT count(*) AS n, count(DISTINCT source_key) AS keys, sum(score) AS score, sum(CASE WHEN passed THEN 1 ELSE 0 END) AS passed,
                min(finished_at) AS first_finished, sum(duration_seconds) AS duration
         FROM "${viewSchema}".exam_results WHERE provider = 'classmarker'`,
      );
      expect(Number(totals!.n)).toBe(served.length);
      expect(Number(totals!.keys)).toBe(served.length); // source_key is unique within a provider
      expect(Number(totals!.score)).toBeCloseTo(served.reduce((s, r) => s + r.points_scored, 0), 6);
      expect(Number(totals!.passed)).toBe(served.filter((r) => r.passed).length);
      expect(new Date(String(totals!.first_finished)).getTime()).toBe(Math.min(...served.map((r) => r.time_finished)) * 1000);
      expect(Number(totals!.duration)).toBe(served.reduce((s, r) => s + (r.time_finished - r.time_started), 0));

      const exams = await query(`SELECT exam_id, exam_title, attempts, mean_score, pass_rate FROM "${viewSchema}".exams ORDER BY exam_id`);
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
          expect(Number(exam.pass_rate)).toBeCloseTo(attempts.filter((r) => r.passed).length / attempts.length, 6);
        }
      }
    } finally {
      await simulator.close();
      if (pgTest) await pgTest.client.query(`DROP SCHEMA IF EXISTS "${pgTest.schema}_cm" CASCADE`);
      await pgTest?.drop();
    }
  }, 60_000);
  if (!ready) it.skip(`tap-classmarker or target-${warehouse} is not built yet`, () => {});
});

describe('the unified model with no provider tables', () => {
  it('creates empty views with every column, so queries work before the first load', async () => {
    const file = path.join(dir, 'w.duckdb');
    const built = await buildModel({ kind: 'duckdb', config: { path: file }, cwd: dir });
    expect(built.providers).toEqual([]);
    expect(await duckdbRows(file, 'SELECT count(*) AS n FROM exam_results')).toEqual([{ n: '0' }]);
    const columns = await duckdbRows(file, `SELECT column_name FROM information_schema.columns WHERE table_name = 'exams' ORDER BY ordinal_position`);
    expect(columns.map((c) => c.column_name)).toEqual(['provider', 'exam_id', 'exam_title', 'attempts', 'mean_score', 'mean_percentage', 'pass_rate']);
  });
});
