// Every ClassMarker error code, bad config and secrets: a clear outcome, the right exit code, nothing leaked.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ClassMarkerSimulator, ERROR_MESSAGES, type ErrorCode, startClassMarkerSimulator } from '../simulator/index.js';
import { runTap } from './helpers.js';

let sim: ClassMarkerSimulator;
beforeAll(async () => {
  sim = await startClassMarkerSimulator({ seed: 'errors-test', linkResults: 30, groupResults: 30, rateLimitPerHour: 10_000 });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.faults.clear();
  sim.requests.clear();
  Object.assign(sim.account, { keyState: 'active', upgraded: true, maintenance: false });
});

const envelope = (code: ErrorCode) => ({
  body: {
    status: 'error',
    request_path: 'v1',
    server_timestamp: Math.floor(Date.now() / 1000),
    error: { error_code: code, error_message: ERROR_MESSAGES[code] },
  },
});

/** Exit 3: the user must fix something, and the sentence says what. */
const CONFIG_ERRORS: Array<[ErrorCode, RegExp]> = [
  ['apiKeyAuthFail', /check api_key and api_secret, and try signature_algorithm/],
  ['noApiKeyExists', /copy api_key again/],
  ['apiKeyInactive', /activate it/],
  ['accountNotUpgraded', /paid plan/],
  ['apiKeyNoGroupPermission', /grant the key access to it, or remove it from group_tests/],
  ['incorrectUrl', /check base_url/],
  ['incorrectUrlVersionNumber', /check base_url/],
  ['incorrectUrlId', /check the ids in your config/],
];
/** Exit 1: a request the tap should never have sent. */
const SYSTEM_ERRORS: ErrorCode[] = [
  'finishedAfterTimestampTooEarly',
  'incorrectRequestMethod',
  'invalidJson',
  'requestParamValidationError',
  'invalidInput',
  'NotAllowedActionForQuestionType',
  'custom_error',
];

describe('error envelopes at HTTP 200', () => {
  it.each(CONFIG_ERRORS)('%s stops with exit 3 and a sentence saying what to fix', async (code, advice) => {
    sim.faults.inject({ kind: 'respond', response: envelope(code), times: Number.POSITIVE_INFINITY });
    const run = await runTap(sim);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(new RegExp(`CRITICAL .*\\(${code}\\)`));
    expect(run.stderr).toMatch(advice);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(sim.requests.count()).toBe(1); // no retry on auth/permission errors
  });

  it.each(SYSTEM_ERRORS)('%s fails as a tap bug (exit 1) naming the code', async (code) => {
    sim.faults.inject({ kind: 'respond', response: envelope(code), times: Number.POSITIVE_INFINITY });
    const run = await runTap(sim);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(code);
  });

  it.each(['offlineMaintenance', 'internalError100', 'internalError101'] as ErrorCode[])(
    '%s is retried, then the sync goes on',
    async (code) => {
      sim.faults.inject({ kind: 'respond', response: envelope(code), times: 1 });
      const run = await runTap(sim);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(new RegExp(`temporarily unavailable \\(${code}\\); retry 1`));
      expect(run.records('link_results')).toHaveLength(30);
    },
  );

  it('an HTTP 5xx burst and a dropped connection are retried', async () => {
    sim.faults.inject({ route: 'links_recent_results', kind: 'status', status: 503, times: 1 });
    sim.faults.inject({ route: 'groups_recent_results', kind: 'drop', times: 1 });
    const run = await runTap(sim);
    expect(run.code, run.stderr).toBe(0);
    expect(run.records('link_results')).toHaveLength(30);
    expect(run.records('group_results')).toHaveLength(30);
  });

  it('the real account states answer the same way', async () => {
    sim.account.keyState = 'inactive';
    expect((await runTap(sim)).stderr).toMatch(/apiKeyInactive/);
    Object.assign(sim.account, { keyState: 'active', upgraded: false });
    expect((await runTap(sim)).stderr).toMatch(/accountNotUpgraded/);
    expect((await runTap(sim, { config: { api_secret: 'not-the-secret' } })).stderr).toMatch(/apiKeyAuthFail/);
  });
});

