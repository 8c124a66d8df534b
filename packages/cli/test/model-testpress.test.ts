// The unified model over Testpress simulator data in every variant (docs/providers/testpress.md): both
// attempts sources, attempts resumed days later, lists that hold only the caller's own attempts.
// Row by row, in PostgreSQL and DuckDB, against what the simulator served.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { buildModel } from '../src/model/index.js';
import { planPipeline, runPipeline } from '../src/pipeline.js';
import { bundledTap, bundledTarget } from '../src/plugins.js';
import { parseProject } from '../src/project.js';
import { duckdbRows, PG_URL, pgSchema, tempDir } from './helpers.js';
import { servedAttempts } from './testpress-served.js';

const VARIANTS = {
  'the admin source (default), many attempts resumed days later': {
    options: { resumedShare: 0.5, examAttemptsScope: 'caller' },
    source: 'admin',
  },
  'the exam source, many attempts resumed days later': { options: { resumedShare: 0.5 }, source: 'exam' },
} as const;

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

/** A timestamp as the driver returns it (a Date from pg, text or a Date from DuckDB) in milliseconds. */
const epochMs = (value: unknown) => (value === null ? null : value instanceof Date ? value.getTime() : Date.parse(String(value)));
/** Within a millisecond: the warehouses keep microseconds, JavaScript dates milliseconds. */
const withinAMillisecond = (actual: number | null, expected: number) => expect(Math.abs(actual! - expected)).toBeLessThan(1);

describe.each(['postgres', 'duckdb'] as const)('the unified model in %s over Testpress', (warehouse) => {
  const ready = bundledTap('testpress') !== undefined && bundledTarget(warehouse) !== undefined;
  describe.each(Object.keys(VARIANTS) as (keyof typeof VARIANTS)[])('with %s', (variant) => {
    it.skipIf(!ready)(
      'shows every served attempt with its real start, end, verdict and e-mail',
      async () => {
        const { options, source } = VARIANTS[variant];
        const { startTestpressSimulator } = (await import('@tapline/tap-testpress/simulator' as string)) as {
          startTestpressSimulator(o: object): Promise<any>;
        };
        const simulator = await startTestpressSimulator({ seed: 'model-variants', exams: 6, attemptsPerExam: 12, ...options });
        const pgTest = warehouse === 'postgres' ? await pgSchema('cli_model_tp') : undefined;
        const providerSchema = pgTest ? `${pgTest.schema}_tp` : 'testpress';
        try {
          const viewSchema = pgTest?.schema ?? 'main';
          const connection = pgTest ? { connection_string: PG_URL } : { path: path.join(dir, 'w.duckdb') };
          const project = parseProject(
            {
              taps: { testpress: { config: { ...simulator.config, attempts_source: source } } },
              targets: { [warehouse]: { config: { ...connection, default_target_schema: providerSchema } } },
            },
            path.join(dir, 'tapline.yml'),
          );
          const run = await runPipeline(planPipeline(project, 'tapline.yml', { tap: 'testpress', target: warehouse }, dir), {
            log: silentLogger,
          });
          expect(run.status, run.error).toBe('succeeded');
          const none = `${providerSchema}_none`;
          await buildModel({
            kind: warehouse,
            config: connection,
            schema: viewSchema,
            cwd: dir,
            providerSchemas: { classmarker: none, testpress: providerSchema, onlineexammaker: none, cbthost: none },
          });
          const sql = `SELECT source_key, started_at, finished_at, passed, email, percentage FROM "${viewSchema}".exam_results WHERE provider = 'testpress'`;
          const rows = pgTest ? (await pgTest.client.query(sql)).rows : await duckdbRows((connection as { path: string }).path, sql);

          const served = servedAttempts(simulator.world, source);
          const resumed = new Set(
            (simulator.world.attempts as any[])
              .filter((a) => a.lastStartedMicros - a.startMicros > 86_400_000_000)
              .map((a) => `attempt:${a.id}`),
          );
          expect(served.filter((a) => resumed.has(a.source_key)).length).toBeGreaterThan(5);
          const byKey = new Map(rows.map((r) => [String(r.source_key), r]));
          expect(byKey.size).toBe(served.length);
          for (const attempt of served) {
            const row = byKey.get(attempt.source_key)!;
            withinAMillisecond(epochMs(row.started_at), attempt.started_at!);
            // Never date + time taken for an attempt resumed days later: its end comes after the resume.
            if (attempt.finished_at === null) expect(row.finished_at).toBeNull();
            else withinAMillisecond(epochMs(row.finished_at), attempt.finished_at);
            expect(row.passed).toBe(attempt.passed);
            expect(row.email).toBe(attempt.email);
            expect(Number(row.percentage)).toBeCloseTo(attempt.percentage!, 6);
          }
        } finally {
          await simulator.close();
          if (pgTest) await pgTest.client.query(`DROP SCHEMA IF EXISTS "${providerSchema}" CASCADE`);
          await pgTest?.drop();
        }
      },
      90_000,
    );
  });
  if (!ready) it.skip(`tap-testpress or target-${warehouse} is not built yet`, () => {});
});
