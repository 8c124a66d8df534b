// OnlineExamMaker's error answers over real HTTP (the simulator's error-answer modes): a legacy answer
// is a page only as a JSON array (v1: {"data": [...]}); every other shape stops, retries or skips an
// exam as the README says, never reads as an empty page, never sends ACTIVATE_VERSION, never moves a
// bookmark past unread data.

import {
  duckdbWarehouse,
  jsonFile,
  landSync,
  lastState,
  perTest,
  postgresWarehouse,
  recordsOf,
  runTap,
  type TapRun,
  type Warehouse,
} from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { startOemSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

const startSimulator = perTest(afterEach, startOemSimulator, (sim) => sim.close());
const duckdb = perTest(afterEach, duckdbWarehouse, (warehouse) => warehouse.drop());
const postgres = perTest(afterEach, postgresWarehouse, (warehouse) => warehouse.drop());
const start = () => startSimulator({ seed: 9, exams: 4, resultsPerExam: 20 });

const activates = (run: TapRun) => run.messages.some((m) => m.type === 'ACTIVATE_VERSION');
/** The eids that have a results bookmark in the run's last state. */
const bookmarked = (run: TapRun) => ((lastState(run) as any)?.bookmarks?.results?.partitions ?? []).map((p: any) => p.context.eid);

describe('error answers to the exam list (legacy api.getExams)', () => {
  it.each([
    ['account-error-200', 3, 'OnlineExamMaker refused the request: Invalid verification code. Check code in your config'],
    ['msg-error-200', 3, 'OnlineExamMaker refused the request: Invalid verification code.'],
    ['false-200', 1, 'OnlineExamMaker answered HTTP 200 with the boolean false, not a JSON array (the legacy API’s answer)'],
    ['html', 3, 'answered HTTP 200 with an HTML page titled "OnlineExamMaker - Error", not the OnlineExamMaker JSON API'],
  ])('%s stops with exit %i and one sentence; no exam row, no ACTIVATE_VERSION', async (shape, code, sentence) => {
    const sim = await start();
    sim.errorAnswer({ shape, route: 'index_php' });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(code);
    expect(run.stderr).toContain('CRITICAL GET /index.php failed');
    expect(run.stderr).toContain(sentence);
    expect(recordsOf(run, 'exams')).toEqual([]);
    expect(activates(run)).toBe(false);
  });

  it.each(['server-error-200', 'null'])('%s once is retried, then every exam lands with ACTIVATE_VERSION', async (shape) => {
    const sim = await start();
    sim.errorAnswer({ shape, route: 'index_php', times: 1 });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(0);
    expect(sim.faults.pending()).toEqual([]);
    expect(recordsOf(run, 'exams')).toHaveLength(sim.world.exams.length);
    expect(activates(run)).toBe(true);
  });
});

describe('error answers to one exam’s results', () => {
  it('exam-not-found-200: that exam is skipped with a warning and gets no bookmark; the others are read', async () => {
    const sim = await start();
    sim.errorAnswer({ shape: 'exam-not-found-200', route: 'index_php', after: 1, times: 1 });
    const skipped = sim.world.exams[0]!.eid;
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`OnlineExamMaker skipped exam ${skipped}: The exam does not exist`);
    expect(recordsOf(run, 'results').some((r) => r.eid === skipped)).toBe(false);
    expect(bookmarked(run)).not.toContain(skipped);
    expect(bookmarked(run).length).toBeGreaterThan(0);
  });

  it.each(['msg-error-200', 'false-200', 'html'])(
    '%s on the page after an exam’s first: the run stops and that exam’s bookmark does not move',
    async (shape) => {
      const sim = await start();
      // Request 1 lists exams, 2 reads the first exam's first page, 3 its next (empty) page.
      sim.errorAnswer({ shape, route: 'index_php', after: 2 });
      const first = sim.world.exams[0]!.eid;
      const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
      expect(run.code).not.toBe(0);
      expect(recordsOf(run, 'results').filter((r) => r.eid === first).length).toBeGreaterThan(0);
      expect(bookmarked(run)).not.toContain(first);
      expect(activates(run)).toBe(false);
    },
  );

  it('reads the v1 API’s {"status": "error"} answer as an error, not as an empty {"data"} page', async () => {
    const sim = await start();
    sim.errorAnswer({ shape: 'account-error-200', route: 'v1_queryresults' });
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, api: 'v1' })]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('Invalid verification code');
    expect(recordsOf(run, 'results')).toEqual([]);
  });
});

describe.each([
  ['PostgreSQL', postgres],
  ['DuckDB', duckdb],
] as const)('landed in %s', (_name, warehouse) => {
  it('an error answer to the exam list on the second run keeps every exam row (hard_delete on)', async () => {
    const sim = await start();
    const w: Warehouse = await warehouse();
    const exams = async () => (await w.query(`SELECT eid FROM "${w.schema}".exams`)).map((r) => Number(r.eid)).sort();
    const first = await landSync(tap, w, { config: sim.config, targetConfig: { hard_delete: true } });
    expect(first.target.code, first.target.stderr).toBe(0);
    const before = await exams();
    expect(before).toHaveLength(sim.world.exams.length);

    sim.errorAnswer({ shape: 'msg-error-200', route: 'index_php' });
    const second = await landSync(tap, w, { config: sim.config, state: first.target.states.at(-1), targetConfig: { hard_delete: true } });
    expect(second.tap.code).toBe(3);
    expect(second.target.code, second.target.stderr).toBe(0);
    expect(await exams()).toEqual(before);
  });
});
