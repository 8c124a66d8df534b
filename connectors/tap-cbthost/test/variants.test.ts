// tap-cbthost against every data variant of its simulator, over real HTTP and into both targets:
// exams that share one test id (told apart by pass code) and results sent without a score.

import {
  duckdbWarehouse,
  jsonFile,
  landSync,
  perTest,
  postgresWarehouse,
  recordsOf,
  runTap,
  type Warehouse,
} from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { type CbthostSimulator, type CbthostSimulatorOptions, startCbthostSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

const startSimulator = perTest(afterEach, startCbthostSimulator, (sim) => sim.close());
const duckdb = perTest(afterEach, duckdbWarehouse, (warehouse) => warehouse.drop());
const postgres = perTest(afterEach, postgresWarehouse, (warehouse) => warehouse.drop());

/** Every data variant the simulator serves; each one must land whole. */
const VARIANTS: Record<string, CbthostSimulatorOptions> = {
  document: {},
  'shared test id': { sharedTestId: true },
  'null scores': { nullScores: true },
  'shared test id and null scores': { sharedTestId: true, nullScores: true },
  'mass summary beside the array': { massShape: 'beside' },
  'mass students and summary inside data': { massShape: 'inside', sharedTestId: true },
};

/** student pass code|test id|score|exam pass code (null for single reads), for what the config reads. */
function held(sim: CbthostSimulator): string[] {
  const single = (r: { passCode: string; testId: string }) =>
    sim.config.results.some((s) => s.pass_code === r.passCode && s.test_id === r.testId);
  return sim.world.results
    .filter((r) => sim.config.pass_codes.includes(r.examPassCode) || single(r))
    .map((r) => `${r.passCode}|${r.testId}|${r.score}|${sim.config.pass_codes.includes(r.examPassCode) ? r.examPassCode : null}`)
    .sort();
}
const score = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const rows = (list: Record<string, unknown>[]) =>
  list.map((r) => `${r.cbt_pass_code}|${r.cbt_test_id}|${score(r.cbt_total_score)}|${r.exam_pass_code ?? null}`).sort();

async function start(options: CbthostSimulatorOptions): Promise<CbthostSimulator> {
  return startSimulator({ seed: 31, tests: 5, studentsPerTest: 8, ...options });
}

describe('the simulator’s variants', () => {
  it('mass summary: served beside the array, or with the students inside data', async () => {
    for (const [massShape, where] of [
      ['beside', (b: any) => b.summary],
      ['inside', (b: any) => b.data.summary],
    ] as const) {
      const sim = await start({ massShape });
      const body = (await (
        await fetch(`${sim.baseUrl}/api/result/${sim.config.pass_codes[0]}`, { headers: { accept: 'application/json' } })
      ).json()) as any;
      expect(where(body)).toMatchObject({ total_students: expect.any(Number) });
      const students = massShape === 'inside' ? body.data.students : body.data;
      expect(students[0]).toHaveProperty('cbt_pass_code');
    }
  });

  it('shared test id: every exam has the owner’s e-mail as its test id, and each pass code lists only its own exam', async () => {
    const sim = await start({ sharedTestId: true });
    expect(new Set(sim.world.tests.map((t) => t.testId)).size).toBe(1);
    expect(sim.world.tests[0]!.testId).toMatch(/@/);
    for (const code of sim.config.pass_codes) {
      const answer = (await (await fetch(`${sim.baseUrl}/api/result/${code}`, { headers: { accept: 'application/json' } })).json()) as {
        data: { cbt_pass_code: string }[];
      };
      expect(answer.data.map((r) => r.cbt_pass_code)).toEqual(
        sim.world.results.filter((r) => r.examPassCode === code).map((r) => r.passCode),
      );
    }
  });

  it('null scores: some results are sent with cbt_total_score null; set-score makes one more at run time', async () => {
    const sim = await start({ nullScores: true });
    const exam = sim.config.pass_codes[0]!;
    const read = async () =>
      (
        (await (await fetch(`${sim.baseUrl}/api/result/${exam}`, { headers: { accept: 'application/json' } })).json()) as {
          data: { cbt_pass_code: string; cbt_total_score: unknown }[];
        }
      ).data;
    expect((await read()).some((r) => r.cbt_total_score === null)).toBe(true);
    const scored = (await read()).find((r) => r.cbt_total_score !== null)!;
    const control = await fetch(`${sim.baseUrl}/__simulator/actions/set-score`, {
      method: 'POST',
      body: JSON.stringify({ pass_code: scored.cbt_pass_code, test_id: sim.world.tests[0]!.testId, score: null }),
    });
    expect(control.status).toBe(200);
    expect((await read()).find((r) => r.cbt_pass_code === scored.cbt_pass_code)!.cbt_total_score).toBeNull();
  });
});

describe.each(Object.entries(VARIANTS))('variant %s', (_name, options) => {
  it('the tap sends every result with the exam pass code it was read through, and exit 0', async () => {
    const sim = await start(options);
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(0);
    expect(rows(recordsOf(run, 'results'))).toEqual(held(sim));
    expect(run.messages.filter((m) => m.type === 'ACTIVATE_VERSION')).toHaveLength(1);
    expect(sim.requests.unexpected()).toEqual([]);
  });

  const lands = (warehouse: () => Promise<Warehouse>, table: (w: Warehouse) => string) => async () => {
    const sim = await start(options);
    const place = await warehouse();
    const { target } = await landSync(tap, place, { config: sim.config, targetConfig: { hard_delete: true } });
    expect(target.stderr).not.toContain('CRITICAL');
    expect(target.code).toBe(0);
    expect(rows(await place.query(`SELECT * FROM ${table(place)}`))).toEqual(held(sim));
  };
  it(
    'lands whole in DuckDB',
    lands(duckdb, () => 'main.results'),
  );
  it(
    'lands whole in PostgreSQL',
    lands(postgres, (pg) => `"${pg.schema}".results`),
  );
});

describe('exams that share one test id', () => {
  it('stay apart downstream: each row carries its exam’s pass code, and no two exams’ rows merge', async () => {
    const sim = await start({ sharedTestId: true });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    const records = recordsOf(run, 'results');
    const mass = records.filter((r) => r.exam_pass_code !== null);
    expect(new Set(mass.map((r) => r.cbt_test_id)).size).toBe(1);
    expect(new Set(mass.map((r) => r.exam_pass_code))).toEqual(new Set(sim.config.pass_codes));
    expect(new Set(records.map((r) => `${r.cbt_pass_code}|${r.cbt_test_id}`)).size).toBe(records.length);
  });
});

describe('a result sent without a score', () => {
  it('does not stop the run: a score removed between runs lands as NULL over the old value, in both targets', async () => {
    const sim = await start({});
    const duck = await duckdb();
    const pg = await postgres();
    for (const place of [duck, pg]) expect((await landSync(tap, place, { config: sim.config })).target.code).toBe(0);
    const result = sim.world.results.find((r) => r.examPassCode === sim.config.pass_codes[0])!;
    sim.act('set-score', { pass_code: result.passCode, test_id: result.testId, score: null });
    for (const place of [duck, pg]) {
      const { tap: run, target } = await landSync(tap, place, { config: sim.config });
      expect(run.code).toBe(0);
      expect(target.code).toBe(0);
      const table = place.target === 'target-duckdb' ? 'main.results' : `"${place.schema}".results`;
      const landed = await place.query(`SELECT cbt_total_score FROM ${table} WHERE cbt_pass_code = '${result.passCode}'`);
      expect(landed).toEqual([{ cbt_total_score: null }]);
    }
  });
});

describe('scores in other spellings', () => {
  it('reads "" as no score and "5" as exactly 5, and goes on', async () => {
    const sim = await start({});
    const exam = sim.config.pass_codes[0]!;
    const testId = sim.world.tests.find((t) => t.passCode === exam)!.testId;
    const data = [
      { cbt_pass_code: `${exam}-9001`, cbt_test_id: testId, cbt_total_score: '' },
      { cbt_pass_code: `${exam}-9002`, cbt_test_id: testId, cbt_total_score: '5' },
    ];
    sim.faults.inject({ kind: 'respond', route: 'mass_results', response: { body: { status: 'success', data } } });
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, pass_codes: [exam], results: [] })]);
    expect(run.code).toBe(0);
    expect(recordsOf(run, 'results').map((r) => [r.cbt_pass_code, r.cbt_total_score, r.exam_pass_code])).toEqual([
      [`${exam}-9001`, null, exam],
      [`${exam}-9002`, '5', exam],
    ]);
  });
});

