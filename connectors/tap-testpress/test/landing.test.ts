// tap-testpress piped into the real targets: every exam and attempt lands; a second run completes running attempts.

import { duckdbWarehouse, landTwoSyncs, perTest, postgresWarehouse } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { formatDecimal, startTestpressSimulator, type TestpressSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

// Every simulator and warehouse a test starts is closed or dropped after it.
const startSimulator = perTest(afterEach, startTestpressSimulator, (sim) => sim.close());
const duckdb = perTest(afterEach, duckdbWarehouse, (warehouse) => warehouse.drop());
const postgres = perTest(afterEach, postgresWarehouse, (warehouse) => warehouse.drop());

/** id|state|score of every attempt: the default (admin) source reads every student's, of every listed exam. */
function held(sim: TestpressSimulator): string[] {
  return sim.world.attempts
    .map((a) => {
      const exam = sim.world.exams.find((e) => e.id === a.examId)!;
      const score = a.correct_count * exam.markPerQuestionHundredths - a.incorrect_count * exam.negativeMarksHundredths;
      return `${a.id}|${a.state}|${Number(formatDecimal(score))}`;
    })
    .sort();
}
const landed = (rows: Record<string, unknown>[]) => rows.map((r) => `${r.id}|${r.state}|${Number(r.score)}`).sort();

describe('landing', () => {
  it('lands exactly the simulator’s attempts in DuckDB across a full and an incremental run', async () => {
    const sim = await startSimulator({ seed: 4, exams: 8, attemptsPerExam: 12 });
    const duck = await duckdb();
    for (const { target } of await landTwoSyncs(tap, duck, { config: sim.config, between: () => sim.advance(4) }))
      expect(target.code).toBe(0);
    expect(landed(await duck.query('SELECT * FROM main.attempts'))).toEqual(held(sim));
    expect(await duck.query('SELECT count(*)::INTEGER AS n FROM main.exams')).toEqual([{ n: sim.world.exams.length }]);
  });

  it('lands the same in PostgreSQL', async () => {
    const sim = await startSimulator({ seed: 4, exams: 8, attemptsPerExam: 12 });
    const pg = await postgres();
    for (const { target } of await landTwoSyncs(tap, pg, { config: sim.config, between: () => sim.advance(4) })) {
      expect(target.stderr).not.toContain('CRITICAL');
      expect(target.code).toBe(0);
    }
    expect(landed(await pg.query(`SELECT * FROM "${pg.schema}".attempts`))).toEqual(held(sim));
  });

  it('marks an exam deleted in Testpress as deleted downstream (ACTIVATE_VERSION), in DuckDB and in PostgreSQL with hard_delete', async () => {
    const sim = await startSimulator({ seed: 4, exams: 4, attemptsPerExam: 3 });
    const duck = await duckdb();
    const pg = await postgres();
    const gone = sim.world.exams[0]!.id;
    const between = () => sim.act('delete-exam', { exam_id: gone });
    for (const { target } of await landTwoSyncs(tap, duck, { config: sim.config, between })) expect(target.code).toBe(0);
    const marked = await duck.query('SELECT id, _sdc_deleted_at IS NOT NULL AS deleted FROM main.exams ORDER BY id');
    expect(marked.filter((r) => r.deleted).map((r) => Number(r.id))).toEqual([gone]);
    expect(marked.filter((r) => !r.deleted).map((r) => Number(r.id))).toEqual(sim.world.exams.map((e) => e.id).sort((a, b) => a - b));

    // PostgreSQL starts empty: two runs around the deletion of another exam.
    const next = sim.world.exams[0]!.id;
    const config = { config: sim.config, targetConfig: { hard_delete: true }, between: () => sim.act('delete-exam', { exam_id: next }) };
    for (const { target } of await landTwoSyncs(tap, pg, config)) expect(target.code).toBe(0);
    const rows = await pg.query(`SELECT id FROM "${pg.schema}".exams ORDER BY id`);
    expect(rows.map((r) => Number(r.id))).toEqual(sim.world.exams.map((e) => e.id).sort((a, b) => a - b));
  });

  for (const [name, warehouse] of [
    ['DuckDB', duckdb],
    ['PostgreSQL', postgres],
  ] as const) {
    it(`lands every student's attempts in ${name} where exam lists hold the caller's own only, attempts resumed days later and the 2015 fields alone`, async () => {
      const sim = await startSimulator({
        seed: 6,
        exams: 6,
        attemptsPerExam: 10,
        examAttemptsScope: 'caller',
        resumedShare: 0.5,
        v21FieldsOnly: true,
      });
      const place = await warehouse();
      for (const { target } of await landTwoSyncs(tap, place, { config: sim.config, between: () => sim.advance(3) }))
        expect(target.code).toBe(0);
      const rows = await place.query(`SELECT * FROM "${place.schema}".attempts`);
      expect(landed(rows)).toEqual(held(sim));
      // The resume and the end land for every attempt: what the model needs for finished_at.
      const ends = new Map(rows.map((r) => [Number(r.id), r.last_answer_updated_time]));
      for (const a of sim.world.attempts.filter((x) => x.endMicros !== null)) expect(ends.get(a.id)).not.toBeNull();
    });
  }
});
