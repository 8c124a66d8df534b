// Every variant of Testpress's answers the simulator serves (docs/providers/testpress.md, "Variants"),
// read by the tap over real HTTP: whose attempts an exam's list holds, resumed attempts, the current fields.

import { jsonFile, recordsOf, runTap } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { formatDate, startTestpressSimulator, type TestpressSimulator, type TestpressSimulatorOptions } from '../simulator/index.js';
import { tap } from '../src/index.js';

const DAY_MICROS = 86_400_000_000;
const running: TestpressSimulator[] = [];
async function start(options: TestpressSimulatorOptions = {}): Promise<TestpressSimulator> {
  const sim = await startTestpressSimulator({ seed: 'variants', exams: 8, attemptsPerExam: 12, ...options });
  running.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});
const sync = (sim: TestpressSimulator, config: Record<string, unknown> = {}) =>
  runTap(tap, ['--config', jsonFile({ ...sim.config, ...config })]);
const ids = (records: Array<Record<string, any>>) => [...new Set(records.map((r) => r.id as number))].sort((a, b) => a - b);

describe('whose attempts are read', () => {
  it('by default lists every student’s attempts of every exam through the admin API, even where exam lists hold the caller’s own only', async () => {
    const sim = await start({ examAttemptsScope: 'caller' });
    const run = await sync(sim);
    expect(run.code, run.stderr).toBe(0);
    expect(ids(recordsOf(run, 'attempts'))).toEqual(sim.world.attempts.map((a) => a.id).sort((a, b) => a - b));
    expect(sim.requests.count('exam_attempts')).toBe(0);
    expect(sim.requests.count('admin_attempts')).toBe(sim.world.exams.length);
  });

  it('says clearly, with the exam source, that each list is documented as the logged-in account’s own attempts (no silent 0)', async () => {
    const sim = await start({ examAttemptsScope: 'caller' });
    const run = await sync(sim, { attempts_source: 'exam' });
    expect(run.code, run.stderr).toBe(0);
    expect(recordsOf(run, 'attempts')).toHaveLength(0); // the staff account took no exam
    expect(run.stderr).toMatch(
      /WARN stream attempts: attempts_source is "exam": each exam's attempts list is documented as the attempts of the logged-in account \(admin\) only.*set attempts_source to "admin"/,
    );
    expect(run.stderr.match(/attempts_source is "exam"/g)).toHaveLength(1); // once a run, not once an exam
  });

  it('notes when an exam list does hold other students’ attempts (this deployment lists everyone’s)', async () => {
    const sim = await start({ examAttemptsScope: 'everyone' });
    const run = await sync(sim, { attempts_source: 'exam' });
    expect(run.code, run.stderr).toBe(0);
    expect(recordsOf(run, 'attempts').length).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/INFO stream attempts: the exam's attempts list holds other students' attempts too/);
  });

  it('reads a student account’s own attempts with the exam source', async () => {
    const sim = await start({ examAttemptsScope: 'caller' });
    const { username, password, user } = sim.accounts.student;
    const run = await sync(sim, { username, password, attempts_source: 'exam' });
    expect(run.code, run.stderr).toBe(0);
    const open = new Set(sim.world.exams.filter((e) => e.availableToUser).map((e) => e.id));
    const own = sim.world.attempts.filter((a) => a.userId === user.id && open.has(a.examId)).map((a) => a.id);
    expect(ids(recordsOf(run, 'attempts'))).toEqual(own.sort((a, b) => a - b));
  });

  it('stops a student account on the default source with exit 3, saying a staff account is needed', async () => {
    const sim = await start();
    const { username, password } = sim.accounts.student;
    const run = await sync(sim, { username, password });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/the admin attempts API needs a staff account .*set attempts_source to "exam"/);
  });
});

describe('attempts resumed days later', () => {
  for (const source of ['admin', 'exam'] as const) {
    it(`land with last_started_time at the resume${source === 'admin' ? ' and last_answer_updated_time at the end' : ''} (${source} source)`, async () => {
      const sim = await start({ resumedShare: 0.5 });
      const resumed = sim.world.attempts.filter((a) => a.lastStartedMicros - a.startMicros >= DAY_MICROS);
      expect(resumed.length).toBeGreaterThan(5);
      const run = await sync(sim, { attempts_source: source });
      expect(run.code, run.stderr).toBe(0);
      const landed = new Map(recordsOf(run, 'attempts').map((r) => [r.id, r]));
      for (const attempt of resumed) {
        const record = landed.get(attempt.id);
        if (!record) continue; // a forbidden exam's, on the exam source
        expect(Date.parse(record.last_started_time)).toBe(Math.floor(attempt.lastStartedMicros / 1000));
        expect(Date.parse(record.last_started_time) - Date.parse(record.date)).toBeGreaterThanOrEqual(86_400_000);
        if (source === 'admin')
          expect(record.last_answer_updated_time).toBe(formatDate(attempt.endMicros!, 'utc-micros').replace(/\.?0+Z$/, 'Z'));
      }
    });
  }
});

