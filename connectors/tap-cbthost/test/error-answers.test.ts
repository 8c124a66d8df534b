// CBTHost's error answers over real HTTP (the simulator's error-answer modes): a 200 whose body says
// error is an error. Each shape stops, retries or skips as docs/providers/cbthost.md and the README
// say, never reads as an empty page, and never lets ACTIVATE_VERSION retire rows it did not prove gone.

import {
  duckdbWarehouse,
  jsonFile,
  landSync,
  perTest,
  postgresWarehouse,
  recordsOf,
  runTap,
  type TapRun,
  type Warehouse,
} from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { type CbthostSimulator, startCbthostSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

const startSimulator = perTest(afterEach, startCbthostSimulator, (sim) => sim.close());
const duckdb = perTest(afterEach, duckdbWarehouse, (warehouse) => warehouse.drop());
const postgres = perTest(afterEach, postgresWarehouse, (warehouse) => warehouse.drop());

const start = () => startSimulator({ seed: 11, tests: 5, studentsPerTest: 8 });

/** The exam the error answer hits: the second configured pass code (the mass endpoint's second request). */
const hitExam = (sim: CbthostSimulator) => sim.world.tests.find((t) => t.passCode === sim.config.pass_codes[1])!;
const keysOf = (records: Array<Record<string, unknown>>) => records.map((r) => `${r.cbt_pass_code}|${r.cbt_test_id}`).sort();
const heldKeys = (sim: CbthostSimulator, except?: string) => {
  const mass = new Set(
    sim.world.tests.filter((t) => sim.config.pass_codes.includes(t.passCode) && t.testId !== except).map((t) => t.testId),
  );
  return sim.world.results
    .filter((r) => mass.has(r.testId) || sim.config.results.some((s) => s.pass_code === r.passCode && s.test_id === r.testId))
    .map((r) => `${r.passCode}|${r.testId}`)
    .sort();
};
const activates = (run: TapRun) => run.messages.some((m) => m.type === 'ACTIVATE_VERSION');
const summaryOf = (run: TapRun) =>
  JSON.parse(
    run.stderr
      .trim()
      .split('\n')
      .at(-1)!
      .replace(/^SUMMARY: /, ''),
  );

describe('"no results" answers, with HTTP 200 as with 404: the exam is skipped and its rows kept', () => {
  it.each(['no-results-200', 'invalid-pass-code-200'])(
    '%s: exit 6, a WARNING naming the exam, no ACTIVATE_VERSION, the summary lists it',
    async (shape) => {
      const sim = await start();
      sim.errorAnswer({ shape, route: 'mass_results', after: 1, times: 1 });
      const exam = hitExam(sim);
      const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
      expect(run.code, run.stderr).toBe(6);
      expect(keysOf(recordsOf(run, 'results'))).toEqual(heldKeys(sim, exam.testId));
      expect(activates(run)).toBe(false);
      // Pass codes are credentials: every line names them redacted (test/secrets.test.ts).
      expect(run.stderr).toContain(
        `WARN stream results (partition {"pass_code":"[REDACTED]","test_id":null}) answered "not found / no results" (CBTHost has no results for exam [REDACTED]`,
      );
      expect(summaryOf(run).streams.results.not_retired).toEqual([JSON.stringify({ pass_code: '[REDACTED]', test_id: null })]);
      expect(run.stderr).not.toContain(exam.passCode);
    },
  );
});

describe('error answers that stop the run', () => {
  it.each([
    [
      'missing-headers-200',
      3,
      'CBTHost rejected the request for exam {exam} (HTTP 200, serverstatus 400: Missing required headers: cbt_pass_code, test_id)',
    ],
    ['unauthorized-200', 3, 'CBTHost answered with an error for exam {exam} (HTTP 200: Unauthorized)'],
    ['html', 3, 'answered HTTP 200 with an HTML page titled "CBTHost - Error", not the CBTHost JSON API'],
  ])('%s: exit %i with one sentence, no ACTIVATE_VERSION, and the exam is not read as empty', async (shape, code, sentence) => {
    const sim = await start();
    sim.errorAnswer({ shape, route: 'mass_results', after: 1 });
    const exam = hitExam(sim);
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(code);
    expect(run.stderr).toContain('CRITICAL GET /api/result/[REDACTED] failed');
    expect(run.stderr).toContain(sentence.replace('{exam}', '[REDACTED]'));
    expect(run.stderr).not.toContain(exam.passCode);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(activates(run)).toBe(false);
    expect(recordsOf(run, 'results').some((r) => r.cbt_test_id === exam.testId)).toBe(false);
  });
});

describe('error answers retried as passing faults', () => {
  it.each(['server-error-200', 'null'])('%s once: retried, then every result lands and ACTIVATE_VERSION follows', async (shape) => {
    const sim = await start();
    sim.errorAnswer({ shape, route: 'mass_results', after: 1, times: 1 });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(0);
    expect(sim.faults.pending()).toEqual([]);
    expect(keysOf(recordsOf(run, 'results'))).toEqual(heldKeys(sim));
    expect(activates(run)).toBe(true);
  });
});

describe('the simulator’s error-answer control', () => {
  it('is reachable over HTTP (POST /__simulator/actions/error-answer) and names the shapes on a typo', async () => {
    const sim = await start();
    const set = await fetch(`${sim.baseUrl}/__simulator/actions/error-answer`, {
      method: 'POST',
      body: JSON.stringify({ shape: 'no-results-200', route: 'mass_results' }),
    });
    expect(set.status).toBe(200);
    const answer = await fetch(`${sim.baseUrl}/api/result/${sim.config.pass_codes[0]}`, { headers: { accept: 'application/json' } });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ status: 'error', message: 'No results found for this test ID' });
    const typo = await fetch(`${sim.baseUrl}/__simulator/actions/error-answer`, {
      method: 'POST',
      body: JSON.stringify({ shape: 'nope' }),
    });
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as { error: string }).error).toContain('the shapes are: no-results-200, invalid-pass-code-200');
  });
});

describe.each([
  ['PostgreSQL', postgres, (w: Warehouse) => `"${w.schema}".results`],
  ['DuckDB', duckdb, () => 'main.results'],
] as const)('landed in %s: rows an error answer did not prove gone stay', (_name, warehouse, table) => {
  it.each(['no-results-200', 'unauthorized-200'])('%s on the second run keeps that exam’s rows (hard_delete on)', async (shape) => {
    const sim = await start();
    const w = await warehouse();
    const first = await landSync(tap, w, { config: sim.config, targetConfig: { hard_delete: true } });
    expect(first.target.code, first.target.stderr).toBe(0);
    const loaded = keysOf(await w.query(`SELECT cbt_pass_code, cbt_test_id FROM ${table(w)}`));
    expect(loaded).toEqual(heldKeys(sim));

    sim.errorAnswer({ shape, route: 'mass_results', after: 1 });
    const second = await landSync(tap, w, { config: sim.config, state: first.target.states.at(-1), targetConfig: { hard_delete: true } });
    expect(second.tap.code).not.toBe(0);
    expect(second.target.code, second.target.stderr).toBe(0);
    expect(keysOf(await w.query(`SELECT cbt_pass_code, cbt_test_id FROM ${table(w)}`))).toEqual(loaded);
  });
});
