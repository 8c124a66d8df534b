// CBTHost pass codes are credentials (invalid ones get a 401, cbthost-api.txt): no pass code from the
// config reaches stderr (request logs, errors, warnings, the SUMMARY line), at any log level.

import { jsonFile, runTap } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { type CbthostSimulator, type CbthostSimulatorOptions, startCbthostSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

const running: CbthostSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});
async function start(options: CbthostSimulatorOptions = {}): Promise<CbthostSimulator> {
  const sim = await startCbthostSimulator({ seed: 11, tests: 5, studentsPerTest: 15, ...options });
  running.push(sim);
  return sim;
}

/** Every pass code a config holds: exams' (mass endpoint) and single results'. */
const passCodesOf = (config: { pass_codes: string[]; results: { pass_code: string }[] }) => [
  ...config.pass_codes,
  ...config.results.map((result) => result.pass_code),
];

function expectNoPassCode(stderr: string, passCodes: string[]): void {
  for (const code of passCodes) {
    for (const form of [code, encodeURIComponent(code)]) expect(stderr, `pass code ${code} in stderr`).not.toContain(form);
  }
}

describe('pass codes never reach stderr', () => {
  for (const level of ['debug', 'info'] as const) {
    it(`a full sync at --log-level ${level}: request lines, METRIC lines and the SUMMARY line hold none`, async () => {
      const sim = await start();
      const run = await runTap(tap, ['--config', jsonFile(sim.config), '--log-level', level]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/GET \/api\/result/); // the request lines are there, redacted
      expect(run.stderr).toMatch(/^SUMMARY: /m);
      expectNoPassCode(run.stderr, passCodesOf(sim.config));
    });
  }

  it('an exam with no results, a single result not found and a wrong base_url: warnings, errors and SUMMARY hold none', async () => {
    const sim = await start({ unexpected: 'allow' }); // the wrong base_url is asked for on purpose
    const empty = sim.world.tests.at(-1)!;
    const missing = { pass_code: 'cbthost-zzzz-0001', test_id: 'nobody@example.com' };
    const config = { ...sim.config, pass_codes: [empty.passCode, ...sim.config.pass_codes], results: [missing, ...sim.config.results] };
    const run = await runTap(tap, ['--config', jsonFile(config), '--log-level', 'debug']);
    expect(run.stderr).toMatch(/^SUMMARY: /m);
    expectNoPassCode(run.stderr, passCodesOf(config));

    const wrong = await runTap(tap, ['--config', jsonFile({ ...sim.config, base_url: `${sim.baseUrl}/v2` }), '--log-level', 'debug']);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/CRITICAL .*HTTP 404/);
    expectNoPassCode(wrong.stderr, passCodesOf(sim.config));
  });

  it('a refused pass code (401) is one sentence that names it by a redacted form only', async () => {
    const sim = await start();
    const locked = sim.world.tests.find((t) => !t.apiEnabled)!;
    const config = { ...sim.config, pass_codes: [...sim.config.pass_codes, locked.passCode, 'cbthost-typo'] };
    const run = await runTap(tap, ['--config', jsonFile(config), '--log-level', 'debug']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/CRITICAL .*CBTHost refused the pass code \[REDACTED[^\]]*\].*HTTP 401/);
    expectNoPassCode(run.stderr, passCodesOf(config));
  });
});
