// tap-onlineexammaker against its simulator over real HTTP: full and incremental syncs, both APIs, errors, config, discovery.

import { jsonFile, lastState, recordsOf, runTap } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { type OemSimulator, type OemSimulatorOptions, startOemSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

const running: OemSimulator[] = [];
async function start(options: OemSimulatorOptions = {}): Promise<OemSimulator> {
  const sim = await startOemSimulator({ seed: 9, exams: 5, resultsPerExam: 70, ...options });
  running.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

const keyOf = (r: { eid: number; sid: number; startTime: string | number }) =>
  `${r.eid}/${r.sid}/${typeof r.startTime === 'number' ? new Date(r.startTime * 1000).toISOString().replace('.000Z', 'Z') : r.startTime}`;

describe('rate limits (none documented; a 429 is waited out as the kit does for any API)', () => {
  it('waits for Retry-After: 1 on a 429, even one carrying an error object, and completes with every record', async () => {
    const tooMany = { status: 429, headers: { 'retry-after': '1' }, body: { status: 'error', error: 'Too many requests' } };
    const sim = await start({
      faults: [
        { kind: 'rate-limit', route: 'index_php', retryAfterSeconds: 1, after: 1 },
        { kind: 'respond', route: 'index_php', response: tooMany, after: 4 },
      ],
    });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(0);
    expect(sim.faults.pending()).toEqual([]);
    expect(run.stderr.match(/HTTP 429.*waiting 1s/g)).toHaveLength(2);
    expect(recordsOf(run, 'exams').map((e) => e.eid)).toEqual(sim.world.exams.map((e) => e.eid));
    expect(recordsOf(run, 'results').map(keyOf).sort()).toEqual(sim.world.results.map(keyOf).sort());
  });
});

describe('full sync', () => {
  it('lands every exam and every result, with timestamps, exact scores and status meanings', async () => {
    const sim = await start();
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(0);
    expect(recordsOf(run, 'exams').map((e) => e.eid)).toEqual(sim.world.exams.map((e) => e.eid));
    const results = recordsOf(run, 'results');
    expect(results.map(keyOf).sort()).toEqual(sim.world.results.map(keyOf).sort());
    const inProgress = new Set(sim.world.results.filter((r) => r.status === 0).map(keyOf));
    expect(inProgress.size).toBeGreaterThan(0);
    expect(
      results
        .filter((r) => r.endTime === null)
        .map(keyOf)
        .sort(),
    ).toEqual([...inProgress].sort());
    // The every-candidate answer (document section 2) carries sid and name but no status.
    expect(results.every((r) => r.status === null && r.status_meaning === null && typeof r.name === 'string')).toBe(true);
    expect(results.every((r) => typeof r.score === 'string' && /Z$/.test(r.startTime))).toBe(true);
    expect(recordsOf(run, 'exams')[0]).toMatchObject({ createTime: expect.stringMatching(/Z$/), available: expect.any(Boolean) });
    expect(sim.requests.unexpected()).toEqual([]);
  });

  it('lands a result in progress whose endTime is absent (not 0) with endTime null', async () => {
    const sim = await start();
    const inProgress = {
      viewResult: 'https://ks.onlineexammaker.com/viewresult/token',
      score: 0,
      startTime: 1539075728,
      sid: 19382,
      name: 'Tom',
    };
    sim.faults.inject({ kind: 'respond', route: 'index_php', after: 1, response: { body: [inProgress] } });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(0);
    const landed = recordsOf(run, 'results').find((r) => r.sid === 19382 && r.startTime === '2018-10-09T09:02:08Z');
    expect(landed).toMatchObject({ eid: sim.world.exams[0]!.eid, endTime: null });
  });

  it('lands a result sent with an empty score ("" or null) with score null, and goes on', async () => {
    const sim = await start();
    const unscored = [
      { viewResult: 'https://ks.onlineexammaker.com/viewresult/a', score: '', startTime: 1539075728, endTime: 0, sid: 99901, name: 'Tom' },
      {
        viewResult: 'https://ks.onlineexammaker.com/viewresult/b',
        score: null,
        startTime: 1539075729,
        endTime: 0,
        sid: 99902,
        name: 'Ann',
      },
    ];
    sim.faults.inject({ kind: 'respond', route: 'index_php', after: 1, response: { body: unscored } });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code, run.stderr).toBe(0);
    const landed = recordsOf(run, 'results').filter((r) => r.sid === 99901 || r.sid === 99902);
    expect(landed.map((r) => [r.sid, r.score, r.endTime])).toEqual([
      [99901, null, null],
      [99902, null, null],
    ]);
  });

  it('sets aside a result in the one-candidate shape (no sid) when every candidate was asked for, and reads the rest (exit 6)', async () => {
    const sim = await start();
    const oneCandidate = {
      viewResult: 'https://ks.onlineexammaker.com/viewresult/token',
      score: 30,
      startTime: 1539075728,
      endTime: 1539075828,
      status: 1,
    };
    sim.faults.inject({ kind: 'respond', route: 'index_php', after: 1, response: { body: [oneCandidate] } });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(6);
    expect(run.stderr).not.toContain('CRITICAL');
    expect(recordsOf(run, '_sdc_rejected_records')).toEqual([
      expect.objectContaining({
        stream: 'results',
        field: 'sid',
        partition: { eid: sim.world.exams[0]!.eid },
        record_json: JSON.stringify(oneCandidate),
      }),
    ]);
    // The other exams' results are all read.
    const others = sim.world.results.filter((r) => r.eid !== sim.world.exams[0]!.eid);
    expect(recordsOf(run, 'results').length).toBeGreaterThanOrEqual(others.length);
  });

  it('gives a result set aside the same reject_id when it is read again with a new viewResult link (a new one on every answer)', async () => {
    const sim = await start();
    const ids: unknown[] = [];
    for (const token of ['first-answer', 'second-answer']) {
      const oneCandidate = {
        viewResult: `https://ks.onlineexammaker.com/viewresult/${token}`,
        score: 30,
        startTime: 1539075728,
        endTime: 1539075828,
      };
      sim.faults.inject({ kind: 'respond', route: 'index_php', after: 1, response: { body: [oneCandidate] } });
      const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
      expect(run.code).toBe(6);
      const [reject] = recordsOf(run, '_sdc_rejected_records');
      expect(reject?.record_json).toBe(JSON.stringify(oneCandidate)); // the link as sent is kept
      ids.push(reject?.reject_id);
    }
    expect(ids[0]).toBe(ids[1]);
  });

  it('reads past a server that caps the page below the limit asked, ending on an empty page', async () => {
    const sim = await start({ maxLimit: 25 });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(recordsOf(run, 'results').map(keyOf).sort()).toEqual(sim.world.results.map(keyOf).sort());
  });

  it('reads the same results through the v1 API (signed, {"data": [...]}, strings)', async () => {
    const sim = await start();
    const legacy = await runTap(tap, ['--config', jsonFile(sim.config)]);
    const v1 = await runTap(tap, ['--config', jsonFile({ ...sim.config, api: 'v1' })]);
    expect(v1.code).toBe(0);
    expect(sim.requests.count('v1_queryresults')).toBeGreaterThan(0);
    // v1 also sends status (and loginValue, passed); legacy's every-candidate answer does not.
    const strip = (r: Record<string, any>) => ({
      ...r,
      viewResult: undefined,
      loginValue: undefined,
      passed: undefined,
      status: undefined,
      status_meaning: undefined,
    });
    expect(recordsOf(v1, 'results').map(strip)).toEqual(recordsOf(legacy, 'results').map(strip));
    const statusOf = new Map(sim.world.results.map((r) => [keyOf(r), r.status]));
    expect(recordsOf(v1, 'results').every((r) => r.status === statusOf.get(keyOf(r)))).toBe(true);
    expect(
      recordsOf(v1, 'results')
        .filter((r) => r.endTime === null)
        .every((r) => r.status_meaning === 'in progress'),
    ).toBe(true);
  });
});

describe('incremental sync', () => {
  it('a second run sends only results that ended since, and results still in progress', async () => {
    const sim = await start();
    const first = await runTap(tap, ['--config', jsonFile(sim.config)]);
    const inProgress = sim.world.results.filter((r) => r.status === 0).map(keyOf);
    const changed = sim.advance(4).map(keyOf);
    const second = await runTap(tap, ['--config', jsonFile(sim.config), '--state', jsonFile(lastState(first))]);
    expect(second.code).toBe(0);
    const sent = recordsOf(second, 'results').map(keyOf);
    // Everything that changed arrives; beyond it, only results sharing the bookmark second may repeat.
    for (const key of changed) expect(sent).toContain(key);
    for (const key of inProgress) expect(sent).toContain(key);
    expect(sent.length).toBeLessThan(changed.length + sim.world.exams.length + 1);
    expect(
      recordsOf(second, 'results')
        .filter((r) => inProgress.includes(keyOf(r)))
        .every((r) => r.endTime !== null),
    ).toBe(true);
  });

  it('emits results that appear after a run with an endTime before its bookmark (the 2-hour look-back)', async () => {
    // The simulator's clock stands still, so each advance adds results that ended up to an hour before
    // results the previous advance added: they arrive behind the bookmarks those set.
    const now = Date.UTC(2025, 5, 1, 12);
    const sim = await start({ exams: 4, resultsPerExam: 10, now: () => now, anchor: now });
    const seen = new Set<string>();
    let state: unknown;
    for (let run = 0; run < 3; run++) {
      if (run > 0) sim.advance(20);
      const out = await runTap(tap, ['--config', jsonFile(sim.config), ...(state ? ['--state', jsonFile(state)] : [])]);
      expect(out.code).toBe(0);
      for (const result of recordsOf(out, 'results')) seen.add(keyOf(result));
      state = lastState(out);
    }
    expect(sim.world.results.map(keyOf).filter((key) => !seen.has(key))).toEqual([]);
  });

  it('resumes an interrupted run from its last state with no result lost', async () => {
    const sim = await start();
    // A 400 fails at once (no retries), standing in for a run killed part-way.
    sim.faults.inject({ kind: 'status', status: 400, route: 'index_php', after: 6 });
    const interrupted = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(interrupted.code).not.toBe(0);
    sim.faults.clear();
    const resumed = await runTap(tap, ['--config', jsonFile(sim.config), '--state', jsonFile(lastState(interrupted))]);
    expect(resumed.code).toBe(0);
    const landed = new Set([...recordsOf(interrupted, 'results'), ...recordsOf(resumed, 'results')].map(keyOf));
    expect([...landed].sort()).toEqual(sim.world.results.map(keyOf).sort());
  });

  it('honours start_date on the first run', async () => {
    const sim = await start();
    const ends = sim.world.results
      .filter((r) => r.endTime > 0)
      .map((r) => r.endTime)
      .sort((a, b) => a - b);
    const cut = ends[Math.floor(ends.length / 2)]!;
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, start_date: new Date(cut * 1000).toISOString() })]);
    const finished = recordsOf(run, 'results').filter((r) => r.endTime !== null);
    expect(finished.every((r) => Date.parse(r.endTime) >= cut * 1000)).toBe(true);
    expect(finished).toHaveLength(ends.filter((t) => t >= cut).length);
  });
});

