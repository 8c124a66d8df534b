// The simulator kit: routes, request log, faults, seeded data and the CLI, over real HTTP.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  commonErrorAnswers,
  errorAnswerFault,
  parseErrorAnswers,
  parseSimulatorArgs,
  type RunningSimulator,
  type SimulatorDefinition,
  seededRandom,
  startSimulator,
  toXml,
} from '../src/index.js';

const echo: SimulatorDefinition<{ base_url: string; token: string }> = {
  name: 'echo',
  routes: [
    {
      name: 'item',
      method: 'GET',
      path: '/v1/items/:item_id.:format',
      handle: (req) => ({ body: { id: req.params.item_id, format: req.params.format, q: req.query.get('q') } }),
    },
    {
      name: 'create',
      method: ['POST', 'DELETE'],
      path: '/v1/items',
      handle: (req) => ({ status: 201, body: { got: JSON.parse(req.body) as unknown } }),
    },
  ],
  tapConfig: (baseUrl) => ({ base_url: baseUrl, token: 'sim-token' }),
  actions: { ping: (args) => ({ pong: args.value }) },
};

let sim: RunningSimulator<{ base_url: string; token: string }> | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('startSimulator', () => {
  it('serves routes with path params on a random 127.0.0.1 port and hands out a tap config', async () => {
    sim = await startSimulator(echo);
    expect(sim.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.config).toEqual({ base_url: sim.baseUrl, token: 'sim-token' });
    const res = await fetch(`${sim.baseUrl}/v1/items/42.json?q=x`);
    expect(await res.json()).toEqual({ id: '42', format: 'json', q: 'x' });
  });

  it('logs every request and flags the unexpected ones', async () => {
    sim = await startSimulator(echo, { unexpected: 'allow' });
    await fetch(`${sim.baseUrl}/v1/items/1.json`);
    await fetch(`${sim.baseUrl}/v1/items`, { method: 'POST', body: '["a"]' });
    expect(sim.requests.count('item')).toBe(1);
    expect(sim.requests.to('create')[0]).toMatchObject({ method: 'POST', body: '["a"]', status: 201 });
    expect(() => sim?.requests.assertNoUnexpected()).not.toThrow();

    const missing = await fetch(`${sim.baseUrl}/v2/nothing`);
    expect(missing.status).toBe(404);
    const wrongMethod = await fetch(`${sim.baseUrl}/v1/items/1.json`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(sim.requests.unexpected()).toHaveLength(2);
    expect(() => sim?.requests.assertNoUnexpected()).toThrow(/2 unexpected request\(s\):\n {2}GET \/v2\/nothing/);
    expect(() => sim?.requests.assertOnly(['item'])).toThrow(/POST \/v1\/items/);
  });

  it('fails on close when it served a request no route serves, naming it, so the test that sent it fails', async () => {
    const strict = await startSimulator(echo);
    expect((await fetch(`${strict.baseUrl}/v2/nothing`)).status).toBe(404);
    strict.requests.clear(); // what the log shows does not matter: the close still fails
    await expect(strict.close()).rejects.toThrow(
      /echo simulator: no route serves GET \/v2\/nothing; a test that sends such requests on purpose starts it with unexpected: 'allow'/,
    );
  });

  it('injects 5xx bursts after N good requests, then recovers', async () => {
    sim = await startSimulator(echo);
    sim.faults.inject({ route: 'item', kind: 'status', status: 502, times: 2, after: 1 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${sim.baseUrl}/v1/items/${i}.json`)).status);
    expect(statuses).toEqual([200, 502, 502, 200]);
    expect(sim.requests.all().map((r) => r.fault)).toEqual([null, 'status', 'status', null]);
    expect(sim.faults.pending()).toEqual([]);
  });

  it('drops connections, delays, truncates bodies and answers rate limits', async () => {
    sim = await startSimulator(echo, { faults: [{ kind: 'drop' }] });
    await expect(fetch(`${sim.baseUrl}/v1/items/1.json`)).rejects.toThrow();
    expect(sim.requests.all()[0]).toMatchObject({ route: 'item', status: null, fault: 'drop' });

    sim.faults.inject({ kind: 'malformed' });
    const malformed = await fetch(`${sim.baseUrl}/v1/items/1.json`);
    await expect(malformed.json()).rejects.toThrow();

    sim.faults.inject({ kind: 'rate-limit', retryAfterSeconds: 7 });
    const limited = await fetch(`${sim.baseUrl}/v1/items/1.json`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');

    sim.faults.inject({ kind: 'delay', ms: 150 });
    const started = Date.now();
    expect((await fetch(`${sim.baseUrl}/v1/items/1.json`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('runs a named action at a chosen request, then answers normally (the vendor’s data changing mid-sync)', async () => {
    const seen: unknown[] = [];
    sim = await startSimulator({ ...echo, actions: { record: (args) => void seen.push(args.value) } });
    sim.faults.inject({ route: 'item', kind: 'act', action: 'record', args: { value: 'between pages' }, after: 1 });
    expect((await fetch(`${sim.baseUrl}/v1/items/1.json`)).status).toBe(200);
    expect(seen).toEqual([]);
    expect(await (await fetch(`${sim.baseUrl}/v1/items/2.json`)).json()).toMatchObject({ id: '2' });
    expect(seen).toEqual(['between pages']);
    expect(sim.requests.all().map((r) => r.fault)).toEqual([null, 'act']);
  });

  it('exposes control endpoints for faults, the request log and actions', async () => {
    sim = await startSimulator(echo);
    const post = (path: string, body: unknown) =>
      fetch(`${sim?.baseUrl}/__simulator${path}`, { method: 'POST', body: JSON.stringify(body) });
    expect(await (await post('/actions/ping', { value: 3 })).json()).toEqual({ ok: true, result: { pong: 3 } });
    expect((await post('/faults', { kind: 'status', status: 500, times: null })).status).toBe(200);
    expect((await fetch(`${sim.baseUrl}/v1/items/1.json`)).status).toBe(500);
    expect((await fetch(`${sim.baseUrl}/v1/items/1.json`)).status).toBe(500);
    await fetch(`${sim.baseUrl}/__simulator/faults`, { method: 'DELETE' });
    expect((await fetch(`${sim.baseUrl}/v1/items/1.json`)).status).toBe(200);
    const log = (await (await fetch(`${sim.baseUrl}/__simulator/requests`)).json()) as unknown[];
    expect(log).toHaveLength(3);
    expect((await post('/faults', { kind: 'nope' })).status).toBe(400);
  });
});

describe('error answers', () => {
  const answers = { ...commonErrorAnswers('Echo'), 'error-200': { status: 200, body: { status: 'error', message: 'Nope' } } };

  it('serve a named error shape on a route until cleared, and null and HTML from the common table', async () => {
    sim = await startSimulator(echo, { faults: [errorAnswerFault(answers, { shape: 'error-200', route: 'item' })] });
    for (let i = 0; i < 2; i++)
      expect(await (await fetch(`${sim.baseUrl}/v1/items/1.json`)).json()).toEqual({ status: 'error', message: 'Nope' });
    sim.faults.clear();
    sim.faults.inject(errorAnswerFault(answers, { shape: 'null', times: 1 }));
    expect(await (await fetch(`${sim.baseUrl}/v1/items/1.json`)).text()).toBe('null');
    expect(await (await fetch(`${sim.baseUrl}/v1/items/1.json`)).json()).toMatchObject({ id: '1' });
    sim.faults.inject(errorAnswerFault(answers, { shape: 'html', times: 1 }));
    const html = await fetch(`${sim.baseUrl}/v1/items/1.json`);
    expect(html.headers.get('content-type')).toContain('text/html');
  });

  it('refuse an unknown shape with a sentence listing the shapes, and parse the CLI flag', () => {
    expect(() => errorAnswerFault(answers, { shape: 'nope' })).toThrow('no error answer "nope"; the shapes are: null, html, error-200');
    expect(parseErrorAnswers('null@item,html')).toEqual([{ shape: 'null', route: 'item' }, { shape: 'html' }]);
    expect(parseErrorAnswers('{"shape":"html","times":2}')).toEqual([{ shape: 'html', times: 2 }]);
    expect(parseErrorAnswers(undefined)).toEqual([]);
  });
});

describe('seededRandom', () => {
  it('gives the same data for the same seed and different data for another', () => {
    const draw = (seed: string) => {
      const r = seededRandom(seed);
      return [r.int(0, 1000), r.firstName(), r.email('Zoë', "O'Brien"), r.unixSeconds(0, 1e9), r.alphanumeric(8)];
    };
    expect(draw('a')).toEqual(draw('a'));
    expect(draw('a')).not.toEqual(draw('b'));
    expect(draw('a')[2]).toMatch(/^zoe\.obrien\d+@example\.com$/);
  });
});

describe('toXml', () => {
  it('repeats array items under their parent tag and escapes entities', () => {
    expect(toXml('response', { status: 'ok', items: { item: [{ name: 'A & B' }, { name: 'C' }] }, more: '' })).toBe(
      '<response><status>ok</status><items><item><name>A &amp; B</name></item><item><name>C</name></item></items><more></more></response>',
    );
  });
});

describe('simulator CLI arguments', () => {
  const options = {
    name: 'x-simulator',
    flags: { 'rate-limit-per-hour': { type: 'number' as const, description: 'limit', default: 30 } },
    start: () => Promise.reject(new Error('unused')),
  };
  it('parses the common flags and typed simulator flags', () => {
    expect(parseSimulatorArgs(options, ['--port', '0', '--seed', 's1', '--rate-limit-per-hour', '5'])).toMatchObject({
      port: 0,
      seed: 's1',
      flags: { 'rate-limit-per-hour': 5 },
    });
    expect(parseSimulatorArgs(options, [])).toMatchObject({ port: 0, seed: 'tapline', flags: { 'rate-limit-per-hour': 30 } });
  });
  it('names the bad flag', () => {
    expect(() => parseSimulatorArgs(options, ['--rate-limit-per-hour', 'lots'])).toThrow(
      '--rate-limit-per-hour must be a number, got "lots"',
    );
    expect(() => parseSimulatorArgs(options, ['--bogus'])).toThrow(/bogus/);
  });
});

describe('runSimulatorCli (built dist/)', () => {
  it('prints one JSON line with base_url and config, serves, and stops on SIGTERM', async () => {
    const script = `
      import { runSimulatorCli, startSimulator } from './dist/index.js';
      await runSimulatorCli({ name: 'echo-simulator', argv: process.argv.slice(1), start: (a) => startSimulator({ name: 'echo', routes: [
        { name: 'ping', method: 'GET', path: '/ping', handle: () => ({ body: { seed: a.seed } }) }],
        tapConfig: (base_url) => ({ base_url }) }, { port: a.port }) });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, '--', '--seed', 'q'], {
      cwd: new URL('..', import.meta.url).pathname,
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const { base_url, config } = JSON.parse(line) as { base_url: string; config: unknown };
    expect(config).toEqual({ base_url });
    expect(await (await fetch(`${base_url}/ping`)).json()).toEqual({ seed: 'q' });
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
  });
});
