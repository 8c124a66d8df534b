// tap-cbthost piped into the real targets: every result lands, and a result removed upstream disappears.

import { duckdbWarehouse, landSync, perTest, postgresWarehouse } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { type CbthostSimulator, startCbthostSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

// Every simulator and warehouse a test starts is closed or dropped after it.
const startSimulator = perTest(afterEach, startCbthostSimulator, (sim) => sim.close());
const duckdb = perTest(afterEach, duckdbWarehouse, (warehouse) => warehouse.drop());
const postgres = perTest(afterEach, postgresWarehouse, (warehouse) => warehouse.drop());

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
    const sim = await startSimulator({ seed: 21, tests: 4, studentsPerTest: 10 });
    const duck = await duckdb();
    expect((await landSync(tap, duck, { config: sim.config, targetConfig: { hard_delete: true } })).target).toMatchObject({ code: 0 });
    expect(rows(await duck.query('SELECT * FROM main.results'))).toEqual(held(sim));
    sim.advance(2);
    expect((await landSync(tap, duck, { config: sim.config, targetConfig: { hard_delete: true } })).target).toMatchObject({ code: 0 });
    expect(rows(await duck.query('SELECT * FROM main.results'))).toEqual(held(sim));
  });

  it('lands the same in PostgreSQL', async () => {
    const sim = await startSimulator({ seed: 21, tests: 4, studentsPerTest: 10 });
    const pg = await postgres();
    const { target: loaded } = await landSync(tap, pg, { config: sim.config, targetConfig: { hard_delete: true } });
    expect(loaded.stderr).not.toContain('CRITICAL');
    expect(loaded.code).toBe(0);
    sim.advance(2);
    expect((await landSync(tap, pg, { config: sim.config, targetConfig: { hard_delete: true } })).target.code).toBe(0);
    expect(rows(await pg.query(`SELECT * FROM "${pg.schema}".results`))).toEqual(held(sim));
  });
});
