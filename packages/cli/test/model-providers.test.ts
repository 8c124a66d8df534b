// The unified model over Testpress, OnlineExamMaker and CBTHost simulator data, in PostgreSQL and DuckDB:
// rows, keys, scores, pass rates and durations must equal what each simulator served.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { buildModel } from '../src/model/index.js';
import { MODEL_COLUMNS } from '../src/model/mapping.js';
import { planPipeline, runPipeline } from '../src/pipeline.js';
import { bundledTap, bundledTarget, type Provider } from '../src/plugins.js';
import { parseProject } from '../src/project.js';
import { duckdbRows, onlyProvider, PG_URL, pgSchema, tempDir } from './helpers.js';
import { type ServedAttempt, servedAttempts } from './testpress-served.js';

/** One attempt as the unified model must show it, computed from the simulator's own data. */
type Served = Omit<ServedAttempt, 'email' | 'source_key'>;
interface Expected {
  results: Served[];
  /** Exam ids the provider lists (with titles), if it has an exam list. */
  exams: Map<string, string | null>;
}
interface Started {
  config: Record<string, unknown>;
  expected: () => Expected;
  close(): Promise<void>;
}

const sim = async (pkg: string) => (await import(`${pkg}/simulator`)) as Record<string, (o: object) => Promise<any>>;

const SIMULATORS: Record<Exclude<Provider, 'classmarker'>, () => Promise<Started>> = {
  async testpress() {
    const s = await (await sim('@tapline/tap-testpress')).startTestpressSimulator!({ seed: 'model-test', exams: 8, attemptsPerExam: 15 });
    return {
      config: s.config,
      close: () => s.close(),
      // The default source is the admin API: every student's attempts (test/model-testpress.test.ts covers the exam source).
      expected: () => ({
        results: servedAttempts(s.world, 'admin'),
        exams: new Map((s.world.exams as any[]).map((e) => [String(e.id), e.title])),
      }),
    };
  },
  async onlineexammaker() {
    const s = await (await sim('@tapline/tap-onlineexammaker')).startOemSimulator!({ seed: 'model-test', exams: 6, resultsPerExam: 30 });
    return {
      config: s.config,
      close: () => s.close(),
      expected: () => ({
        results: (s.world.results as any[]).map(
          (r): Served => ({
            exam_id: String(r.eid),
            score: r.score,
            max_score: null,
            percentage: null,
            passed: null, // the legacy API (the default) sends no verdict
            started_at: r.startTime * 1000,
            finished_at: r.endTime ? r.endTime * 1000 : null,
            duration_seconds: r.endTime ? r.endTime - r.startTime : null,
            // Nor a status (document section 2): the end time tells in progress from finished.
            status: r.endTime ? 'finished' : 'in_progress',
          }),
        ),
        exams: new Map((s.world.exams as any[]).map((e) => [String(e.eid), e.title])),
      }),
    };
  },
  async cbthost() {
    const s = await (await sim('@tapline/tap-cbthost')).startCbthostSimulator!({ seed: 'model-test', tests: 5, studentsPerTest: 20 });
    return {
      config: s.config,
      close: () => s.close(),
      expected: () => {
        const config = s.config as { pass_codes: string[]; results: { pass_code: string; test_id: string }[] };
        const mass = (r: any) => config.pass_codes.includes(r.examPassCode);
        const served = (s.world.results as any[]).filter(
          (r) => mass(r) || config.results.some((c) => c.pass_code === r.passCode && c.test_id === r.testId),
        );
        return {
          results: served.map(
            (r): Served => ({
              // An exam is the pass code it was read through; a result read one by one has only its test id.
              exam_id: mass(r) ? r.examPassCode : r.testId,
              score: r.score,
              max_score: null,
              percentage: null,
              passed: null,
              started_at: null,
              finished_at: null,
              duration_seconds: null,
              status: 'finished',
            }),
          ),
          exams: new Map(),
        };
      },
    };
  },
};

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const sum = (xs: (number | null)[]) => xs.reduce<number>((s, x) => s + (x ?? 0), 0);
const known = <T>(xs: (T | null)[]) => xs.filter((x): x is T => x !== null);

