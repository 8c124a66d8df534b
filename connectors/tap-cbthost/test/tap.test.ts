// tap-cbthost against its simulator over real HTTP: full syncs, ACTIVATE_VERSION, every error envelope, config, discovery.

import { jsonFile, recordsOf, runTap } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { type CbthostSimulator, type CbthostSimulatorOptions, startCbthostSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

const running: CbthostSimulator[] = [];
async function start(faults: CbthostSimulatorOptions['faults'] = [], options: CbthostSimulatorOptions = {}): Promise<CbthostSimulator> {
  const sim = await startCbthostSimulator({ seed: 11, tests: 5, studentsPerTest: 15, faults, ...options });
  running.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

/** What the simulator holds for the configured exams, as the rows a target should end with. */
function expectedRows(sim: CbthostSimulator): string[] {
  const tests = new Set(sim.world.tests.filter((t) => sim.config.pass_codes.includes(t.passCode)).map((t) => t.testId));
  const single = (r: { passCode: string; testId: string }) =>
    sim.config.results.some((s) => s.pass_code === r.passCode && s.test_id === r.testId);
  return sim.world.results
    .filter((r) => tests.has(r.testId) || single(r))
    .map((r) => `${r.passCode}|${r.testId}|${r.score}`)
    .sort();
}

function rows(records: Array<Record<string, any>>): string[] {
  const byKey = new Map(
    records.map((r) => [`${r.cbt_pass_code}|${r.cbt_test_id}`, `${r.cbt_pass_code}|${r.cbt_test_id}|${r.cbt_total_score}`]),
  );
  return [...byKey.values()].sort();
}

describe('rate limits (none documented; a 429 is waited out as the kit does for any API)', () => {
  it('waits for Retry-After: 1 on both endpoints and still lands every result, then ACTIVATE_VERSION', async () => {
    const sim = await start([
      { kind: 'rate-limit', route: 'mass_results', retryAfterSeconds: 1, after: 1 },
      { kind: 'rate-limit', route: 'single_result', retryAfterSeconds: 1 },
    ]);
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(0);
    expect(sim.faults.pending()).toEqual([]);
    expect(run.stderr.match(/HTTP 429.*waiting 1s/g)).toHaveLength(2);
    expect(rows(recordsOf(run, 'results'))).toEqual(expectedRows(sim));
    expect(run.messages.filter((m) => m.type === 'ACTIVATE_VERSION')).toHaveLength(1);
  });
});

describe('full sync', () => {
  it('reads every configured exam and single result, sends Accept: application/json, and closes with ACTIVATE_VERSION', async () => {
    const sim = await start();
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(0);
    expect(rows(recordsOf(run, 'results'))).toEqual(expectedRows(sim));
    const types = run.messages.map((m) => m.type);
    expect(types[0]).toBe('SCHEMA');
    expect(run.messages[0]!.key_properties).toEqual(['cbt_pass_code', 'cbt_test_id']);
    const activate = run.messages.find((m) => m.type === 'ACTIVATE_VERSION')!;
    expect(types.lastIndexOf('RECORD')).toBeLessThan(types.indexOf('ACTIVATE_VERSION'));
    expect(recordsOf(run, 'results').length).toBeGreaterThan(0);
    expect(run.messages.filter((m) => m.type === 'RECORD').every((m) => m.version === activate.version)).toBe(true);
    // Scores land as exact decimals; single results carry cbt_test_info.
    expect(recordsOf(run, 'results').every((r) => typeof r.cbt_total_score === 'string')).toBe(true);
    expect(recordsOf(run, 'results').some((r) => typeof r.cbt_test_info === 'string')).toBe(true);
    expect(sim.requests.unexpected()).toEqual([]);
    expect(sim.requests.all().every((r) => r.status === 200)).toBe(true);
  });

  it('after upstream changes, a second run sends the current set under a new version, so removed rows go', async () => {
    const sim = await start();
    const first = await runTap(tap, ['--config', jsonFile(sim.config)]);
    const { removed, added } = sim.advance(2);
    const second = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(rows(recordsOf(second, 'results'))).toEqual(expectedRows(sim));
    const keys = recordsOf(second, 'results').map((r) => r.cbt_pass_code);
    expect(keys).not.toContain(removed[0]!.passCode);
    const massTests = new Set(sim.world.tests.filter((t) => sim.config.pass_codes.includes(t.passCode)).map((t) => t.testId));
    for (const result of added.filter((r) => massTests.has(r.testId))) expect(keys).toContain(result.passCode);
    const version = (run: typeof first) => run.messages.find((m) => m.type === 'ACTIVATE_VERSION')!.version;
    expect(version(second)).toBeGreaterThan(version(first));
  });
});

describe('errors', () => {
  it('reports the documented "No results found" 404 for one exam, syncs the others, and keeps that exam’s rows (no ACTIVATE_VERSION, exit 6)', async () => {
    const sim = await start();
    const empty = sim.world.tests.at(-1)!;
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, pass_codes: [empty.passCode, ...sim.config.pass_codes] })]);
    expect(run.code).toBe(6);
    // Pass codes are credentials: named redacted (test/secrets.test.ts).
    expect(run.stderr).toContain('CBTHost has no results for exam [REDACTED]: No results found for this test ID');
    expect(run.stderr).toContain(
      `WARN stream results (partition {"pass_code":"[REDACTED]","test_id":null}) answered "not found / no results"`,
    );
    expect(rows(recordsOf(run, 'results'))).toEqual(expectedRows(sim));
    expect(run.messages.some((m) => m.type === 'ACTIVATE_VERSION')).toBe(false);
  });

  it('reports a single result that is not found (the documented 404 serverstatus body), goes on, and keeps its row (exit 6)', async () => {
    const sim = await start();
    const results = [{ pass_code: 'cbthost-zzzz-0001', test_id: 'nobody@example.com' }, ...sim.config.results];
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, results })]);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain('pass code [REDACTED] (test nobody@example.com): cbt pass code is invalid, or no record found');
    expect(run.stderr).toMatch(/SUMMARY: .*"not_retired":\["\{\\"pass_code\\":\\"\[REDACTED\]\\"/);
    expect(run.messages.some((m) => m.type === 'ACTIVATE_VERSION')).toBe(false);
  });

  it('stops with exit 3 on a wrong base_url (an undocumented 404), naming the URL, and sends no ACTIVATE_VERSION', async () => {
    const sim = await start([], { unexpected: 'allow' }); // the wrong path is asked for on purpose
    const wrong = `${sim.baseUrl}/v2`;
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, base_url: wrong })]);
    expect(run.code).toBe(3);
    const first = sim.config.pass_codes[0]!;
    expect(run.stderr).toMatch(/CRITICAL .*HTTP 404/);
    expect(run.stderr).toContain(`${wrong}/api/result/[REDACTED]`);
    expect(run.stderr).toContain('exam [REDACTED]');
    expect(run.stderr).not.toContain(first);
    expect(run.stderr).toContain('base_url');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.messages.some((m) => m.type === 'ACTIVATE_VERSION')).toBe(false);
    expect(recordsOf(run, 'results')).toEqual([]);
  });

  it('stops with exit 3 when base_url answers HTTP 200 with an HTML page (a login page, a proxy, the website), naming it and saying it is not the CBTHost JSON API', async () => {
    const sim = await start();
    // A sign-in page in front of the API answers every path with 200.
    const signIn = '<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form action="/login"></form></body></html>';
    sim.faults.inject({
      kind: 'respond',
      times: Infinity,
      response: { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: signIn },
    });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      `CRITICAL GET /api/result/[REDACTED] failed: ${sim.config.base_url} answered HTTP 200 with an HTML page titled "Sign in", not the CBTHost JSON API; check the base URL in your config`,
    );
    expect(run.stderr).not.toMatch(/not valid JSON|Unexpected token|\n\s+at /);
    expect(sim.requests.count()).toBe(2); // tried once more, not retried as a passing fault
    expect(recordsOf(run, 'results')).toEqual([]);
    expect(run.messages.some((m) => m.type === 'ACTIVATE_VERSION')).toBe(false);
  });

  it('names the single result’s pass code and test id when base_url has a path prefix', async () => {
    const sim = await start([], { unexpected: 'allow' }); // the prefixed path is asked for on purpose
    const single = sim.config.results[0]!;
    const run = await runTap(tap, ['--config', jsonFile({ base_url: `${sim.baseUrl}/cbt`, results: [single] })]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`pass code [REDACTED] (test ${single.test_id})`);
    expect(run.stderr).toContain(`${sim.baseUrl}/cbt/api/result`);
    expect(run.messages.some((m) => m.type === 'ACTIVATE_VERSION')).toBe(false);
  });

  it('stops with exit 3 on a mistyped exam pass code (401, as the document says for invalid credentials), naming it', async () => {
    const sim = await start();
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, pass_codes: [...sim.config.pass_codes, 'cbthost-typo'] })]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/CRITICAL .*CBTHost refused the pass code \[REDACTED\] .*HTTP 401/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.messages.some((m) => m.type === 'ACTIVATE_VERSION')).toBe(false);
  });

  it('stops with exit 3 and a sentence on a 401, without ACTIVATE_VERSION (nothing is deleted downstream)', async () => {
    const sim = await start();
    const locked = sim.world.tests.find((t) => !t.apiEnabled)!;
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, pass_codes: [...sim.config.pass_codes, locked.passCode] })]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/CRITICAL .*CBTHost refused the pass code \[REDACTED\] .*HTTP 401/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.messages.some((m) => m.type === 'ACTIVATE_VERSION')).toBe(false);
  });

  it('names the pass code and test id of a single result refused with 401', async () => {
    const sim = await start();
    const locked = sim.world.tests.find((t) => !t.apiEnabled)!;
    const result = sim.world.results.find((r) => r.testId === locked.testId)!;
    const run = await runTap(tap, [
      '--config',
      jsonFile({ ...sim.config, results: [{ pass_code: result.passCode, test_id: result.testId }] }),
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`CBTHost refused the pass code [REDACTED] (test ${result.testId})`);
  });

  it('retries a 5xx burst and still lands everything', async () => {
    const sim = await start();
    sim.faults.inject({ kind: 'status', status: 503, route: 'mass_results', times: 2 });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(0);
    expect(rows(recordsOf(run, 'results'))).toEqual(expectedRows(sim));
  });
});

