// The Testpress simulator, over real HTTP: it must behave as testpress-api.md and docs/providers/testpress.md describe.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestpressSimulator, type TestpressSimulator, type TestpressSimulatorOptions } from '../simulator/index.js';

const ANCHOR = Date.UTC(2025, 5, 1, 12, 0, 0);
let clock = ANCHOR;
const running: TestpressSimulator[] = [];

async function start(options: TestpressSimulatorOptions = {}): Promise<TestpressSimulator> {
  clock = ANCHOR;
  const sim = await startTestpressSimulator({ seed: 42, now: () => clock, anchor: ANCHOR, exams: 8, attemptsPerExam: 12, ...options });
  running.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

async function login(sim: TestpressSimulator, username = sim.config.username, password = sim.config.password) {
  const response = await fetch(`${sim.baseUrl}/api/v2.1/auth-token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function token(sim: TestpressSimulator, account = sim.accounts.staff): Promise<string> {
  const { body } = await login(sim, account.username, account.password);
  return body.token as string;
}

async function get(sim: TestpressSimulator, pathOrUrl: string, jwt?: string) {
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${sim.baseUrl}${pathOrUrl}`;
  const response = await fetch(url, { headers: jwt ? { authorization: `JWT ${jwt}` } : {} });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

/** Follows `next` from the first page and returns every item and the pages seen. */
async function readAll(sim: TestpressSimulator, path: string, jwt: string) {
  const items: any[] = [];
  const pages: any[] = [];
  let url: string | null = path;
  while (url) {
    const page = await get(sim, url, jwt);
    expect(page.status).toBe(200);
    pages.push(page.body);
    items.push(...page.body.results);
    url = page.body.next;
  }
  return { items, pages };
}

describe('authentication', () => {
  it('issues a JWT for a username and password, with exp = issue time + TTL', async () => {
    const sim = await start({ tokenTtlSeconds: 120 });
    const { status, body } = await login(sim);
    expect(status).toBe(200);
    const parts = String(body.token).split('.');
    expect(parts).toHaveLength(3);
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    expect(payload).toMatchObject({ username: 'admin', exp: ANCHOR / 1000 + 120 });
  });

  it('answers bad credentials with 400 non_field_errors and missing fields by name', async () => {
    const sim = await start();
    expect(await login(sim, 'admin', 'wrong')).toEqual({
      status: 400,
      body: { non_field_errors: ['Unable to log in with provided credentials.'] },
    });
    expect(await login(sim, 'admin', '')).toEqual({ status: 400, body: { password: ['This field is required.'] } });
  });

  it('refuses a request without a token, with a Bearer prefix, or with a tampered token', async () => {
    const sim = await start();
    const jwt = await token(sim);
    expect((await get(sim, '/api/v2.1/exams/')).body).toEqual({ detail: 'Authentication credentials were not provided.' });
    const bearer = await fetch(`${sim.baseUrl}/api/v2.1/exams/`, { headers: { authorization: `Bearer ${jwt}` } });
    expect(bearer.status).toBe(401);
    const tampered = await get(sim, '/api/v2.1/exams/', `${jwt.slice(0, -4)}AAAA`);
    expect(tampered.status).toBe(401);
    expect(tampered.headers.get('www-authenticate')).toContain('JWT');
  });

  it('expires tokens after the TTL with 401 by default, or the 403 some deployments send', async () => {
    for (const expiredTokenStatus of [401, 403] as const) {
      const sim = await start({ tokenTtlSeconds: 60, expiredTokenStatus });
      const jwt = await token(sim);
      expect((await get(sim, '/api/v2.1/exams/', jwt)).status).toBe(200);
      clock += 61_000;
      const expired = await get(sim, '/api/v2.1/exams/', jwt);
      expect(expired).toMatchObject({ status: expiredTokenStatus, body: { detail: 'Signature has expired.' } });
      expect((await get(sim, '/api/v2.1/exams/', await token(sim))).status).toBe(200);
    }
  });
});

describe('exams', () => {
  it('pages through `next` (absolute URLs) with the count/next/previous/per_page/results envelope', async () => {
    const sim = await start({ exams: 25, perPage: 10 });
    const jwt = await token(sim);
    const { items, pages } = await readAll(sim, '/api/v2.1/exams/', jwt);
    expect(pages.map((page) => page.results.length)).toEqual([10, 10, 5]);
    expect(pages[0]).toMatchObject({ count: 25, previous: null, per_page: 10, next: `${sim.baseUrl}/api/v2.1/exams/?page=2` });
    expect(pages[2].next).toBeNull();
    expect(pages[2].previous).toBe(`${sim.baseUrl}/api/v2.1/exams/?page=2`);
    expect(new Set(items.map((exam) => exam.id)).size).toBe(25);
    expect((await get(sim, '/api/v2.1/exams/?page=4', jwt)).body).toEqual({ detail: 'Invalid page.' });
  });

  it('writes http:// links without the port when behind a TLS proxy', async () => {
    const sim = await start({ exams: 25, perPage: 10, behindTlsProxy: true });
    const page = (await get(sim, '/api/v2.1/exams/', await token(sim))).body;
    expect(page.next).toBe('http://127.0.0.1/api/v2.1/exams/?page=2');
    expect(page.results[0].attempts_url).toMatch(/^http:\/\/127\.0\.0\.1\/api\/v2\.1\/exams\/[^/]+\/attempts\/$/);
  });

  it('filters by course and state, and keeps the filters in `next`', async () => {
    const sim = await start({ exams: 30, perPage: 5 });
    const jwt = await token(sim);
    const states = await Promise.all(
      ['available', 'upcoming', 'history'].map(async (state) => (await readAll(sim, `/api/v2.1/exams/?state=${state}`, jwt)).items),
    );
    expect(states.reduce((sum, list) => sum + list.length, 0)).toBe(30);
    expect(states.every((list) => list.length > 0)).toBe(true);
    const upcoming = states[1]!;
    expect(upcoming.every((exam) => Date.parse(exam.start_date) > ANCHOR)).toBe(true);

    const course = sim.world.exams[0]!.course;
    const first = await get(sim, `/api/v2.1/exams/?course=${encodeURIComponent(course)}&state=available`, jwt);
    expect(first.body.results.every((exam: any) => exam.course === course)).toBe(true);
    if (first.body.next) expect(first.body.next).toContain('state=available');
    expect((await get(sim, '/api/v2.1/exams/?state=soon', jwt)).status).toBe(400);
  });

  it('writes the vendor formats: decimal strings, H:MM:SS durations, IST offsets and Z dates', async () => {
    const sim = await start();
    const exam = (await get(sim, '/api/v2.1/exams/', await token(sim))).body.results[0];
    expect(exam.negative_marks).toMatch(/^\d+\.\d{2}$/);
    expect(exam.mark_per_question).toMatch(/^\d+\.\d{2}$/);
    expect(exam.duration).toMatch(/^\d+:\d{2}:\d{2}$/);
    expect(exam.start_date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+05:30$/);
    expect(exam.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(exam.attempts_url).toBe(`${sim.baseUrl}/api/v2.1/exams/${exam.slug}/attempts/`);
  });
});

describe('attempts', () => {
  it('serves every attempt of an exam through its attempts_url, newest first, in mixed date styles', async () => {
    const sim = await start({ perPage: 5 });
    const jwt = await token(sim);
    const exam = sim.world.exams[0]!;
    const expected = sim.world.attempts.filter((attempt) => attempt.examId === exam.id);
    expect(expected.length).toBeGreaterThan(5);
    const { items } = await readAll(sim, `/api/v2.1/exams/${exam.slug}/attempts/`, jwt);
    expect(items.map((a) => a.id).sort()).toEqual(expected.map((a) => a.id).sort());
    const starts = items.map((a) => Date.parse(a.date));
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    for (const attempt of items) {
      expect(attempt.score).toMatch(/^-?\d+\.\d{2}$/);
      expect(typeof attempt.percentage).toBe('string');
      expect(attempt.time_taken).toMatch(/^\d+:\d{2}:\d{2}$/);
      expect(attempt.rank === 'NA' || Number.isInteger(attempt.rank)).toBe(true);
      expect(attempt.user).toMatchObject({ id: expect.any(Number), username: expect.any(String) });
    }
    const styles = new Set(sim.world.attempts.map((attempt) => attempt.dateStyle));
    expect(styles).toEqual(new Set(['utc-millis', 'utc-micros', 'ist-micros']));
  });

  it('answers 403 for an exam not available to the user, on its detail and its attempts', async () => {
    const sim = await start();
    const jwt = await token(sim);
    const restricted = sim.world.exams.find((exam) => !exam.availableToUser)!;
    expect(restricted).toBeDefined();
    for (const path of [`/api/v2.1/exams/${restricted.slug}/`, `/api/v2.1/exams/${restricted.slug}/attempts/`]) {
      expect(await get(sim, path, jwt)).toMatchObject({ status: 403, body: { detail: expect.stringContaining('permission') } });
    }
    expect((await get(sim, '/api/v2.1/exams/no-such-exam/attempts/', jwt)).status).toBe(404);
  });

  it('answers DRF’s 404 {"detail": "Not found."} for the attempts of an exam deleted since it was listed', async () => {
    const sim = await start();
    const jwt = await token(sim);
    const exam = sim.world.exams.find((e) => e.availableToUser)!;
    expect((await get(sim, `/api/v2.1/exams/${exam.slug}/attempts/`, jwt)).status).toBe(200);
    sim.deleteExam(exam.id);
    expect(await get(sim, `/api/v2.1/exams/${exam.slug}/attempts/`, jwt)).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
  });

  it('embeds the caller’s own attempts, with `user` as a username, in the exam detail', async () => {
    const sim = await start();
    const student = sim.accounts.student;
    const jwt = await token(sim, student);
    const own = sim.world.attempts.find(
      (attempt) => attempt.userId === student.user.id && sim.world.exams.find((e) => e.id === attempt.examId)?.availableToUser,
    );
    if (!own) return;
    const exam = sim.world.exams.find((e) => e.id === own.examId)!;
    const detail = await get(sim, `/api/v2.1/exams/${exam.slug}/`, jwt);
    expect(detail.body.attempts.length).toBeGreaterThan(0);
    expect(detail.body.attempts.every((attempt: any) => attempt.user === student.username)).toBe(true);
    const list = await readAll(sim, `/api/v2.1/exams/${exam.slug}/attempts/`, jwt);
    expect(list.items.every((attempt) => attempt.user.id === student.user.id)).toBe(true);
  });

  it('serves an exam’s detail at the documented `GET /api/v2.1/exams/<slug>` as well as with the trailing slash', async () => {
    const sim = await start();
    const jwt = await token(sim);
    const exam = sim.world.exams[0]!;
    const bare = await get(sim, `/api/v2.1/exams/${exam.slug}`, jwt);
    expect(bare.status).toBe(200);
    expect(bare.body).toEqual((await get(sim, `/api/v2.1/exams/${exam.slug}/`, jwt)).body);
    expect(bare.body).toMatchObject({ id: exam.id, slug: exam.slug, attempts: expect.any(Array) });
    expect((await get(sim, '/api/v2.1/exams/no-such-exam', jwt)).status).toBe(404);
  });

  it('finishes running attempts and adds new ones between runs', async () => {
    const sim = await start();
    const runningBefore = sim.world.attempts.filter((attempt) => attempt.state === 'Running');
    expect(runningBefore.length).toBeGreaterThan(0);
    clock += 3_600_000;
    const added = sim.advance(4);
    expect(added).toHaveLength(4);
    expect(runningBefore.every((attempt) => attempt.state === 'Completed')).toBe(true);
    const jwt = await token(sim);
    const exam = sim.world.exams.find((e) => e.id === added[0]!.examId)!;
    const { items } = await readAll(sim, `/api/v2.1/exams/${exam.slug}/attempts/`, jwt);
    expect(items.map((a) => a.id)).toContain(added[0]!.id);
  });
});

describe('admin attempts (v2.5)', () => {
  it('serves every attempt to staff, 200 per page, ordered by date, filtered by IST calendar days', async () => {
    const sim = await start({ exams: 20, attemptsPerExam: 15 });
    const jwt = await token(sim);
    const all = await readAll(sim, '/api/v2.5/admin/attempts/?ordering=date', jwt);
    expect(all.pages[0].per_page).toBe(200);
    expect(all.items).toHaveLength(sim.world.attempts.length);
    const dates = all.items.map((a) => Date.parse(a.date));
    expect(dates).toEqual([...dates].sort((a, b) => a - b));
    expect(all.items[0]).toMatchObject({ exam_id: expect.any(Number), user_id: expect.any(Number), percentage: expect.any(Number) });
    expect(all.items[0].date).toMatch(/\.\d{6}(Z|\+05:30)$/);

    // date_0 = 2025-05-20 starts at 2025-05-19T18:30:00Z (IST midnight).
    const since = await readAll(sim, '/api/v2.5/admin/attempts/?date_0=2025-05-20&ordering=date', jwt);
    const boundary = Date.UTC(2025, 4, 19, 18, 30);
    expect(since.items.every((a) => Date.parse(a.date) >= boundary)).toBe(true);
    expect(since.items).toHaveLength(sim.world.attempts.filter((a) => a.startMicros >= boundary * 1000).length);

    const exam = sim.world.exams[0]!;
    const byExam = await readAll(sim, `/api/v2.5/admin/attempts/?exams=${exam.id}&state=1`, jwt);
    expect(byExam.items.every((a) => a.exam_id === exam.id && a.state === 'Completed')).toBe(true);
  });

  it('refuses a student token with 403 and a malformed filter with 400', async () => {
    const sim = await start();
    expect((await get(sim, '/api/v2.5/admin/attempts/', await token(sim, sim.accounts.student))).status).toBe(403);
    const bad = await get(sim, '/api/v2.5/admin/attempts/?date_0=yesterday', await token(sim));
    expect(bad).toMatchObject({ status: 400, body: { date_0: ['Enter a valid date.'] } });
  });
});

describe('rate limits and faults', () => {
  it('throttles DRF style: 429, Retry-After and "Expected available in N seconds"', async () => {
    const sim = await start({ throttle: { requests: 3, perSeconds: 60 } });
    const jwt = await token(sim);
    await get(sim, '/api/v2.1/exams/', jwt);
    await get(sim, '/api/v2.1/exams/', jwt);
    const limited = await get(sim, '/api/v2.1/exams/', jwt);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(limited.body.detail).toBe('Request was throttled. Expected available in 60 seconds.');
    clock += 60_000;
    expect((await get(sim, '/api/v2.1/exams/', jwt)).status).toBe(200);
  });

  it('sends the same 429 body for the kit’s rate-limit fault, and logs unexpected paths', async () => {
    // The unexpected path is asked for on purpose.
    const sim = await start({ faults: [{ kind: 'rate-limit', route: 'exams', retryAfterSeconds: 7 }], unexpected: 'allow' });
    const jwt = await token(sim);
    expect((await get(sim, '/api/v2.1/exams/', jwt)).body.detail).toBe('Request was throttled. Expected available in 7 seconds.');
    expect((await get(sim, '/api/v2.1/exams', jwt)).status).toBe(404);
    expect(sim.requests.unexpected().map((r) => r.path)).toEqual(['/api/v2.1/exams']);
  });
});

describe('determinism', () => {
  it('serves the same data for the same seed and different data for another', async () => {
    const bodies = async (seed: number) => {
      const sim = await start({ seed });
      const jwt = await token(sim);
      const exams = (await readAll(sim, '/api/v2.1/exams/', jwt)).items;
      const attempts = (await readAll(sim, '/api/v2.5/admin/attempts/', jwt)).items;
      return JSON.stringify({ exams, attempts }).replaceAll(sim.baseUrl, 'BASE');
    };
    const first = await bodies(7);
    expect(await bodies(7)).toBe(first);
    expect(await bodies(8)).not.toBe(first);
  });
});

describe('variant modes', () => {
  it('--exam-attempts caller: an exam’s attempts list holds the logged-in account’s own attempts only, as documented', async () => {
    const sim = await start({ examAttemptsScope: 'caller' });
    const jwt = await token(sim);
    const exam = sim.world.exams.find((e) => e.availableToUser && sim.world.attempts.some((a) => a.examId === e.id))!;
    const { items } = await readAll(sim, `/api/v2.1/exams/${exam.slug}/attempts/`, jwt);
    expect(items).toEqual([]); // the staff account took no exam
    const admin = await readAll(sim, `/api/v2.5/admin/attempts/?exams=${exam.id}`, jwt);
    expect(admin.items.length).toBe(sim.world.attempts.filter((a) => a.examId === exam.id).length);
  });

  it('--resumed-share: completed attempts resumed 1–20 days after their date, ending in their last session', async () => {
    const sim = await start({ resumedShare: 1 });
    const resumed = sim.world.attempts.filter((a) => a.lastStartedMicros > a.startMicros);
    expect(resumed.length).toBeGreaterThan(0);
    for (const a of resumed) {
      expect(a.lastStartedMicros - a.startMicros).toBeGreaterThanOrEqual(86_400_000_000);
      expect(a.lastStartedMicros - a.startMicros).toBeLessThan(21 * 86_400_000_000);
      expect(a.endMicros! - a.lastStartedMicros).toBeLessThanOrEqual(a.timeTakenSeconds * 1_000_000);
    }
    const a = resumed[0]!;
    const { items } = await readAll(sim, `/api/v2.5/admin/attempts/?exams=${a.examId}`, await token(sim));
    const item = items.find((i) => i.id === a.id);
    expect(Date.parse(item.last_started_time)).toBe(Math.floor(a.lastStartedMicros / 1000));
    expect(Date.parse(item.last_answer_updated_time)).toBe(Math.floor(a.endMicros! / 1000));
  });

  it('--v21-fields-only: exams and attempts without the fields the current API adds', async () => {
    for (const v21FieldsOnly of [false, true]) {
      const sim = await start({ v21FieldsOnly });
      const jwt = await token(sim);
      const exam = (await get(sim, '/api/v2.1/exams/', jwt)).body.results[0];
      expect('total_marks' in exam).toBe(!v21FieldsOnly);
      const attempt = (await get(sim, exam.attempts_url, jwt)).body.results[0];
      if (attempt) expect('remaining_attempts' in attempt).toBe(!v21FieldsOnly);
    }
  });
});