describe('a result configured both ways (its exam in pass_codes, itself in results)', () => {
  /** The config plus one result of the first mass-read exam, read one by one too. */
  function bothWays(sim: CbthostSimulator) {
    const exam = sim.config.pass_codes[0]!;
    const result = sim.world.results.find((r) => r.examPassCode === exam)!;
    const single = { pass_code: result.passCode, test_id: result.testId };
    return { exam, result, single, config: { ...sim.config, results: [...sim.config.results, single] } };
  }
  /** Per key, the last record the tap sent: what a target keeps (last wins). */
  const lastByKey = (records: Record<string, any>[]) => new Map(records.map((r) => [`${r.cbt_pass_code}|${r.cbt_test_id}`, r]));

  it('keeps the exam pass code and the single read’s test info, whichever read comes last', async () => {
    const sim = await start({ sharedTestId: true });
    const { exam, result, single, config } = bothWays(sim);
    const inOrder = await runTap(tap, ['--config', jsonFile(config)]);
    expect(inOrder.code, inOrder.stderr).toBe(0);
    // A run resuming at the single result reads it before its exam's mass read.
    const state = { currently_syncing: 'results', currently_syncing_partition: single };
    const resumed = await runTap(tap, ['--config', jsonFile(config), '--state', jsonFile(state)]);
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const run of [inOrder, resumed]) {
      const kept = lastByKey(recordsOf(run, 'results')).get(`${result.passCode}|${result.testId}`);
      expect(kept).toMatchObject({ exam_pass_code: exam, cbt_test_info: expect.any(String) });
    }
  });

  const lands = (warehouse: () => Promise<Warehouse>, table: (w: Warehouse) => string) => async () => {
    const sim = await start({ sharedTestId: true });
    const { exam, result, config } = bothWays(sim);
    const place = await warehouse();
    const { tap: run, target } = await landSync(tap, place, { config, targetConfig: { hard_delete: true } });
    expect({ tap: run.code, target: target.code }, target.stderr).toEqual({ tap: 0, target: 0 });
    const [row] = await place.query(`SELECT exam_pass_code, cbt_test_info FROM ${table(place)} WHERE cbt_pass_code = '${result.passCode}'`);
    expect(row).toMatchObject({ exam_pass_code: exam, cbt_test_info: expect.any(String) });
  };
  it(
    'lands with its exam pass code in DuckDB',
    lands(duckdb, () => 'main.results'),
  );
  it(
    'lands with its exam pass code in PostgreSQL',
    lands(postgres, (pg) => `"${pg.schema}".results`),
  );
});
