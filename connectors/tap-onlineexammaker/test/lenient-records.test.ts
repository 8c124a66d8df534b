// Records are read leniently: `passed` sent as a boolean ("true"/"false") stays a 1/0 column.
import { jsonFile, perTest, recordsOf, runTap } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { startOemSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

const startSimulator = perTest(afterEach, startOemSimulator, (sim) => sim.close());

describe('odd records', () => {
  it('passed sent as true/false lands as 1/0; nothing is set aside, exit 0', async () => {
    const sim = await startSimulator({ seed: 'lenient', exams: 2, resultsPerExam: 6 });
    // Real deployments send booleans where the document shows 1/0; the v1 API writes them as "true"/"false".
    for (const result of sim.world.results) (result as unknown as { passed: boolean }).passed = result.passed === 1;
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, api: 'v1' })]);
    expect(run.code, run.stderr).toBe(0);
    const passed = new Map(recordsOf(run, 'results').map((r) => [`${r.eid}/${r.sid}`, r.passed]));
    expect(passed.size).toBe(sim.world.results.length);
    for (const result of sim.world.results) expect(passed.get(`${result.eid}/${result.sid}`)).toBe((result.passed as unknown) === true ? 1 : 0);
    expect(recordsOf(run, '_sdc_rejected_records')).toEqual([]);
  });
});