describe('error envelopes with HTTP error statuses (a switch some proxies and newer endpoints use)', () => {
  it('are read by their body the same way: 401 apiKeyAuthFail, 429 rateLimitExceeded', async () => {
    const strict = await startClassMarkerSimulator({
      seed: 'errors-test',
      linkResults: 300,
      groupResults: 5,
      errorHttpStatus: true,
      rateLimitPerHour: 3,
    });
    try {
      const denied = await runTap(strict, { config: { api_secret: 'wrong' } });
      expect(denied.code).toBe(3);
      expect(denied.stderr).toMatch(/apiKeyAuthFail/);
      strict.resetRateLimit();
      const limited = await runTap(strict);
      expect(limited.code, limited.stderr).toBe(6);
      expect(limited.stderr).toMatch(/run again after/);
      expect(strict.errorsSent).toContain('rateLimitExceeded');
    } finally {
      await strict.close();
    }
  });
});

describe('signatures and clocks', () => {
  it('signs with MD5 (default) or SHA-256', async () => {
    for (const algorithm of ['md5', 'sha256']) {
      const run = await runTap(sim, { config: { signature_algorithm: algorithm }, args: ['--test'] });
      expect(run.code, run.stderr).toBe(0);
    }
    const md5Only = await startClassMarkerSimulator({ seed: 'errors-test', linkResults: 1, groupResults: 1, signatureAlgorithms: ['md5'] });
    try {
      expect((await runTap(md5Only, { config: { signature_algorithm: 'sha256' }, args: ['--test'] })).stderr).toMatch(/apiKeyAuthFail/);
      expect((await runTap(md5Only, { args: ['--test'] })).code).toBe(0);
    } finally {
      await md5Only.close();
    }
  });

  it('timeStampOutOfRange re-signs once with the server clock and goes on', async () => {
    const skewed = await startClassMarkerSimulator({ seed: 'errors-test', linkResults: 5, groupResults: 5, clockSkewSeconds: 900 });
    try {
      const run = await runTap(skewed, { config: { start_date: new Date(Date.now() - 86_400_000 * 80).toISOString() } });
      expect(run.code, run.stderr).toBe(0);
      expect(skewed.errorsSent).toEqual(['timeStampOutOfRange']);
      expect(run.records('link_results')).toHaveLength(5);
    } finally {
      await skewed.close();
    }
  });

  it('timeStampOutOfRange twice stops with a sentence about the clock', async () => {
    sim.faults.inject({ kind: 'respond', response: envelope('timeStampOutOfRange'), times: Number.POSITIVE_INFINITY });
    const run = await runTap(sim);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/timeStampOutOfRange.*sync it \(NTP\)/);
    expect(sim.requests.count()).toBe(2);
  });
});

