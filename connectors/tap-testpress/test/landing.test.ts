// tap-testpress piped into the real targets: every exam and attempt lands; a second run completes running attempts.
import { afterEach, describe, expect, it } from 'vitest';
import { formatDecimal, startTestpressSimulator, type TestpressSimulator } from '../simulator/index.js';
import { duckdbPath, PG_URL, pgSchema, queryDuckDB, runTarget } from './support/land.js';
import { jsonFile, runTap, type TapRun } from './support/run-tap.js';

const running: TestpressSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

const lastState = (run: TapRun) => run.messages.filter((m) => m.type === 'STATE').at(-1)?.value;

/** id|state|score of every attempt of an exam the user may see. */
function held(sim: TestpressSimulator): string[] {
  return sim.world.attempts
    .filter((a) => sim.world.exams.find((e) => e.id === a.examId)!.availableToUser)
    .map((a) => {
      const exam = sim.world.exams.find((e) => e.id === a.examId)!;
      const score = a.correct_count * exam.markPerQuestionHundredths - a.incorrect_count * exam.negativeMarksHundredths;
      return `${a.id}|${a.state}|${Number(formatDecimal(score))}`;
    })
    .sort();
}
const landed = (rows: Record<string, unknown>[]) => rows.map((r) => `${r.id}|${r.state}|${Number(r.score)}`).sort();

async function twoRuns(sim: TestpressSimulator, load: (stdout: string) => Promise<void>): Promise<void> {
  const first = await runTap(['--config', jsonFile(sim.config)]);
  await load(first.stdout);
  sim.advance(4);
  const second = await runTap(['--config', jsonFile(sim.config), '--state', jsonFile(lastState(first))]);
  await load(second.stdout);
}

describe('landing', () => {
  it('lands exactly the simulator’s attempts in DuckDB across a full and an incremental run', async () => {
    const sim = await startTestpressSimulator({ seed: 4, exams: 8, attemptsPerExam: 12 });
    running.push(sim);
    const path = duckdbPath();
    await twoRuns(sim, async (stdout) => {
      expect((await runTarget('target-duckdb', { path }, stdout)).code).toBe(0);
    });
    expect(landed(await queryDuckDB(path, 'SELECT * FROM main.attempts'))).toEqual(held(sim));
    expect(await queryDuckDB(path, 'SELECT count(*)::INTEGER AS n FROM main.exams')).toEqual([{ n: sim.world.exams.length }]);
  });

  it('lands the same in PostgreSQL', async () => {
    const sim = await startTestpressSimulator({ seed: 4, exams: 8, attemptsPerExam: 12 });
    running.push(sim);
    const schema = await pgSchema();
    try {
      await twoRuns(sim, async (stdout) => {
        const loaded = await runTarget('target-postgres', { connection_string: PG_URL, default_target_schema: schema.name }, stdout);
        expect(loaded.stderr).not.toContain('CRITICAL');
        expect(loaded.code).toBe(0);
      });
      expect(landed(await schema.query(`SELECT * FROM "${schema.name}".attempts`))).toEqual(held(sim));
    } finally {
      await schema.drop();
    }
  });
});