describe('the fields the current API adds', () => {
  it('are declared and kept (exams: total_marks, pass_percentage…; attempts: remaining_attempts, review_pdf_url…)', async () => {
    const sim = await start();
    const run = await sync(sim, { attempts_source: 'exam' });
    expect(run.code, run.stderr).toBe(0);
    const exam = recordsOf(run, 'exams')[0]!;
    expect(exam).toHaveProperty('total_marks', expect.stringMatching(/^\d+(\.\d+)?$/));
    expect(exam).toHaveProperty('show_score', true);
    const attempt = recordsOf(run, 'attempts')[0]!;
    expect(attempt).toMatchObject({
      review_pdf_url: expect.stringMatching(/^http/),
      total_bonus: '0.00',
      accuracy: expect.any(String),
      speed: expect.any(String),
    });
    expect(attempt).toHaveProperty('remaining_attempts');
    const schema = run.messages.find((m: any) => m.type === 'SCHEMA' && m.stream === 'attempts') as any;
    for (const field of ['last_answer_updated_time', 'phone', 'speed', 'accuracy', 'remaining_attempts'])
      expect(schema.schema.properties).toHaveProperty(field);
  });

  it('are not needed: the 2015 v2.1 fields alone land too', async () => {
    const sim = await start({ v21FieldsOnly: true });
    const run = await sync(sim, { attempts_source: 'exam' });
    expect(run.code, run.stderr).toBe(0);
    expect(recordsOf(run, 'exams')[0]).not.toHaveProperty('total_marks');
    expect(recordsOf(run, 'attempts').length).toBeGreaterThan(0);
  });
});

describe('attempt state in every spelling', () => {
  for (const spelling of ['number', 'string'] as const) {
    it(`lands the admin codes sent as ${spelling === 'number' ? 'numbers (0, 1)' : 'strings ("0", "1")'} as the same words, with the code kept, on both sources`, async () => {
      const sim = await start({ stateSpelling: spelling });
      const running = sim.world.attempts.filter((a) => a.state === 'Running');
      expect(running.length).toBeGreaterThan(0);
      for (const source of ['admin', 'exam'] as const) {
        const run = await sync(sim, { attempts_source: source });
        expect(run.code, run.stderr).toBe(0);
        const landed = recordsOf(run, 'attempts');
        expect(landed.length).toBeGreaterThan(0);
        for (const record of landed) {
          const attempt = sim.world.attempts.find((a) => a.id === record.id)!;
          expect({ state: record.state, state_code: record.state_code }).toEqual({
            state: attempt.state,
            state_code: attempt.state === 'Running' ? 0 : 1,
          });
        }
      }
    });
  }

  it('holds the exam bookmark at an attempt still running when its state is the code 0, as for "Running"', async () => {
    const words = await start();
    const codes = await start({ stateSpelling: 'number' });
    const fromWords = await sync(words);
    const fromCodes = await sync(codes);
    expect(fromCodes.code, fromCodes.stderr).toBe(0);
    const bookmarks = (run: typeof fromWords) =>
      (run.messages.filter((m: any) => m.type === 'STATE').at(-1) as any).value.bookmarks.attempts;
    expect(bookmarks(fromCodes)).toEqual(bookmarks(fromWords));
  });

  it('lands "Not Started" (code 3), any case of the words, and an unknown code as its digits', async () => {
    const sim = await start();
    const exam = sim.world.exams.find((e) => sim.world.attempts.some((a) => a.examId === e.id))!;
    const first = await sync(sim);
    const template = recordsOf(first, 'attempts').find((r) => r.exam_id === exam.id)!;
    const page = (states: unknown[]) => ({
      count: states.length,
      next: null,
      previous: null,
      per_page: 200,
      results: states.map((state, i) => ({
        ...template,
        _sdc_extra: undefined,
        state_code: undefined,
        id: 900_000 + i,
        exam_id: exam.id,
        state,
      })),
    });
    sim.faults.inject({ kind: 'respond', route: 'admin_attempts', response: { body: page([3, 'completed', 'RUNNING', 7, '1']) } });
    const run = await sync(sim);
    expect(run.code, run.stderr).toBe(0);
    const odd = recordsOf(run, 'attempts')
      .filter((r) => r.id >= 900_000)
      .sort((a, b) => a.id - b.id);
    expect(odd.map((r) => [r.state, r.state_code])).toEqual([
      ['Not Started', 3],
      ['Completed', 1],
      ['Running', 0],
      ['7', 7],
      ['Completed', 1],
    ]);
  });
});
