// The OnlineExamMaker simulator, over real HTTP: it must behave as docs/providers/onlineexammaker.md describes.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type OemSimulator, type OemSimulatorOptions, startOemSimulator } from '../simulator/index.js';

const ANCHOR = Date.UTC(2025, 5, 1, 12, 0, 0);
let clock = ANCHOR;
const running: OemSimulator[] = [];

async function start(options: OemSimulatorOptions = {}): Promise<OemSimulator> {
  clock = ANCHOR;
  const sim = await startOemSimulator({ seed: 42, now: () => clock, anchor: ANCHOR, ...options });
  running.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

async function legacy(sim: OemSimulator, params: Record<string, string | number>) {
  const query = new URLSearchParams({ option: 'com_exams', format: 'raw', code: sim.config.code });
  for (const [key, value] of Object.entries(params)) query.set(key, String(value));
  const response = await fetch(`${sim.baseUrl}/index.php?${query}`);
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, body: safeJson(text) };
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function v1(sim: OemSimulator, params: Record<string, string | number>, sign = true) {
  const time = String(Math.floor(clock / 1000));
  const query = new URLSearchParams({ code: sim.config.code, time });
  for (const [key, value] of Object.entries(params)) query.set(key, String(value));
  const signed = createHash('md5')
    .update(query.get('time')! + sim.config.code)
    .digest('hex');
  const response = await fetch(`${sim.baseUrl}/api/v1/student/queryresults?${query}`, {
    headers: sign ? { authorization: signed } : {},
  });
  const text = await response.text();
  return { status: response.status, text, body: safeJson(text) };
}

/** Pages with start/limit until a short page, as a client must (no total is given). */
async function readAll(sim: OemSimulator, params: Record<string, string | number>, limit: number) {
  const items: any[] = [];
  for (let start = 0; ; start += limit) {
    const page = await legacy(sim, { ...params, start, limit });
    expect(Array.isArray(page.body)).toBe(true);
    items.push(...page.body);
    if (page.body.length < limit) return items;
  }
}

describe('legacy api.getExams', () => {
  it('answers a bare JSON array of exams with the documented fields', async () => {
    const sim = await start();
    const { status, body } = await legacy(sim, { task: 'api.getExams' });
    expect(status).toBe(200);
    expect(body).toHaveLength(8);
    expect(body[0]).toEqual({
      eid: expect.any(Number),
      title: expect.any(String),
      img: expect.stringMatching(/^https:\/\//),
      url: expect.stringMatching(/^https:\/\//),
      createTime: expect.any(Number),
      available: expect.any(Number),
      times: expect.any(Number),
      category: expect.any(String),
    });
  });

  it('pages with start/limit (default 30, capped at the maximum) and ends on a short or empty page', async () => {
    const sim = await start({ exams: 45, maxLimit: 20 });
    expect((await legacy(sim, { task: 'api.getExams' })).body).toHaveLength(20);
    const all = await readAll(sim, { task: 'api.getExams' }, 10);
    expect(all.map((exam) => exam.eid)).toEqual(sim.world.exams.map((exam) => exam.eid));
    expect((await legacy(sim, { task: 'api.getExams', start: 45, limit: 10 })).body).toEqual([]);
    const defaults = await start({ exams: 45 });
    expect((await legacy(defaults, { task: 'api.getExams' })).body).toHaveLength(30);
  });
});

describe('legacy api.queryResults', () => {
  it('answers every result of an exam across pages, with unix seconds, a float score and status 0–4', async () => {
    const sim = await start();
    const exam = sim.world.exams[0]!;
    const expected = sim.world.results.filter((result) => result.eid === exam.eid);
    const all = await readAll(sim, { task: 'api.queryResults', eid: exam.eid }, 7);
    expect(all).toHaveLength(expected.length);
    expect(all.map((r) => `${r.sid}@${r.startTime}`)).toEqual(expected.map((r) => `${r.sid}@${r.startTime}`));
    // Section (2), every candidate: sid and name, no status.
    for (const result of all) {
      expect(Object.keys(result).sort()).toEqual(['endTime', 'name', 'score', 'sid', 'startTime', 'viewResult']);
      expect(Number.isInteger(result.startTime)).toBe(true);
    }
    expect(all.some((result) => result.endTime === 0)).toBe(true);
  });

  it('filters one candidate with sid, in section (1)’s shape (status, no sid or name), and treats sid=0 as everyone', async () => {
    const sim = await start();
    const exam = sim.world.exams[0]!;
    const sid = sim.world.results.find((result) => result.eid === exam.eid)!.sid;
    const theirs = sim.world.results.filter((result) => result.eid === exam.eid && result.sid === sid);
    const one = await legacy(sim, { task: 'api.queryResults', eid: exam.eid, sid, limit: 100 });
    expect(one.body.map((result: any) => `${result.startTime}/${result.status}`)).toEqual(theirs.map((r) => `${r.startTime}/${r.status}`));
    for (const result of one.body) expect(Object.keys(result).sort()).toEqual(['endTime', 'score', 'startTime', 'status', 'viewResult']);
    expect([0, 1, 2, 3, 4]).toEqual(expect.arrayContaining(one.body.map((result: any) => result.status)));
    const everyone = await legacy(sim, { task: 'api.queryResults', eid: exam.eid, sid: 0, limit: 100 });
    expect(everyone.body.length).toBeGreaterThan(one.body.length);
    expect(everyone.body.every((result: any) => 'sid' in result && !('status' in result))).toBe(true);
  });

  it('answers an exam with no results with an empty array', async () => {
    const sim = await start();
    const empty = sim.world.exams.at(-1)!;
    expect((await legacy(sim, { task: 'api.queryResults', eid: empty.eid })).body).toEqual([]);
  });

  it('hands out viewResult links that stop working after 30 minutes', async () => {
    const sim = await start();
    const [result] = (await legacy(sim, { task: 'api.queryResults', eid: sim.world.exams[0]!.eid, limit: 1 })).body;
    expect(result.viewResult).toMatch(new RegExp(`^${sim.baseUrl}/viewresult/`));
    expect((await fetch(result.viewResult)).status).toBe(200);
    clock += 30 * 60_000 + 1000;
    expect((await fetch(result.viewResult)).status).toBe(403);
  });
});

describe('legacy errors', () => {
  it('answers HTTP 200 with {"status":"error","error":...} for every bad request', async () => {
    const sim = await start();
    const eid = sim.world.exams[0]!.eid;
    const cases: Array<[Record<string, string | number>, string]> = [
      [{ task: 'api.getExams', code: 'wrong' }, 'Invalid verification code'],
      [{ task: 'api.getExams', code: '' }, 'Missing parameter: code'],
      [{ task: 'api.queryResults' }, 'Missing parameter: eid'],
      [{ task: 'api.queryResults', eid: 1 }, 'The exam does not exist'],
      [{ task: 'api.nothing', eid }, 'Unknown task: api.nothing'],
    ];
    for (const [params, error] of cases) {
      const answer = await legacy(sim, params);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ status: 'error', error });
    }
  });

  it('answers HTML outside format=raw or com_exams', async () => {
    const sim = await start();
    const page = await legacy(sim, { task: 'api.getExams', format: 'html' });
    expect(page.type).toContain('text/html');
    expect(page.body).toBeUndefined();
    expect((await legacy(sim, { task: 'api.getExams', option: 'com_content' })).status).toBe(404);
  });
});

describe('v1 API', () => {
  it('answers {"status":"ok","data":[...]} with every value a string and & escaped as \\u0026', async () => {
    const sim = await start();
    const exam = sim.world.exams[0]!;
    const answer = await v1(sim, { eid: exam.eid, limit: 5 });
    expect(answer.body.status).toBe('ok');
    expect(answer.body.data).toHaveLength(5);
    for (const result of answer.body.data) {
      expect(Object.values(result).every((value) => typeof value === 'string')).toBe(true);
      expect(result.eid).toBe(String(exam.eid));
    }
    expect(answer.text).toContain('\\u0026');
    expect(answer.text).not.toContain('&');
  });

  it('refuses a bad signature, a stale time and a non-premium account', async () => {
    const sim = await start();
    const eid = sim.world.exams[0]!.eid;
    expect((await v1(sim, { eid }, false)).body).toEqual({ status: 'error', error: 'Authorization failed' });
    expect((await v1(sim, { eid, time: Math.floor(clock / 1000) - 600 })).body.error).toMatch(/time/);
    const basic = await start({ v1Enabled: false });
    expect((await v1(basic, { eid })).body.error).toMatch(/premium/);
  });

  it('caps limit at 100 and selects one candidate by loginValues', async () => {
    const sim = await start({ resultsPerExam: 120 });
    const exam = sim.world.exams.find((e) => sim.world.results.filter((r) => r.eid === e.eid).length > 100)!;
    expect((await v1(sim, { eid: exam.eid, limit: 500 })).body.data).toHaveLength(100);
    const login = sim.world.results.find((r) => r.eid === exam.eid)!.loginValue;
    const one = await v1(sim, { eid: exam.eid, loginValues: login, limit: 100 });
    expect(one.body.data.every((r: any) => r.loginValue === login)).toBe(true);
  });
});

describe('between runs', () => {
  it('finishes results in progress and adds new ones', async () => {
    const sim = await start();
    const inProgress = sim.world.results.filter((result) => result.status === 0);
    expect(inProgress.length).toBeGreaterThan(0);
    clock += 3_600_000;
    const changed = sim.advance(3);
    expect(changed.length).toBe(inProgress.length + 3);
    expect(inProgress.every((result) => result.status !== 0 && result.endTime > result.startTime)).toBe(true);
  });
});

describe('determinism', () => {
  it('serves the same data for the same seed and different data for another', async () => {
    const snapshot = async (seed: number) => {
      const sim = await start({ seed });
      const exams = (await legacy(sim, { task: 'api.getExams' })).body;
      const results = await readAll(sim, { task: 'api.queryResults', eid: exams[0].eid }, 100);
      return JSON.stringify({ exams, results }).replaceAll(sim.baseUrl, 'BASE');
    };
    const first = await snapshot(5);
    expect(await snapshot(5)).toBe(first);
    expect(await snapshot(6)).not.toBe(first);
  });
});
