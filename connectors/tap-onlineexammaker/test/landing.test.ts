// tap-onlineexammaker piped into the real targets: every exam and result lands; a second run adds only what changed.

import { duckdbWarehouse, landTwoSyncs, perTest, postgresWarehouse } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { type OemSimulator, startOemSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

// Every simulator and warehouse a test starts is closed or dropped after it.
const startSimulator = perTest(afterEach, startOemSimulator, (sim) => sim.close());
const duckdb = perTest(afterEach, duckdbWarehouse, (warehouse) => warehouse.drop());
const postgres = perTest(afterEach, postgresWarehouse, (warehouse) => warehouse.drop());

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
// The legacy every-candidate answer has no status (document section 2), so rows are compared by end time.
const held = (sim: OemSimulator) =>
  sim.world.results
    .map((r) => `${r.eid}|${r.sid}|${iso(r.startTime)}|${r.endTime === 0 ? null : iso(r.endTime)}|${Number(r.score)}`)
    .sort();
const landed = (rows: Record<string, unknown>[]) =>
  // Targets snake-case column names: startTime lands as start_time.
  rows
    .map((r) => {
      const end = r.end_time === null ? null : new Date(r.end_time as string | Date).toISOString();
      return `${r.eid}|${r.sid}|${new Date(r.start_time as string | Date).toISOString()}|${end}|${Number(r.score)}`;
    })
    .sort();

describe('landing', () => {
  it('lands exactly the simulator’s results in DuckDB across a full and an incremental run', async () => {
    const sim = await startSimulator({ seed: 4, exams: 4, resultsPerExam: 30 });
    const duck = await duckdb();
    for (const { target } of await landTwoSyncs(tap, duck, { config: sim.config, between: () => sim.advance(4) }))
      expect(target.code).toBe(0);
    expect(landed(await duck.query('SELECT * FROM main.results'))).toEqual(held(sim));
    expect(await duck.query('SELECT count(*)::INTEGER AS n FROM main.exams')).toEqual([{ n: sim.world.exams.length }]);
  });

  it('lands the same in PostgreSQL', async () => {
    const sim = await startSimulator({ seed: 4, exams: 4, resultsPerExam: 30 });
    const pg = await postgres();
    for (const { target } of await landTwoSyncs(tap, pg, { config: sim.config, between: () => sim.advance(4) })) {
      expect(target.stderr).not.toContain('CRITICAL');
      expect(target.code).toBe(0);
    }
    expect(landed(await pg.query(`SELECT * FROM "${pg.schema}".results`))).toEqual(held(sim));
  });

  it('marks an exam deleted in OnlineExamMaker as deleted downstream (ACTIVATE_VERSION), in DuckDB and in PostgreSQL with hard_delete', async () => {
    const sim = await startSimulator({ seed: 4, exams: 4, resultsPerExam: 3 });
    const duck = await duckdb();
    const pg = await postgres();
    const live = () => sim.world.exams.map((e) => e.eid).sort((a, b) => a - b);
    const gone = sim.world.exams[0]!.eid;
    for (const { target } of await landTwoSyncs(tap, duck, { config: sim.config, between: () => sim.act('delete-exam', { eid: gone }) }))
      expect(target.code).toBe(0);
    const marked = await duck.query('SELECT eid, _sdc_deleted_at IS NOT NULL AS deleted FROM main.exams ORDER BY eid');
    expect(marked.filter((r) => r.deleted).map((r) => Number(r.eid))).toEqual([gone]);
    expect(marked.filter((r) => !r.deleted).map((r) => Number(r.eid))).toEqual(live());

    // PostgreSQL starts empty: two runs around the deletion of another exam.
    const next = sim.world.exams[0]!.eid;
    const options = { config: sim.config, targetConfig: { hard_delete: true }, between: () => sim.act('delete-exam', { eid: next }) };
    for (const { target } of await landTwoSyncs(tap, pg, options)) expect(target.code).toBe(0);
    expect((await pg.query(`SELECT eid FROM "${pg.schema}".exams ORDER BY eid`)).map((r) => Number(r.eid))).toEqual(live());
  });
});
