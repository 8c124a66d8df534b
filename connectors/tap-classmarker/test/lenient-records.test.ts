// Records are read leniently: a null name, a blank e-mail, a result without `status` and `passed`
// spelled "1" all land instead of stopping the run.
import { jsonFile, perTest, recordsOf, runTap } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { startClassMarkerSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

const startSimulator = perTest(afterEach, startClassMarkerSimulator, (sim) => sim.close());

describe('odd records', () => {
  it('a null first name, a blank e-mail, no status and passed as "1" land; nothing is set aside, exit 0', async () => {
    const sim = await startSimulator({ seed: 'lenient', linkResults: 12, groupResults: 4, rateLimitPerHour: 1000 });
    const odd = sim.data.linkResults[3]!.result as unknown as Record<string, unknown>;
    Object.assign(odd, { first: null, email: '', passed: '1' });
    delete odd.status;
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(0);
    const landed = recordsOf(run, 'link_results').find((r) => r.link_result_id === odd.link_result_id);
    expect(landed).toMatchObject({ first: null, email: null, passed: true });
    expect(landed).not.toHaveProperty('status');
    expect(recordsOf(run, 'link_results')).toHaveLength(12);
    expect(recordsOf(run, '_sdc_rejected_records')).toEqual([]);
  });
});
