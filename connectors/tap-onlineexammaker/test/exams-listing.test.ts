// The exams listing and ACTIVATE_VERSION: exams deleted while the listing is read must never make the
// target delete a live exam that the shifted start/limit pages skipped.

import { jsonFile, recordsOf, runTap, type TapRun } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { type OemSimulator, startOemSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

const running: OemSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

// Three exams a page (the server caps `limit`), few results: the listing spans pages cheaply.
async function start(): Promise<OemSimulator> {
  const sim = await startOemSimulator({ seed: 9, exams: 7, resultsPerExam: 2, maxLimit: 3 });
  running.push(sim);
  return sim;
}
const activations = (run: TapRun) => run.messages.filter((m) => m.type === 'ACTIVATE_VERSION');
const examIds = (run: TapRun) => recordsOf(run, 'exams').map((e) => e.eid as number);

describe('exams: ACTIVATE_VERSION only after a whole listing', () => {
  it('is sent after a listing whose pages each began where the one before ended', async () => {
    const sim = await start();
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(0);
    expect(examIds(run)).toEqual(sim.world.exams.map((e) => e.eid));
    expect(activations(run)).toEqual([{ type: 'ACTIVATE_VERSION', stream: 'exams', version: expect.any(Number) }]);
  });

  it('is not sent when exams deleted mid-run shift the pages, and a warning says why; the next run sends it', async () => {
    const sim = await start();
    const [first, second] = sim.world.exams;
    const slid = sim.world.exams[3]!; // first on page 2 until two exams before it go
    // The first exam's results are asked for once its page is read: both exams before the edge are deleted then.
    sim.faults.inject({ kind: 'act', route: 'index_php', after: 1, action: 'delete-exam', args: { eid: second!.eid } });
    sim.faults.inject({ kind: 'act', route: 'index_php', after: 1, action: 'delete-exam', args: { eid: first!.eid } });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(6);
    expect(sim.faults.pending()).toEqual([]);
    expect(examIds(run)).not.toContain(slid.eid);
    expect(activations(run)).toEqual([]);
    expect(run.stderr).toMatch(/WARN stream exams: the record at a page edge had moved .*; ACTIVATE_VERSION is not sent this run/);

    const next = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(examIds(next)).toEqual(sim.world.exams.map((e) => e.eid));
    expect(activations(next)).toHaveLength(1);
  });
});