describe('config, discovery and selection', () => {
  it('refuses a config with no exam and no result, naming the key', async () => {
    const sim = await start();
    const run = await runTap(tap, ['--config', jsonFile({ base_url: sim.baseUrl })]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('pass_codes');
    expect(sim.requests.count()).toBe(0);
  });

  it('refuses a malformed base_url and a non-list pass_codes', async () => {
    const run = await runTap(tap, ['--config', jsonFile({ base_url: 'not a url', pass_codes: 'cbthost-x' })]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('base_url');
    expect(run.stderr).toContain('pass_codes');
  });

  it('discovers one full-table stream keyed by pass code and test id, and syncs nothing when it is deselected', async () => {
    const sim = await start();
    const discovered = await runTap(tap, ['--discover']);
    const catalog = JSON.parse(discovered.stdout);
    // results, and the kit's _sdc_rejected_records for records that cannot be read.
    expect(catalog.streams.map((s: { stream: string }) => s.stream)).toEqual(['results', '_sdc_rejected_records']);
    const entry = catalog.streams[0];
    expect(entry.stream).toBe('results');
    expect(entry.key_properties).toEqual(['cbt_pass_code', 'cbt_test_id']);
    for (const item of entry.metadata) if (item.breadcrumb.length === 0) item.metadata.selected = false;
    const run = await runTap(tap, ['--config', jsonFile(sim.config), '--catalog', jsonFile(catalog)]);
    expect(run.code).toBe(0);
    expect(recordsOf(run, 'results')).toEqual([]);
  });

  it('checks the connection with --test', async () => {
    const sim = await start();
    const run = await runTap(tap, ['--test', '--config', jsonFile(sim.config)]);
    expect(run.code).toBe(0);
    expect(sim.requests.count()).toBe(1);
  });

  it('fails --test on a wrong base_url instead of reporting the connection as passed', async () => {
    const sim = await start([], { unexpected: 'allow' }); // the wrong path is asked for on purpose
    const run = await runTap(tap, ['--test', '--config', jsonFile({ ...sim.config, base_url: `${sim.baseUrl}/v2` })]);
    expect(run.code).toBe(3);
    expect(run.stderr).not.toContain('Connection test passed');
    expect(run.stderr).toContain('base_url');
  });
});
