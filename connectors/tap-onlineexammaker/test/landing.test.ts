// tap-onlineexammaker piped into the real targets: every exam and result lands; a second run adds only what changed.
import { afterEach, describe, expect, it } from 'vitest';
import { startOemSimulator, type OemSimulator } from '../simulator/index.js';
import { duckdbPath, PG_URL, pgSchema, queryDuckDB, runTarget } from './support/land.js';
import { jsonFile, runTap, type TapRun } from './support/run-tap.js';

const running: OemSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

const lastState = (run: TapRun) => run.messages.filter((m) => m.type === 'STATE').at(-1)?.value;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const held = (sim: OemSimulator) =>
  sim.world.results.map((r) => `${r.eid}|${r.sid}|${iso(r.startTime)}|${r.status}|${Number(r.score)}`).sort();
const landed = (rows: Record<string, unknown>[]) =>
  // Targets snake-case column names: startTime lands as start_time.
  rows.map((r) => `${r.eid}|${r.sid}|${new Date(r.start_time as string | Date).toISOString()}|${r.status}|${Number(r.score)}`).sort();

async function twoRuns(sim: OemSimulator, load: (stdout: string) => Promise<void>): Promise<void> {
  const first = await runTap(['--config', jsonFile(sim.config)]);
  await load(first.stdout);
  sim.advance(4);
  const second = await runTap(['--config', jsonFile(sim.config), '--state', jsonFile(lastState(first))]);
  await load(second.stdout);
}

describe('landing', () => {
  it('lands exactly the simulator’s results in DuckDB across a full and an incremental run', async () => {
    const sim = await startOemSimulator({ seed: 4, exams: 4, resultsPerExam: 30 });
    running.push(sim);
    const path = duckdbPath();
    await twoRuns(sim, async (stdout) => {
      expect((await runTarget('target-duckdb', { path }, stdout)).code).toBe(0);
    });
    expect(landed(await queryDuckDB(path, 'SELECT * FROM main.results'))).toEqual(held(sim));
    expect(await queryDuckDB(path, 'SELECT count(*)::INTEGER AS n FROM main.exams')).toEqual([{ n: sim.world.exams.length }]);
  });

  it('lands the same in PostgreSQL', async () => {
    const sim = await startOemSimulator({ seed: 4, exams: 4, resultsPerExam: 30 });
    running.push(sim);
    const schema = await pgSchema();
    try {
      await twoRuns(sim, async (stdout) => {
        const loaded = await runTarget('target-postgres', { connection_string: PG_URL, default_target_schema: schema.name }, stdout);
        expect(loaded.stderr).not.toContain('CRITICAL');
        expect(loaded.code).toBe(0);
      });
      expect(landed(await schema.query(`SELECT * FROM "${schema.name}".results`))).toEqual(held(sim));
    } finally {
      await schema.drop();
    }
  });
});
