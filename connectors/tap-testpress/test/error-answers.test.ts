// Testpress's error answers over real HTTP (the simulator's error-answer modes): an answer is a page
// only as DRF's {"count", "next", "results": [...]} (a token only as {"token"}); DRF's {"detail": ...}
// and every other shape served with HTTP 200 stops, retries or skips as the README says, never reads
// as an empty page, never sends ACTIVATE_VERSION, never moves a bookmark past unread data.

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
import { startTestpressSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

/** The per-exam attempts source, which these tests' `exam_attempts` route serves. */
const examSource = (sim: { config: Record<string, unknown> }) => ({ ...sim.config, attempts_source: 'exam' });

const startSimulator = perTest(afterEach, startTestpressSimulator, (sim) => sim.close());
const duckdb = perTest(afterEach, duckdbWarehouse, (warehouse) => warehouse.drop());
const postgres = perTest(afterEach, postgresWarehouse, (warehouse) => warehouse.drop());
const start = () => startSimulator({ seed: 5, exams: 12, attemptsPerExam: 6, perPage: 10 });

const activates = (run: TapRun) => run.messages.some((m) => m.type === 'ACTIVATE_VERSION');
const bookmarked = (run: TapRun) => ((lastState(run) as any)?.bookmarks?.attempts?.partitions ?? []).map((p: any) => p.context.exam_id);

describe('error answers to the exams list', () => {
  it.each([
    [
      'permission-denied-200',
      3,
      'Testpress answered HTTP 200 with an error: "You do not have permission to perform this action.", not a DRF page',
    ],
    ['not-found-200', 3, 'Testpress answered HTTP 200 with an error: "Not found.", not a DRF page'],
    ['html', 3, 'answered HTTP 200 with an HTML page titled "Testpress - Error", not the Testpress JSON API'],
  ])('%s on the first page stops with exit %i and one sentence; no exam row, no ACTIVATE_VERSION', async (shape, code, sentence) => {
    const sim = await start();
    sim.errorAnswer({ shape, route: 'exams' });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(code);
    expect(run.stderr).toContain('CRITICAL GET /api/v2.1/exams/ failed');
    expect(run.stderr).toContain(sentence);
    expect(recordsOf(run, 'exams')).toEqual([]);
    expect(activates(run)).toBe(false);
  });

  it('permission-denied-200 on the second page stops the run after the first page’s exams, without ACTIVATE_VERSION', async () => {
    const sim = await start();
    sim.errorAnswer({ shape: 'permission-denied-200', route: 'exams', after: 1 });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(3);
    expect(recordsOf(run, 'exams')).toHaveLength(10);
    expect(activates(run)).toBe(false);
  });

  it('null once is retried, then every exam lands with ACTIVATE_VERSION', async () => {
    const sim = await start();
    sim.errorAnswer({ shape: 'null', route: 'exams', times: 1 });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(0);
    expect(recordsOf(run, 'exams')).toHaveLength(12);
    expect(activates(run)).toBe(true);
  });
});

// The per-exam attempts list (attempts_source: exam); the admin list is checked by the same classifier.
describe('error answers to an exam’s attempts', () => {
  it('not-found-200 (DRF’s "Not found." with HTTP 200): the exam is skipped as deleted, gets no bookmark, and the rest is read', async () => {
    const sim = await start();
    sim.errorAnswer({ shape: 'not-found-200', route: 'exam_attempts', times: 1 });
    const first = sim.world.exams[0]!;
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`exam ${first.id} no longer exists (HTTP 200: Not found.)`);
    expect(recordsOf(run, 'attempts').some((a) => a.exam_id === first.id)).toBe(false);
    expect(bookmarked(run)).not.toContain(first.id);
    expect(bookmarked(run).length).toBeGreaterThan(0);
  });

  it.each(['permission-denied-200', 'field-errors-200'])(
    '%s stops the run; that exam is not read as empty and gets no bookmark',
    async (shape) => {
      const sim = await start();
      sim.errorAnswer({ shape, route: 'exam_attempts' });
      const first = sim.world.exams[0]!;
      const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
      expect(run.code, run.stderr).toBe(3);
      expect(run.stderr).toContain('Testpress answered HTTP 200 with an error');
      expect(bookmarked(run)).not.toContain(first.id);
      expect(activates(run)).toBe(false);
    },
  );
});

describe('error answers to the token request', () => {
  it('field-errors-200 (drf-jwt’s login failure with HTTP 200) stops with exit 3 in the vendor’s words, never sending an empty token', async () => {
    const sim = await start();
    sim.errorAnswer({ shape: 'field-errors-200', route: 'auth_token' });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('"Unable to log in with provided credentials.", not an object holding the token');
    expect(sim.requests.all().filter((r) => r.route !== 'auth_token')).toEqual([]);
  });
});

describe.each([
  ['PostgreSQL', postgres],
  ['DuckDB', duckdb],
] as const)('landed in %s', (_name, warehouse) => {
  it('an error answer to the exams list on the second run keeps every exam row (hard_delete on)', async () => {
    const sim = await start();
    const w: Warehouse = await warehouse();
    const exams = async () => (await w.query(`SELECT id FROM "${w.schema}".exams`)).map((r) => Number(r.id)).sort((a, b) => a - b);
    const first = await landSync(tap, w, { config: sim.config, targetConfig: { hard_delete: true } });
    expect(first.target.code, first.target.stderr).toBe(0);
    const before = await exams();
    expect(before).toHaveLength(12);

    sim.errorAnswer({ shape: 'permission-denied-200', route: 'exams', after: 1 });
    const second = await landSync(tap, w, { config: sim.config, state: first.target.states.at(-1), targetConfig: { hard_delete: true } });
    expect(second.tap.code).toBe(3);
    expect(second.target.code, second.target.stderr).toBe(0);
    expect(await exams()).toEqual(before);
  });
});
