// The ClassMarker simulator answers like the ClassMarker v1 document and docs/providers/classmarker.md say.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClassMarkerSimulator, type ClassMarkerSimulatorOptions, startClassMarkerSimulator } from '../simulator/index.js';

let sim: ClassMarkerSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: ClassMarkerSimulatorOptions = {}): Promise<ClassMarkerSimulator> {
  sim = await startClassMarkerSimulator({ seed: 'sim-test', ...options });
  return sim;
}

function signed(s: ClassMarkerSimulator, algorithm: 'md5' | 'sha256' = 'sha256', timestamp = s.now()): string {
  const { api_key, api_secret } = s.config;
  const signature = createHash(algorithm).update(`${api_key}${api_secret}${timestamp}`).digest('hex');
  return `api_key=${api_key}&signature=${signature}&timestamp=${timestamp}`;
}

type Envelope = Record<string, any>;
async function get(s: ClassMarkerSimulator, path: string, query = '', auth = signed(s)): Promise<Envelope> {
  const res = await fetch(`${s.baseUrl}${path}?${auth}${query ? `&${query}` : ''}`);
  expect(res.status).toBe(200); // ClassMarker answers HTTP 200 even for API errors [doc]
  return (await res.json()) as Envelope;
}
const errorCode = (envelope: Envelope) => (envelope.status === 'error' ? envelope.error.error_code : envelope.status);

