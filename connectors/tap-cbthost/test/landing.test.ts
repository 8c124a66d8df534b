// tap-cbthost piped into the real targets: every result lands, and a result removed upstream disappears.
import { afterEach, describe, expect, it } from 'vitest';
import { startCbthostSimulator, type CbthostSimulator } from '../simulator/index.js';
import { duckdbPath, pgSchema, queryDuckDB, runTarget } from './support/land.js';
import { jsonFile, runTap } from './support/run-tap.js';

const running: CbthostSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

/** pass_code|test_id|score for every result the configured exams and single results hold. */
function held(sim: CbthostSimulator): string[] {
  const mass = new Set(sim.world.tests.filter((t) => sim.config.pass_codes.includes(t.passCode)).map((t) => t.testId));
  return sim.world.results
    .filter((r) => mass.has(r.testId) || sim.config.results.some((s) => s.pass_code === r.passCode && s.test_id === r.testId))
    .map((r) => `${r.passCode}|${r.testId}|${Number(r.score)}`)
    .sort();
}
const rows = (list: Record<string, unknown>[]) =>
  list.map((r) => `${r.cbt_pass_code}|${r.cbt_test_id}|${Number(r.cbt_total_score)}`).sort();

describe('landing', () => {
  it('lands exactly the simulator’s results in DuckDB, and a second run drops the one removed upstream', async () => {
    const sim = await startCbthostSimulator({ seed: 21, tests: 4, studentsPerTest: 10 });
    running.push(sim);
    const path = duckdbPath();
    const target = { path, hard_delete: true };
    const first = await runTap(['--config', jsonFile(sim.config)]);
    expect(await runTarget('target-duckdb', target, first.stdout)).toMatchObject({ code: 0 });
    expect(rows(await queryDuckDB(path, 'SELECT * FROM main.results'))).toEqual(held(sim));
    sim.advance(2);
    const second = await runTap(['--config', jsonFile(sim.config)]);
    expect(await runTarget('target-duckdb', target, second.stdout)).toMatchObject({ code: 0 });
    expect(rows(await queryDuckDB(path, 'SELECT * FROM main.results'))).toEqual(held(sim));
  });

  it('lands the same in PostgreSQL', async () => {
    const sim = await startCbthostSimulator({ seed: 21, tests: 4, studentsPerTest: 10 });
    running.push(sim);
    const schema = await pgSchema();
    try {
      const target = { connection_string: process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', default_target_schema: schema.name, hard_delete: true };
      const first = await runTap(['--config', jsonFile(sim.config)]);
      const loaded = await runTarget('target-postgres', target, first.stdout);
      expect(loaded.stderr).not.toContain('CRITICAL');
      expect(loaded.code).toBe(0);
      sim.advance(2);
      const second = await runTap(['--config', jsonFile(sim.config)]);
      expect((await runTarget('target-postgres', target, second.stdout)).code).toBe(0);
      expect(rows(await schema.query(`SELECT * FROM "${schema.name}".results`))).toEqual(held(sim));
    } finally {
      await schema.drop();
    }
  });
});