describe('errors', () => {
  it('stops with exit 3 on a wrong code, names what to fix, and never prints the code', async () => {
    const sim = await start();
    const code = 'wrong-code-0123456789';
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, code })]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/CRITICAL .*OnlineExamMaker refused the request: Invalid verification code\. Check code/);
    expect(run.stderr + run.stdout).not.toContain(code);
  });

  it('never prints the code or the v1 signature in logs or output', async () => {
    const sim = await start();
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, api: 'v1' }), '--log-level', 'debug']);
    expect(run.code).toBe(0);
    expect(run.stderr + run.stdout).not.toContain(sim.config.code);
    expect(run.stderr).not.toMatch(/[0-9a-f]{32}/);
  });

  it('stops on the v1 API for a non-premium account with the vendor’s reason', async () => {
    const sim = await start({ v1Enabled: false });
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, api: 'v1' })]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('premium');
  });

  it('skips an exam the API says does not exist and syncs the rest', async () => {
    const sim = await start();
    sim.faults.inject({
      kind: 'respond',
      route: 'index_php',
      after: 1,
      response: { body: { status: 'error', error: 'The exam does not exist' } },
    });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`OnlineExamMaker skipped exam ${sim.world.exams[0]!.eid}: The exam does not exist`);
    const firstExam = sim.world.exams[0]!.eid;
    expect(recordsOf(run, 'results').some((r) => r.eid === firstExam)).toBe(false);
    expect(recordsOf(run, 'results').some((r) => r.eid !== firstExam)).toBe(true);
  });

  it('stops with exit 3 on an account error while listing exams (it names OnlineExamMaker, not an exam), without ACTIVATE_VERSION', async () => {
    const sim = await start();
    const expired = { body: { status: 'error', error: 'Your OnlineExamMaker account has expired' } };
    sim.faults.inject({ kind: 'respond', route: 'index_php', response: expired });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/CRITICAL .*Your OnlineExamMaker account has expired/);
    expect(run.messages.some((m) => m.type === 'ACTIVATE_VERSION')).toBe(false);
    expect(recordsOf(run, 'exams')).toEqual([]);
  });

  it('stops with exit 3 on an account error while reading an exam’s results, instead of skipping every exam', async () => {
    const sim = await start();
    sim.faults.inject({
      kind: 'respond',
      route: 'index_php',
      after: 1,
      response: { body: { status: 'error', error: 'Your OnlineExamMaker account has expired' } },
    });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/CRITICAL .*Your OnlineExamMaker account has expired/);
    expect(run.messages.some((m) => m.type === 'ACTIVATE_VERSION')).toBe(false);
  });

  it('never skips a page of the exam list, even for an error naming an exam: exit 3, no ACTIVATE_VERSION', async () => {
    const sim = await start();
    sim.faults.inject({ kind: 'respond', route: 'index_php', response: { body: { status: 'error', error: 'The exam does not exist' } } });
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.code).toBe(3);
    expect(run.messages.some((m) => m.type === 'ACTIVATE_VERSION')).toBe(false);
  });

  it('says the clock is off when the v1 API refuses the signature time, not to check code or premium', async () => {
    // The simulator's clock runs 10 minutes ahead of this machine's, outside the signature window.
    const sim = await start({ now: () => Date.now() + 10 * 60_000 });
    const run = await runTap(tap, ['--config', jsonFile({ ...sim.config, api: 'v1' })]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/CRITICAL .*time parameter is invalid or expired.*clock is probably off/);
    expect(run.stderr).not.toMatch(/Check code|premium/);
  });

  it('refuses a config without code, or with an unknown api, naming the key', async () => {
    const missing = await runTap(tap, ['--config', jsonFile({ base_url: 'http://127.0.0.1:1' })]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('code');
    const unknown = await runTap(tap, ['--config', jsonFile({ code: 'x', api: 'v2' })]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('api');
  });
});

