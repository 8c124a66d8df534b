// Records are read leniently: a score CBTHost sends as null lands as NULL instead of stopping the run.
import { jsonFile, perTest, recordsOf, runTap } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { startCbthostSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

const startSimulator = perTest(afterEach, startCbthostSimulator, (sim) => sim.close());

describe('odd records', () => {
  it('a null score lands as null; every other result of its exam lands, nothing is set aside, exit 0', async () => {
    const sim = await startSimulator({ seed: 11, tests: 5, studentsPerTest: 15 });
    const exam = sim.world.tests.find((test) => sim.config.pass_codes.includes(test.passCode))!;
    const blank = sim.world.results.find((result) => result.testId === exam.testId)!;
    (blank as unknown as { score: number | null }).score = null;
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(0);
    const results = recordsOf(run, 'results');
    expect(results.find((r) => r.cbt_pass_code === blank.passCode && r.cbt_test_id === blank.testId)).toMatchObject({
      cbt_total_score: null,
    });
    expect(results.filter((r) => r.cbt_test_id === exam.testId)).toHaveLength(
      sim.world.results.filter((r) => r.testId === exam.testId).length,
    );
    expect(recordsOf(run, '_sdc_rejected_records')).toEqual([]);
  });
});