describe.each(['postgres', 'duckdb'] as const)('the unified model in %s', (warehouse) => {
  describe.each(Object.keys(SIMULATORS) as (keyof typeof SIMULATORS)[])('over %s simulator data', (provider) => {
    const ready = bundledTap(provider) !== undefined && bundledTarget(warehouse) !== undefined;
    it.skipIf(!ready)(
      'has one exam_results row per served attempt and exams that aggregate them',
      async () => {
        const simulator = await SIMULATORS[provider]();
        const pgTest = warehouse === 'postgres' ? await pgSchema('cli_model') : undefined;
        const providerSchema = pgTest ? `${pgTest.schema}_${provider}` : provider;
        try {
          const viewSchema = pgTest?.schema ?? 'main';
          const connection = pgTest ? { connection_string: PG_URL } : { path: path.join(dir, 'w.duckdb') };
          const project = parseProject(
            {
              taps: { [provider]: { config: simulator.config } },
              targets: { [warehouse]: { config: { ...connection, default_target_schema: providerSchema } } },
            },
            path.join(dir, 'tapline.yml'),
          );
          const run = await runPipeline(planPipeline(project, 'tapline.yml', { tap: provider, target: warehouse }, dir), {
            log: silentLogger,
          });
          expect(run.status, run.error).toBe('succeeded');
          const built = await buildModel({
            kind: warehouse,
            config: connection,
            schema: viewSchema,
            cwd: dir,
            providerSchemas: onlyProvider(provider, providerSchema),
          });
          expect(built.providers).toEqual([provider]);
          const query = async (sql: string) =>
            pgTest ? (await pgTest.client.query(sql)).rows : await duckdbRows((connection as { path: string }).path, sql);

          const { results: served, exams: listed } = simulator.expected();
          const [first] = await query(`SELECT * FROM "${viewSchema}".exam_results LIMIT 1`);
          expect(Object.keys(first!)).toEqual(['provider', 'account', ...MODEL_COLUMNS]);

          const [t] = await query(
            `SELECT count(*) AS n, count(DISTINCT source_key) AS keys, count(DISTINCT candidate_id) AS candidates,
                  sum(score) AS score, sum(max_score) AS max_score, count(max_score) AS with_max,
                  sum(percentage) AS percentage, count(percentage) AS with_percentage,
                  sum(CASE WHEN passed THEN 1 ELSE 0 END) AS passed, count(passed) AS with_verdict,
                  sum(EXTRACT(EPOCH FROM started_at)) AS started, count(started_at) AS with_start,
                  sum(EXTRACT(EPOCH FROM finished_at)) AS finished, count(finished_at) AS with_finish,
                  sum(duration_seconds) AS duration, count(duration_seconds) AS with_duration,
                  sum(CASE WHEN status = 'finished' THEN 1 ELSE 0 END) AS finished_status
           FROM "${viewSchema}".exam_results WHERE provider = '${provider}'`,
          );
          expect(Number(t!.n)).toBe(served.length);
          expect(Number(t!.keys)).toBe(served.length); // source_key is unique within a provider
          expect(Number(t!.candidates)).toBeGreaterThan(0);
          expect(Number(t!.score)).toBeCloseTo(sum(served.map((r) => r.score)), 6);
          expect(Number(t!.with_max)).toBe(known(served.map((r) => r.max_score)).length);
          expect(Number(t!.max_score ?? 0)).toBeCloseTo(sum(served.map((r) => r.max_score)), 6);
          expect(Number(t!.with_percentage)).toBe(known(served.map((r) => r.percentage)).length);
          expect(Number(t!.percentage ?? 0)).toBeCloseTo(sum(served.map((r) => r.percentage)), 6);
          expect(Number(t!.with_verdict)).toBe(known(served.map((r) => r.passed)).length);
          expect(Number(t!.passed)).toBe(served.filter((r) => r.passed === true).length);
          expect(Number(t!.with_start)).toBe(known(served.map((r) => r.started_at)).length);
          expect(Number(t!.started ?? 0)).toBeCloseTo(sum(served.map((r) => r.started_at)) / 1000, 3);
          expect(Number(t!.with_finish)).toBe(known(served.map((r) => r.finished_at)).length);
          expect(Number(t!.finished ?? 0)).toBeCloseTo(sum(served.map((r) => r.finished_at)) / 1000, 3);
          expect(Number(t!.with_duration)).toBe(known(served.map((r) => r.duration_seconds)).length);
          expect(Number(t!.duration ?? 0)).toBeCloseTo(sum(served.map((r) => r.duration_seconds)), 3);
          expect(Number(t!.finished_status)).toBe(served.filter((r) => r.status === 'finished').length);
          const statuses = await query(`SELECT status, count(*) AS n FROM "${viewSchema}".exam_results GROUP BY status`);
          const servedStatuses = new Map<string, number>();
          for (const r of served) servedStatuses.set(r.status, (servedStatuses.get(r.status) ?? 0) + 1);
          expect(new Map(statuses.map((s) => [String(s.status), Number(s.n)]))).toEqual(servedStatuses);

          const exams = await query(`SELECT exam_id, exam_title, attempts, mean_score, pass_rate FROM "${viewSchema}".exams`);
          const byExam = new Map<string, Served[]>();
          for (const r of served) byExam.set(r.exam_id, [...(byExam.get(r.exam_id) ?? []), r]);
          const ids = new Set([...listed.keys(), ...byExam.keys()]);
          expect(new Set(exams.map((e) => String(e.exam_id)))).toEqual(ids);
          for (const exam of exams) {
            const attempts = byExam.get(String(exam.exam_id)) ?? [];
            if (listed.has(String(exam.exam_id))) expect(exam.exam_title).toBe(listed.get(String(exam.exam_id)));
            else expect(exam.exam_title).not.toBeNull();
            expect(Number(exam.attempts)).toBe(attempts.length);
            if (attempts.length) expect(Number(exam.mean_score)).toBeCloseTo(sum(attempts.map((r) => r.score)) / attempts.length, 6);
            const verdicts = known(attempts.map((r) => r.passed));
            if (verdicts.length) expect(Number(exam.pass_rate)).toBeCloseTo(verdicts.filter(Boolean).length / verdicts.length, 6);
            else expect(exam.pass_rate).toBeNull();
          }
        } finally {
          await simulator.close();
          if (pgTest) await pgTest.client.query(`DROP SCHEMA IF EXISTS "${providerSchema}" CASCADE`);
          await pgTest?.drop();
        }
      },
      60_000,
    );
    if (!ready) it.skip(`tap-${provider} or target-${warehouse} is not built yet`, () => {});
  });
});