describe('discovery and selection', () => {
  it('discovers exams (full) and results (incremental on endTime, key eid+sid+startTime)', async () => {
    const catalog = JSON.parse((await runTap(tap, ['--discover'])).stdout);
    const byName = Object.fromEntries(catalog.streams.map((s: any) => [s.stream, s]));
    expect(byName.exams.key_properties).toEqual(['eid']);
    expect(byName.results.key_properties).toEqual(['eid', 'sid', 'startTime']);
    expect(byName.results.schema.properties.viewResult.description).toContain('30 minutes');
  });

  it('syncs results alone when exams is deselected (exams still drives it)', async () => {
    const sim = await start();
    const catalog = JSON.parse((await runTap(tap, ['--discover'])).stdout);
    for (const entry of catalog.streams) {
      for (const item of entry.metadata) if (item.breadcrumb.length === 0) item.metadata.selected = entry.stream === 'results';
    }
    const run = await runTap(tap, ['--config', jsonFile(sim.config), '--catalog', jsonFile(catalog)]);
    expect(recordsOf(run, 'exams')).toEqual([]);
    expect(recordsOf(run, 'results')).toHaveLength(sim.world.results.length);
    expect(run.messages.filter((m) => m.type === 'SCHEMA').map((m) => m.stream)).toEqual(['results']);
  });
});
