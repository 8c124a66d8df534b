// The CBTHost simulator, over real HTTP: it must behave as docs/providers/cbthost.md describes.
import { afterEach, describe, expect, it } from 'vitest';
import { type CbthostSimulator, type CbthostSimulatorOptions, startCbthostSimulator } from '../simulator/index.js';

const running: CbthostSimulator[] = [];

async function start(options: CbthostSimulatorOptions = {}): Promise<CbthostSimulator> {
  const sim = await startCbthostSimulator({ seed: 42, ...options });
  running.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

const JSON_ACCEPT = { accept: 'application/json' };

async function call(sim: CbthostSimulator, path: string, headers: Record<string, string> = JSON_ACCEPT) {
  const response = await fetch(`${sim.baseUrl}${path}`, { headers });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, type: response.headers.get('content-type') ?? '', body };
}

describe('mass results endpoint', () => {
  it('answers every result of an exam as {"status":"success","data":[...]}', async () => {
    const sim = await start();
    const test = sim.world.tests[0]!;
    const answer = await call(sim, `/api/result/${test.passCode}`);
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('success');
    const expected = sim.world.results.filter((result) => result.testId === test.testId);
    expect(answer.body.data).toEqual(
      expected.map((result) => ({ cbt_pass_code: result.passCode, cbt_test_id: test.testId, cbt_total_score: result.score })),
    );
  });

  it('also accepts a student’s pass code, as the document’s example does', async () => {
    const sim = await start();
    const result = sim.world.results[0]!;
    const answer = await call(sim, `/api/result/${result.passCode}`);
    expect(answer.body.data.every((item: any) => item.cbt_test_id === result.testId)).toBe(true);
  });

  it('answers an exam without results with the documented 404 status "error"', async () => {
    const sim = await start();
    const empty = sim.world.tests.at(-1)!;
    expect(await call(sim, `/api/result/${empty.passCode}`)).toEqual({
      status: 404,
      type: expect.stringContaining('application/json'),
      body: { status: 'error', message: 'No results found for this test ID' },
    });
  });

  it('answers an unknown pass code (an invalid credential, as the document says) with 401', async () => {
    const sim = await start();
    for (const code of ['cbthost-nope', `${sim.world.tests[0]!.passCode}-9999`]) {
      expect(await call(sim, `/api/result/${code}`)).toMatchObject({ status: 401, body: { status: 'error' } });
    }
  });

  it('answers 401 for an exam whose API access is off', async () => {
    const sim = await start();
    const locked = sim.world.tests.find((test) => !test.apiEnabled)!;
    expect(await call(sim, `/api/result/${locked.passCode}`)).toMatchObject({ status: 401, body: { status: 'error' } });
  });
});

describe('single result endpoint', () => {
  it('answers one result, with cbt_test_info, for the cbt-pass-code and test-id headers', async () => {
    const sim = await start();
    const result = sim.world.results[0]!;
    const test = sim.world.tests.find((t) => t.testId === result.testId)!;
    const answer = await call(sim, '/api/result', { ...JSON_ACCEPT, 'cbt-pass-code': result.passCode, 'test-id': result.testId });
    expect(answer).toEqual({
      status: 200,
      type: expect.stringContaining('application/json'),
      body: {
        status: 'success',
        data: { cbt_test_id: result.testId, cbt_test_info: test.info, cbt_pass_code: result.passCode, cbt_total_score: result.score },
      },
    });
  });

  it('answers missing headers with 400 and an unknown pair with 404, both as serverstatus + message', async () => {
    const sim = await start();
    const result = sim.world.results[0]!;
    expect(await call(sim, '/api/result', { ...JSON_ACCEPT, 'cbt-pass-code': result.passCode })).toMatchObject({
      status: 400,
      body: { serverstatus: 400, message: 'Missing required headers: cbt_pass_code, test_id' },
    });
    expect(
      await call(sim, '/api/result', { ...JSON_ACCEPT, 'cbt-pass-code': 'cbthost-zzzz-0001', 'test-id': result.testId }),
    ).toMatchObject({
      status: 404,
      body: { serverstatus: 404, message: 'cbt pass code is invalid, or no record found' },
    });
  });

  it('answers 401 for a result of an exam whose API access is off', async () => {
    const sim = await start();
    const locked = sim.world.tests.find((test) => !test.apiEnabled)!;
    const result = sim.world.results.find((r) => r.testId === locked.testId)!;
    const answer = await call(sim, '/api/result', { ...JSON_ACCEPT, 'cbt-pass-code': result.passCode, 'test-id': result.testId });
    expect(answer).toMatchObject({ status: 401, body: { serverstatus: 401 } });
  });
});

describe('Accept header', () => {
  it('answers HTML instead of JSON when Accept: application/json is missing', async () => {
    const sim = await start();
    const answer = await call(sim, `/api/result/${sim.world.tests[0]!.passCode}`, {});
    expect(answer.status).toBe(200);
    expect(answer.type).toContain('text/html');
    expect(answer.body).toBeUndefined();
    expect((await call(sim, '/api/result', { accept: 'text/html' })).status).toBe(400);
  });
});

describe('between runs', () => {
  it('regrades, removes and adds results upstream', async () => {
    const sim = await start();
    const before = sim.world.results.length;
    const { added, removed, changed } = sim.advance(3);
    expect(added).toHaveLength(3);
    expect(removed).toHaveLength(1);
    expect(changed.length).toBeGreaterThan(0);
    expect(sim.world.results).toHaveLength(before + 2);
    const gone = removed[0]!;
    const test = sim.world.tests.find((t) => t.testId === gone.testId)!;
    const answer = await call(sim, `/api/result/${test.passCode}`);
    expect(answer.body.data.map((r: any) => r.cbt_pass_code)).not.toContain(gone.passCode);
  });
});

describe('config and determinism', () => {
  it('prints a config naming exam pass codes and two single results of another exam', async () => {
    const sim = await start();
    expect(sim.config.base_url).toBe(sim.baseUrl);
    expect(sim.config.pass_codes.length).toBe(sim.world.tests.length - 3);
    expect(sim.config.results).toHaveLength(2);
    for (const code of sim.config.pass_codes) expect((await call(sim, `/api/result/${code}`)).status).toBe(200);
    for (const single of sim.config.results) {
      const answer = await call(sim, '/api/result', { ...JSON_ACCEPT, 'cbt-pass-code': single.pass_code, 'test-id': single.test_id });
      expect(answer.status).toBe(200);
    }
  });

  it('serves the same data for the same seed and different data for another', async () => {
    const snapshot = async (seed: number) => {
      const sim = await start({ seed });
      const bodies = await Promise.all(sim.config.pass_codes.map(async (code) => (await call(sim, `/api/result/${code}`)).body));
      return JSON.stringify(bodies);
    };
    const first = await snapshot(3);
    expect(await snapshot(3)).toBe(first);
    expect(await snapshot(4)).not.toBe(first);
  });
});