describe('default data set', () => {
  it('holds at least 2,000 link results and 500 group results from the last three months, with ties at page edges', async () => {
    const s = await start();
    const threeMonthsAgo = s.now() - 89 * 86_400;
    expect(s.data.linkResults.length).toBeGreaterThanOrEqual(2000);
    expect(s.data.groupResults.length).toBeGreaterThanOrEqual(500);
    for (const { result } of [...s.data.linkResults, ...s.data.groupResults]) expect(result.time_finished).toBeGreaterThan(threeMonthsAgo);

    // A tie sits across the 200th result: the first page ends before its second, as the document promises.
    const page = await get(s, '/v1/links/recent_results.json', `finishedAfterTimestamp=${threeMonthsAgo}`);
    expect(page.num_results_returned).toBeLessThan(200);
    expect(page.more_results_exist).toBe(true);
    const edge = page.next_finished_after_timestamp as number;
    const atEdge = s.data.linkResults.filter((e) => e.result.time_finished === edge).length;
    expect((page.results as Envelope[]).filter((r) => r.result.time_finished === edge)).toHaveLength(atEdge);
  });

  it('keeps the document’s promise: following next_finished_after_timestamp reads every result once, across same-second ties', async () => {
    const s = await start({ linkResults: 600, groupResults: 5 });
    let after = s.now() - 89 * 86_400;
    const ids: number[] = [];
    for (;;) {
      const page = await get(s, '/v1/links/recent_results.json', `finishedAfterTimestamp=${after}&limit=50`);
      if (page.status === 'no_results') break;
      ids.push(...(page.results as Envelope[]).map((r) => r.result.link_result_id as number));
      if (!page.more_results_exist) break;
      after = page.next_finished_after_timestamp;
    }
    expect(ids.sort()).toEqual(s.data.linkResults.map((e) => e.result.link_result_id).sort());
  });

  it('holds a second bigger than limit on one page, rather than split it', async () => {
    const s = await start({ linkResults: 30, groupResults: 5 });
    const tie = s.data.linkResults[5]!.result.time_finished;
    for (const e of s.data.linkResults.slice(5, 20)) e.result.time_finished = tie;
    const first = await get(s, '/v1/links/recent_results.json', `finishedAfterTimestamp=${s.now() - 89 * 86_400}&limit=10`);
    expect(first.num_results_returned).toBe(5);
    const second = await get(s, '/v1/links/recent_results.json', `finishedAfterTimestamp=${first.next_finished_after_timestamp}&limit=10`);
    expect(second).toMatchObject({ num_results_returned: 15, next_finished_after_timestamp: tie, more_results_exist: true });
  });

  it('can cut a page inside a second (--split-seconds-at-page-edge), the hazard taps must survive', async () => {
    const s = await start({ splitSecondsAtPageEdge: true });
    const page = await get(s, '/v1/links/recent_results.json', `finishedAfterTimestamp=${s.now() - 89 * 86_400}`);
    expect(page.num_results_returned).toBe(200);
    const edge = page.next_finished_after_timestamp as number;
    const atEdge = s.data.linkResults.filter((e) => e.result.time_finished === edge).length;
    const onPage = (page.results as Envelope[]).filter((r) => r.result.time_finished === edge).length;
    expect(atEdge).toBeGreaterThan(onPage); // the edge second continues past the page
  });

  it('is the same for the same seed and anchor', async () => {
    const a = await startClassMarkerSimulator({ seed: 7, anchor: 1_800_000_000, linkResults: 50, groupResults: 20 });
    const b = await startClassMarkerSimulator({ seed: 7, anchor: 1_800_000_000, linkResults: 50, groupResults: 20 });
    expect(a.data.linkResults).toEqual(b.data.linkResults);
    expect(a.config.api_key).toBe(b.config.api_key);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('recent results', () => {
  it('returns the documented envelope with wrapped items, strictly after finishedAfterTimestamp, oldest first', async () => {
    const s = await start({ linkResults: 30, groupResults: 30 });
    const after = s.data.groupResults[9]!.result.time_finished;
    const page = await get(s, '/v1/groups/recent_results.json', `finishedAfterTimestamp=${after}&limit=5`);
    expect(page).toMatchObject({
      status: 'ok',
      request_path: 'v1/groups/recent_results',
      finished_after_timestamp_used: after,
      num_results_returned: 5,
      more_results_exist: true,
    });
    expect(page.server_timestamp).toBe(s.now());
    const results = (page.results as Envelope[]).map((r) => r.result);
    expect(results.every((r) => r.time_finished > after)).toBe(true);
    expect(results.map((r) => r.time_finished)).toEqual([...results.map((r) => r.time_finished)].sort((x, y) => x - y));
    expect(page.num_results_available).toBe(s.data.groupResults.filter((e) => e.result.time_finished > after).length);
    expect(page.next_finished_after_timestamp).toBe(results[4].time_finished);
    expect(page.groups[0].group).toEqual({ group_id: expect.any(Number), group_name: expect.any(String) });
    expect(page.tests[0].test).toEqual({ test_id: expect.any(Number), test_name: expect.any(String) });
  });

  it('answers no_results with only status, request_path, server_timestamp and finished_after_timestamp_used', async () => {
    const s = await start({ linkResults: 5, groupResults: 5 });
    const envelope = await get(s, '/v1/links/recent_results.json', `finishedAfterTimestamp=${s.now()}`);
    expect(envelope).toEqual({
      status: 'no_results',
      request_path: 'v1/links/recent_results',
      server_timestamp: s.now(),
      finished_after_timestamp_used: s.now(),
    });
  });

  it('serves one group/test and one link/test pair', async () => {
    const s = await start({ linkResults: 100, groupResults: 100 });
    const group = s.data.groups[0]!;
    const page = await get(
      s,
      `/v1/groups/${group.group_id}/tests/${group.test_ids[0]}/recent_results.json`,
      `finishedAfterTimestamp=${s.now() - 80 * 86_400}`,
    );
    expect(page.request_path).toBe(`v1/groups/${group.group_id}/tests/${group.test_ids[0]}/recent_results`);
    for (const r of page.results ?? []) expect(r.result).toMatchObject({ group_id: group.group_id, test_id: group.test_ids[0] });
    const link = s.data.links[0]!;
    const linkPage = await get(
      s,
      `/v1/links/${link.link_id}/tests/${link.test_ids[0]}/recent_results.json`,
      `finishedAfterTimestamp=${s.now() - 80 * 86_400}`,
    );
    for (const r of linkPage.results ?? []) expect(r.result).toMatchObject({ link_id: link.link_id, test_id: link.test_ids[0] });
    expect(errorCode(await get(s, '/v1/groups/1/tests/2/recent_results.json'))).toBe('apiKeyNoGroupPermission');
    expect(errorCode(await get(s, '/v1/links/abc/tests/2/recent_results.json'))).toBe('incorrectUrlId');
  });

  it('re-sends a re-opened result with a later time_finished and the same identity', async () => {
    const s = await start({ linkResults: 20, groupResults: 20 });
    const before = new Map(s.data.linkResults.map((e) => [e.result.link_result_id, e.result.time_finished]));
    s.reopenResults('link', 2);
    const moved = s.data.linkResults.filter((e) => e.result.time_finished === s.now());
    expect(moved).toHaveLength(2);
    for (const e of moved) expect(before.get(e.result.link_result_id)).toBeLessThan(s.now());
    expect(s.data.linkResults).toHaveLength(20);
  });

  it('sends link_url_id and view_results_url only when switched on, as the document has them off by default', async () => {
    const since = `finishedAfterTimestamp=${Math.floor(Date.now() / 1000) - 80 * 86_400}`;
    const plain = await start({ linkResults: 5, groupResults: 5 });
    const links = (await get(plain, '/v1.json')).links as Envelope[];
    expect(links.every((l) => !('link_url_id' in l.link))).toBe(true);
    const page = await get(plain, '/v1/links/recent_results.json', since);
    expect(page.results.every((r: Envelope) => !('view_results_url' in r.result))).toBe(true);
    expect(page.links.every((l: Envelope) => !('link_url_id' in l.link))).toBe(true);
    await plain.close();

    const full = await start({ linkResults: 5, groupResults: 5, linkUrlId: true, viewResultsUrl: true });
    expect(((await get(full, '/v1.json')).links as Envelope[]).every((l) => typeof l.link.link_url_id === 'string')).toBe(true);
    const fullPage = await get(full, '/v1/groups/recent_results.json', since);
    expect(fullPage.results.every((r: Envelope) => r.result.view_results_url.startsWith('https://'))).toBe(true);
  });

  it('can send the string-typed form of the 2012 sample', async () => {
    const s = await start({ linkResults: 5, groupResults: 5, numbersAsStrings: true });
    const page = await get(s, '/v1/groups/recent_results.json', `finishedAfterTimestamp=${s.now() - 89 * 86_400}`);
    expect(page.results[0].result).toMatchObject({
      user_id: expect.any(String),
      percentage: expect.any(String),
      time_finished: expect.any(String),
    });
    expect(page.num_results_returned).toBe(5);
  });
});

describe('XML', () => {
  it('has no per-item wrappers and writes false as an empty element', async () => {
    const s = await start({ linkResults: 3, groupResults: 3 });
    const res = await fetch(`${s.baseUrl}/v1/links/recent_results.xml?${signed(s)}&finishedAfterTimestamp=${s.now() - 89 * 86_400}`);
    const xml = await res.text();
    expect(xml).toMatch(/^<response><status>ok<\/status>/);
    expect(xml).toContain('<results><result><link_result_id>');
    expect(xml).toContain('<more_results_exist></more_results_exist>');
    expect(xml.match(/<result>/g)).toHaveLength(3);
    expect(xml).not.toContain('<result><result>');
  });
});

describe('authentication', () => {
  it('accepts MD5 and SHA-256 signatures in lowercase hex', async () => {
    const s = await start({ linkResults: 1, groupResults: 1 });
    expect((await get(s, '/v1.json', '', signed(s, 'md5'))).status).toBe('ok');
    expect((await get(s, '/v1.json', '', signed(s, 'sha256'))).status).toBe('ok');
    const upper = signed(s).replace(/signature=([0-9a-f]+)/, (_m, hex: string) => `signature=${hex.toUpperCase()}`);
    expect(errorCode(await get(s, '/v1.json', '', upper))).toBe('apiKeyAuthFail');
  });

  it('answers every documented auth and account error', async () => {
    const s = await start({ linkResults: 1, groupResults: 1 });
    const wrongSecret = signed({ ...s, config: { ...s.config, api_secret: 'nope' } } as ClassMarkerSimulator);
    expect(errorCode(await get(s, '/v1.json', '', wrongSecret))).toBe('apiKeyAuthFail');
    expect(errorCode(await get(s, '/v1.json', '', signed(s, 'sha256', s.now() - 301)))).toBe('timeStampOutOfRange');
    expect(errorCode(await get(s, '/v1.json', '', signed(s, 'sha256', s.now() * 1000)))).toBe('timeStampOutOfRange');
    expect(errorCode(await get(s, '/v1.json', '', signed(s).replace(/api_key=\w+/, 'api_key=unknown')))).toBe('noApiKeyExists');
    s.account.keyState = 'inactive';
    expect(errorCode(await get(s, '/v1.json'))).toBe('apiKeyInactive');
    s.account.keyState = 'deleted';
    expect(errorCode(await get(s, '/v1.json'))).toBe('noApiKeyExists');
    Object.assign(s.account, { keyState: 'active', upgraded: false });
    expect(errorCode(await get(s, '/v1.json'))).toBe('accountNotUpgraded');
    Object.assign(s.account, { upgraded: true, maintenance: true });
    expect(errorCode(await get(s, '/v1.json'))).toBe('offlineMaintenance');
  });

  it('rejects bad parameters and URLs with their codes', async () => {
    // Wrong versions and paths are asked for on purpose.
    const s = await start({ linkResults: 1, groupResults: 1, unexpected: 'allow' });
    expect(errorCode(await get(s, '/v1/links/recent_results.json', `finishedAfterTimestamp=${s.now() - 100 * 86_400}`))).toBe(
      'finishedAfterTimestampTooEarly',
    );
    expect(errorCode(await get(s, '/v1/links/recent_results.json', 'limit=201'))).toBe('requestParamValidationError');
    expect(errorCode(await get(s, '/v1/links/recent_results.json', 'limit=0'))).toBe('requestParamValidationError');
    expect(errorCode(await get(s, '/v1/links/recent_results.json', 'limit=ten'))).toBe('requestParamValidationError');
    expect(errorCode(await get(s, '/v2/links/recent_results.json'))).toBe('incorrectUrlVersionNumber');
    expect(errorCode(await get(s, '/v1/nothing.json'))).toBe('incorrectUrl');
    expect(errorCode(await get(s, '/v1/accesslists/123400.json'))).toBe('incorrectRequestMethod');
  });

  it('can send HTTP error statuses with the same envelope', async () => {
    const s = await start({ linkResults: 1, groupResults: 1, errorHttpStatus: true });
    const res = await fetch(`${s.baseUrl}/v1.json?${signed(s).replace(/api_key=\w+/, 'api_key=x')}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as Envelope).error.error_code).toBe('noApiKeyExists');
  });
});

describe('hourly limit', () => {
  it('allows N requests per key per hour, then answers rateLimitExceeded with next_request_after', async () => {
    const s = await start({ linkResults: 1, groupResults: 1, rateLimitPerHour: 3 });
    const started = s.now();
    for (let i = 0; i < 3; i++) expect((await get(s, '/v1.json')).status).toBe('ok');
    const limited = await get(s, '/v1/links/recent_results.json', `finishedAfterTimestamp=${started - 86_400}`);
    expect(limited).toMatchObject({
      status: 'error',
      request_path: 'v1/links/recent_results',
      finished_after_timestamp_used: started - 86_400,
      error: { error_code: 'rateLimitExceeded' },
    });
    expect(limited.error.next_request_after).toBeGreaterThanOrEqual(started + 3600);
    expect(limited.error.next_request_after).toBeLessThanOrEqual(s.now() + 3600);
  });

  it('does not count access-code writes', async () => {
    const s = await start({ linkResults: 1, groupResults: 1, rateLimitPerHour: 1 });
    const list = s.data.accessLists[0]!;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${s.baseUrl}/v1/accesslists/${list.access_list_id}.json?${signed(s)}`, {
        method: 'POST',
        body: JSON.stringify([`c${i}`]),
      });
      expect(((await res.json()) as Envelope).status).toBe('ok');
    }
    expect((await get(s, '/v1.json')).status).toBe('ok');
    expect(errorCode(await get(s, '/v1.json'))).toBe('rateLimitExceeded');
  });
});

describe('access lists', () => {
  it('adds and removes codes, at most 100 per request', async () => {
    const s = await start({ linkResults: 1, groupResults: 1 });
    const list = s.data.accessLists[0]!;
    const total = list.codes.size;
    const send = async (method: string, body: string) =>
      (await (await fetch(`${s.baseUrl}/v1/accesslists/${list.access_list_id}.json?${signed(s)}`, { method, body })).json()) as Envelope;
    expect(await send('POST', JSON.stringify(['A1', 'A2', 'A2']))).toMatchObject({
      status: 'ok',
      request_path: `v1/accesslists/${list.access_list_id}`,
      access_lists: { access_list: { access_list_id: list.access_list_id, num_codes_added: 2, num_codes_total: total + 2 } },
    });
    expect((await send('DELETE', JSON.stringify(['A1', 'missing']))).access_lists.access_list).toMatchObject({
      num_codes_deleted: 1,
      num_codes_total: total + 1,
    });
    expect(errorCode(await send('POST', JSON.stringify(Array.from({ length: 101 }, (_, i) => `c${i}`))))).toBe('payloadValidationError');
    expect(errorCode(await send('POST', '["unterminated'))).toBe('invalidJson');
  });
});

describe('variant modes', () => {
  const since = (s: ClassMarkerSimulator) => `finishedAfterTimestamp=${s.now() - 89 * 86_400}`;

  it('--legacy-payload: ids, percentages and times as strings, without status, passed, percentage_passmark or certificate fields', async () => {
    const s = await start({ linkResults: 10, groupResults: 10, legacyPayload: true, viewResultsUrl: true });
    const page = await get(s, '/v1/groups/recent_results.json', since(s));
    const result = (page.results as Envelope[])[0]!.result;
    expect(result).toMatchObject({
      user_id: expect.any(String),
      test_id: expect.any(String),
      percentage: expect.any(String),
      time_finished: expect.any(String),
    });
    for (const field of [
      'status',
      'passed',
      'percentage_passmark',
      'give_certificate_only_when_passed',
      'certificate_url',
      'certificate_serial',
      'view_results_url',
    ])
      expect(result).not.toHaveProperty(field);
  });

  it('--null-names and --blank-emails: some results without first or last name, group results with "" or spaces as e-mail', async () => {
    const s = await start({ linkResults: 200, groupResults: 200, nullNames: true, blankEmails: true });
    const page = await get(s, '/v1/groups/recent_results.json', since(s));
    const results = (page.results as Envelope[]).map((r) => r.result);
    expect(results.some((r) => r.first === null || r.last === null)).toBe(true);
    expect(results.some((r) => r.email === '' || r.email === ' ')).toBe(true);
  });

  it('grade-pending and edit-points (runtime controls) change scores but never time_finished', async () => {
    const s = await start({ linkResults: 50, groupResults: 50, awaitingGrading: 3 });
    const before = new Map(s.data.linkResults.map((e) => [e.result.link_result_id, { ...e.result }]));
    expect(s.data.linkResults.filter((e) => e.result.requires_grading === 'Yes')).toHaveLength(3);
    const control = async (action: string, args: object) =>
      (await fetch(`${s.baseUrl}/__simulator/actions/${action}`, { method: 'POST', body: JSON.stringify(args) })).status;
    expect(await control('grade-pending', { kind: 'link' })).toBe(200);
    expect(await control('edit-points', { kind: 'link', count: 5, within_seconds: 30 * 86_400 })).toBe(200);
    const changed = s.data.linkResults.filter((e) => e.result.points_scored !== before.get(e.result.link_result_id)!.points_scored);
    expect(changed.length).toBe(5); // the 3 graded (a new score each), edited again with 2 more
    expect(s.data.linkResults.filter((e) => e.result.requires_grading === 'Yes')).toHaveLength(0);
    for (const { result } of s.data.linkResults) expect(result.time_finished).toBe(before.get(result.link_result_id)!.time_finished);
  });
});