describe('bad config', () => {
  it.each([
    [{ api_key: undefined }, /"api_key" is missing/],
    [{ signature_algorithm: 'sha1' }, /"signature_algorithm"/],
    [{ on_rate_limit: 'retry' }, /"on_rate_limit"/],
    [{ page_size: 500 }, /"page_size"/],
    [{ requests_per_hour: 31 }, /"requests_per_hour"/],
    [{ start_date: 'yesterday' }, /"start_date"/],
    [{ group_tests: [{ group_id: 'x' }] }, /"group_tests\.0\.group_id"/],
  ])('%j is refused naming the key (exit 3, no request sent)', async (override, named) => {
    const run = await runTap(sim, { config: override });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(named);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(sim.requests.count()).toBe(0);
  });

  it.each([
    ['a word', 'garbage', /that is not an ISO 8601 date-time: "garbage"/],
    ['epoch seconds', 1796000000, /that is not an ISO 8601 date-time: 1796000000/],
  ])(
    'a bookmark in --state that is %s stops the run with one sentence naming the state file (exit 3, no request sent)',
    async (_, value, named) => {
      const state = {
        bookmarks: { link_results: { partitions: [{ context: {}, replication_key: 'time_finished', replication_key_value: value }] } },
      };
      const run = await runTap(sim, { state });
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/^CRITICAL The state file \S+\.json holds a bookmark for stream link_results \(partition \{\}\) /m);
      expect(run.stderr).toMatch(named);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(sim.requests.count()).toBe(0);
    },
  );

  it('clamps a start_date older than three months with a WARNING naming how much cannot be read', async () => {
    const run = await runTap(sim, { config: { start_date: '2020-01-01T00:00:00Z' } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /WARN stream link_results: the start_date 2020-01-01T00:00:00Z is older than the API serves \(3 months back, less a margin of 1 day\); what falls in the \d+ days( \d+ hours?)? from then to \S+ can no longer be read and is skipped; starting at/,
    );
    expect(sim.errorsSent.filter((code) => code === 'finishedAfterTimestampTooEarly')).toEqual([]);
  });
});

describe('the three months ClassMarker serves', () => {
  /** Three calendar months before now, as the document's "the last 3 months" reads (UNIX seconds). */
  const threeMonthsAgo = () => {
    const date = new Date();
    date.setUTCMonth(date.getUTCMonth() - 3);
    return Math.floor(date.getTime() / 1000);
  };
  const stateAt = (seconds: number) => ({
    bookmarks: {
      link_results: {
        partitions: [{ context: {}, replication_key: 'time_finished', replication_key_value: new Date(seconds * 1000).toISOString() }],
      },
    },
  });

  it('reads from a bookmark up to three months (less a day) old as it is, without clamping it', async () => {
    const bookmark = threeMonthsAgo() + 86_400 + 3600; // e.g. 90 days old in December: past the old 88-day clamp
    const errorsBefore = sim.errorsSent.length;
    const run = await runTap(sim, { state: stateAt(bookmark) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/link_results.*older than the API serves/);
    // The two-day look-back before the bookmark reaches past what ClassMarker serves: it stops there.
    const sent = Number(sim.requests.to('links_recent_results')[0]!.query.finishedAfterTimestamp);
    expect(sent).toBeGreaterThanOrEqual(threeMonthsAgo() + 86_400 - 1 - 5);
    expect(sent).toBeLessThan(bookmark - 1);
    expect(sim.errorsSent.slice(errorsBefore)).toEqual([]);
  });

  it('clamps an older bookmark to three months less a day, with a WARNING naming the two days skipped', async () => {
    const errorsBefore = sim.errorsSent.length;
    const run = await runTap(sim, { state: stateAt(threeMonthsAgo() - 86_400) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /WARN stream link_results: the bookmark \S+ is older than the API serves \(3 months back, less a margin of 1 day\); what falls in the 2 days from then to \S+ can no longer be read and is skipped/,
    );
    const sent = Number(sim.requests.to('links_recent_results')[0]!.query.finishedAfterTimestamp);
    expect(sent).toBeGreaterThanOrEqual(threeMonthsAgo() + 86_400 - 1 - 5);
    expect(sim.errorsSent.slice(errorsBefore)).toEqual([]);
  });
});

describe('secrets', () => {
  it('never appear on stdout or stderr, even in errors', async () => {
    const ok = await runTap(sim, { args: ['--log-level', 'debug'] });
    sim.faults.inject({ kind: 'respond', response: envelope('apiKeyAuthFail'), times: 1 });
    const failed = await runTap(sim);
    for (const output of [ok.stdout, ok.stderr, failed.stdout, failed.stderr]) {
      expect(output).not.toContain(sim.config.api_secret);
      expect(output).not.toContain(sim.config.api_key);
      expect(output).not.toMatch(/signature=[0-9a-f]{32}/);
    }
  });
});
