// tap-testpress against its simulator over real HTTP: syncs, token refresh, forbidden exams, both attempt sources, config, discovery.

import { jsonFile, lastState, recordsOf, runTap } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestpressSimulator, type TestpressSimulator, type TestpressSimulatorOptions } from '../simulator/index.js';
import { tap } from '../src/index.js';

const running: TestpressSimulator[] = [];
/**
 * The simulator's config with the per-exam source, whose behaviours (403 and 404 per exam, paging an
 * exam's list) most tests here check; tests of the default (admin) source say so.
 */
const examSource = (sim: TestpressSimulator) => ({ ...sim.config, attempts_source: 'exam' });
async function start(options: TestpressSimulatorOptions = {}): Promise<TestpressSimulator> {
  const sim = await startTestpressSimulator({ seed: 5, exams: 12, attemptsPerExam: 15, perPage: 10, ...options });
  running.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

/** Attempt ids a user who may see every available exam's attempts should land. */
function visibleAttemptIds(sim: TestpressSimulator): number[] {
  const open = new Set(sim.world.exams.filter((e) => e.availableToUser).map((e) => e.id));
  return sim.world.attempts
    .filter((a) => open.has(a.examId))
    .map((a) => a.id)
    .sort((a, b) => a - b);
}
/** Requests an exam's attempts take with 10 a page: its pages, or the one 403 of a forbidden exam. */
function attemptRequests(sim: TestpressSimulator, exam: TestpressSimulator['world']['exams'][number]): number {
  if (!exam.availableToUser) return 1;
  return Math.max(1, Math.ceil(sim.world.attempts.filter((a) => a.examId === exam.id).length / 10));
}
const ids = (records: Array<Record<string, any>>) => [...new Set(records.map((r) => r.id as number))].sort((a, b) => a - b);
const discover = async () => JSON.parse((await runTap(tap, ['--discover'])).stdout) as { streams: Array<Record<string, any>> };
/** The discovered catalog with only `exams` selected. */
function examsOnly(catalog: { streams: Array<Record<string, any>> }) {
  for (const entry of catalog.streams) {
    for (const item of entry.metadata) if (item.breadcrumb.length === 0) item.metadata.selected = entry.stream === 'exams';
  }
  return catalog;
}

describe('full sync', () => {
  it('lands every exam and every attempt of each available exam, in exact and normalised types', async () => {
    const sim = await start();
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(run.code).toBe(0);
    expect(ids(recordsOf(run, 'exams'))).toEqual(sim.world.exams.map((e) => e.id));
    const attempts = recordsOf(run, 'attempts');
    expect(ids(attempts)).toEqual(visibleAttemptIds(sim));
    for (const attempt of attempts) {
      expect(attempt.date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/);
      expect(attempt.score).toMatch(/^-?\d+\.\d{2}$/);
      expect(typeof attempt.time_taken_seconds).toBe('number');
      expect(attempt.rank === null || Number.isInteger(attempt.rank)).toBe(true);
      expect(attempt.exam_id).toBe(sim.world.attempts.find((a) => a.id === attempt.id)!.examId);
    }
    // An IST date and a microsecond date land as the same instant the simulator holds.
    for (const held of sim.world.attempts.filter((a) => a.dateStyle === 'ist-micros').slice(0, 3)) {
      const landed = attempts.find((a) => a.id === held.id);
      if (landed) expect(Date.parse(landed.date)).toBe(Math.floor(held.startMicros / 1000));
    }
    expect(sim.requests.count('auth_token')).toBe(1);
    expect(sim.requests.unexpected()).toEqual([]);
  });

  it('logs and skips an exam that answers 403, and goes on', async () => {
    const sim = await start();
    const restricted = sim.world.exams.filter((e) => !e.availableToUser);
    expect(restricted.length).toBeGreaterThan(0);
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(run.code).toBe(0);
    for (const exam of restricted) expect(run.stderr).toContain(`/exams/${exam.slug}/attempts/: skipped: this exam is not available`);
  });

  it('logs and skips an exam deleted after the exams list named it (its attempts answer 404 "Not found."), naming the exam, and goes on', async () => {
    const sim = await start(); // 12 exams, 10 a page: both exams pages are read before the last exams' attempts
    const gone = sim.world.exams
      .slice(10)
      .filter((e) => e.availableToUser)
      .at(-1)!;
    expect(gone).toBeDefined();
    // Deleted just as its attempts are first asked for, after every exam before it took its requests.
    const after = sim.world.exams.slice(0, sim.world.exams.indexOf(gone)).reduce((n, exam) => n + attemptRequests(sim, exam), 0);
    sim.faults.inject({ kind: 'act', route: 'exam_attempts', after, action: 'delete-exam', args: { exam_id: gone.id } });
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(run.code, run.stderr).toBe(0);
    expect(sim.faults.pending()).toEqual([]);
    expect(run.stderr).toContain(
      `GET /api/v2.1/exams/${gone.slug}/attempts/: skipped: exam ${gone.id} no longer exists (HTTP 404: Not found.)`,
    );
    expect(ids(recordsOf(run, 'attempts'))).toEqual(visibleAttemptIds(sim)); // every remaining exam's, whole
  });

  it('reads the same attempts through the admin API, filtered by start day', async () => {
    const sim = await start();
    const run = await runTap(tap, ['--config', jsonFile({ ...examSource(sim), attempts_source: 'admin' })]);
    expect(run.code).toBe(0);
    // Staff see restricted exams' attempts through the admin API too.
    expect(ids(recordsOf(run, 'attempts'))).toEqual(sim.world.attempts.map((a) => a.id).sort((a, b) => a - b));
    expect(sim.requests.count('exam_attempts')).toBe(0);
    // The admin API sends microsecond durations ("2:47:53.076906"): they land as exact seconds.
    const fractional = recordsOf(run, 'attempts').find((a) => /\.\d+$/.test(a.time_taken));
    expect(fractional, 'the simulator sends some fractional durations').toBeDefined();
    const [h, m, sec] = fractional.time_taken.split(':');
    expect(String(fractional.time_taken_seconds)).toBe(
      `${Number(h) * 3600 + Number(m) * 60 + Number(sec.split('.')[0])}.${sec.split('.')[1].replace(/0+$/, '')}`,
    );
    const second = await runTap(tap, [
      '--config',
      jsonFile({ ...examSource(sim), attempts_source: 'admin' }),
      '--state',
      jsonFile(lastState(run)),
    ]);
    expect(sim.requests.to('admin_attempts').slice(-1)[0]!.query.date_0).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(recordsOf(second, 'attempts').length).toBeLessThan(recordsOf(run, 'attempts').length);
  });
});

describe('exams: ACTIVATE_VERSION only after a whole listing', () => {
  const activations = (run: { messages: Array<Record<string, any>> }) => run.messages.filter((m) => m.type === 'ACTIVATE_VERSION');

  it('is sent after the exams listing when its pages hold the count they report', async () => {
    const sim = await start();
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(activations(run)).toEqual([{ type: 'ACTIVATE_VERSION', stream: 'exams', version: expect.any(Number) }]);
  });

  it('is not sent when an exam deleted mid-run shifts a live exam off the pages read, and a warning says why; the next run sends it', async () => {
    const sim = await start(); // 12 exams, 10 per page
    const [deleted] = sim.world.exams;
    const slid = sim.world.exams[10]!; // first on page 2 until an exam before it goes
    // When the third exam's attempts are first asked for (the first two exams are done), the first exam is deleted.
    const attemptPages = (exam: { id: number }) =>
      Math.max(1, Math.ceil(sim.world.attempts.filter((a) => a.examId === exam.id).length / 10));
    const after = attemptPages(sim.world.exams[0]!) + attemptPages(sim.world.exams[1]!);
    sim.faults.inject({ kind: 'act', route: 'exam_attempts', after, action: 'delete-exam', args: { exam_id: deleted!.id } });
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(run.code, run.stderr).toBe(6);
    expect(sim.faults.pending()).toEqual([]);
    expect(ids(recordsOf(run, 'exams'))).not.toContain(slid.id);
    expect(activations(run)).toEqual([]);
    expect(run.stderr).toMatch(
      /WARN stream exams: the listing's total changed from 12 to 11 while it was read, so its pages shifted; ACTIVATE_VERSION is not sent this run/,
    );

    const next = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(ids(recordsOf(next, 'exams'))).toEqual(sim.world.exams.map((e) => e.id));
    expect(activations(next)).toHaveLength(1);
  });
  it('is not sent when the exams listing shrinks before its last page ("Invalid page."); the run goes on and the next one reads it whole', async () => {
    const sim = await start({ perPage: 11 }); // 12 exams: the second page holds one until an exam is deleted
    sim.faults.inject({ kind: 'act', route: 'exams', after: 1, action: 'delete-exam', args: { exam_id: sim.world.exams[0]!.id } });
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(run.code, run.stderr).toBe(6);
    expect(sim.faults.pending()).toEqual([]);
    expect(run.stderr).toContain('WARN stream exams: the listing stopped at a skipped response after 1 page');
    expect(activations(run)).toEqual([]);

    const next = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(ids(recordsOf(next, 'exams'))).toEqual(sim.world.exams.map((e) => e.id));
    expect(activations(next)).toHaveLength(1);
  });
});

describe('next links', () => {
  it('reads every page behind a TLS proxy, whose links say http:// and drop the port, on the configured scheme and port', async () => {
    const sim = await start({ behindTlsProxy: true });
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(run.code, run.stderr).toBe(0);
    expect(ids(recordsOf(run, 'exams'))).toEqual(sim.world.exams.map((e) => e.id));
    expect(ids(recordsOf(run, 'attempts'))).toEqual(visibleAttemptIds(sim));
    expect(sim.requests.to('exams').map((r) => r.query.page ?? '1')).toEqual(['1', '2']);
  });

  it('refuses a next link to another host: exit 3 naming both hosts, and the token never goes there', async () => {
    const sim = await start();
    const elsewhere = await start();
    // The first exams page as the simulator serves it, with its next link moved to another host.
    const login = await fetch(`${sim.baseUrl}/api/v2.1/auth-token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: sim.config.username, password: sim.config.password }),
    });
    const token = ((await login.json()) as { token: string }).token;
    const page = (await (await fetch(`${sim.baseUrl}/api/v2.1/exams/`, { headers: { authorization: `JWT ${token}` } })).json()) as Record<
      string,
      unknown
    >;
    page.next = `http://localhost:${elsewhere.port}/api/v2.1/exams/?page=2`;
    sim.faults.inject({ kind: 'respond', route: 'exams', response: { body: page } });
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim)), '--catalog', jsonFile(examsOnly(await discover()))]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/CRITICAL GET \/api\/v2\.1\/exams\/: the next-page link points to localhost, not to 127\.0\.0\.1/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(elsewhere.requests.count()).toBe(0);
  });
});

describe('candidate names', () => {
  /** "first last" of each attempt's user, as the simulator holds them. */
  const heldName = (sim: TestpressSimulator, attemptId: number) => {
    const user = sim.world.users.find((u) => u.id === sim.world.attempts.find((a) => a.id === attemptId)!.userId)!;
    return `${user.first_name} ${user.last_name}`;
  };

  for (const source of ['exam', 'admin'] as const) {
    it(`keeps the candidate's name on every attempt read from the ${source} source`, async () => {
      const sim = await start();
      const run = await runTap(tap, ['--config', jsonFile({ ...examSource(sim), attempts_source: source })]);
      expect(run.code).toBe(0);
      const attempts = recordsOf(run, 'attempts');
      expect(attempts.length).toBeGreaterThan(0);
      for (const attempt of attempts) expect(attempt.name).toBe(heldName(sim, attempt.id));
    });
  }
});

describe('rate limits', () => {
  it('waits out a DRF throttle (429, Retry-After: 1) and completes with every record', async () => {
    const sim = await start({ faults: [{ kind: 'rate-limit', route: 'exam_attempts', retryAfterSeconds: 1, after: 2, times: 2 }] });
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(run.code).toBe(0);
    expect(sim.faults.pending()).toEqual([]);
    expect(run.stderr).toMatch(/HTTP 429.*waiting 1s/);
    expect(ids(recordsOf(run, 'exams'))).toEqual(sim.world.exams.map((e) => e.id));
    expect(ids(recordsOf(run, 'attempts'))).toEqual(visibleAttemptIds(sim));
  });

  it('reads the wait from the detail when a 429 has no Retry-After ("Expected available in N seconds", as Testpress’s SDK does)', async () => {
    const throttled = { status: 429, body: { detail: 'Request was throttled. Expected available in 1 seconds.' } };
    const sim = await start({ faults: [{ kind: 'respond', route: 'exams', response: throttled }] });
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/Testpress throttled the request.*waiting 1s/);
    expect(ids(recordsOf(run, 'attempts'))).toEqual(visibleAttemptIds(sim));
  });
});

describe('incremental sync', () => {
  it('a second run brings new attempts, and attempts running last time arrive completed', async () => {
    const sim = await start();
    const first = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    const runningIds = sim.world.attempts.filter((a) => a.state === 'Running').map((a) => a.id);
    expect(runningIds.length).toBeGreaterThan(0);
    const added = sim.advance(5).filter((a) => sim.world.exams.find((e) => e.id === a.examId)!.availableToUser);
    const second = await runTap(tap, ['--config', jsonFile(examSource(sim)), '--state', jsonFile(lastState(first))]);
    expect(second.code).toBe(0);
    const sent = recordsOf(second, 'attempts');
    for (const attempt of added) expect(sent.map((a) => a.id)).toContain(attempt.id);
    for (const id of runningIds) expect(sent.find((a) => a.id === id)?.state).toBe('Completed');
    expect(sent.length).toBeLessThan(recordsOf(first, 'attempts').length / 2);
    const state = lastState(second) as any;
    expect(state.bookmarks.attempts.partitions[0].context).toEqual({ exam_id: expect.any(Number) });
  });

  for (const source of ['exam', 'admin'] as const) {
    it(`an attempt still Running days later is re-read until it arrives Completed (${source} source)`, async () => {
      const DAY_MS = 86_400_000;
      const sim = await start({ anchor: Date.now() - 10 * DAY_MS });
      const config = jsonFile({ ...examSource(sim), attempts_source: source });
      const running = sim.world.attempts.find((a) => a.state === 'Running' && a.examId === sim.world.exams[0]!.id)!;
      const first = await runTap(tap, ['--config', config]);
      expect(recordsOf(first, 'attempts').find((a) => a.id === running.id)?.state).toBe('Running');

      // Three days on the candidate has not come back, and someone else has taken the same exam since.
      const since = {
        ...running,
        id: sim.world.nextAttemptId++,
        state: 'Completed' as const,
        startMicros: running.startMicros + 3 * DAY_MS * 1000,
      };
      sim.world.attempts.push(since);
      const second = await runTap(tap, ['--config', config, '--state', jsonFile(lastState(first))]);
      expect(second.code, second.stderr).toBe(0);
      expect(ids(recordsOf(second, 'attempts'))).toContain(since.id);

      // A week after starting, the candidate resumes and finishes (as in testpress-api.md's sample attempts).
      running.state = 'Completed';
      const third = await runTap(tap, ['--config', config, '--state', jsonFile(lastState(second))]);
      expect(third.code, third.stderr).toBe(0);
      expect(recordsOf(third, 'attempts').find((a) => a.id === running.id)?.state).toBe('Completed');
      // Finished, it no longer holds the exam's bookmark back.
      const bookmark = (lastState(third) as any).bookmarks.attempts.partitions.find((p: any) => p.context.exam_id === running.examId);
      expect(Date.parse(bookmark.replication_key_value)).toBe(Math.floor(since.startMicros / 1000));
    });
  }

  it('a second run stops paging each exam’s newest-first attempts once past the look-back', async () => {
    const sim = await start({ attemptsPerExam: 60, perPage: 10 });
    const first = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    const firstPages = sim.requests.count('exam_attempts');
    sim.advance(3);
    const second = await runTap(tap, ['--config', jsonFile(examSource(sim)), '--state', jsonFile(lastState(first))]);
    expect(second.code).toBe(0);
    const secondPages = sim.requests.count('exam_attempts') - firstPages;
    expect(secondPages).toBeLessThan(firstPages / 2);
    // Nothing the first run saw is lost by stopping early: together the runs hold every visible attempt.
    const seen = new Set([...recordsOf(first, 'attempts'), ...recordsOf(second, 'attempts')].map((a) => a.id));
    expect([...seen].sort((a, b) => a - b)).toEqual(visibleAttemptIds(sim));
  });

  it('an exam that turns forbidden while its attempts are paged gets no bookmark past the pages not read, so the next run reads them', async () => {
    const sim = await start();
    const exam = sim.world.exams.find((e) => e.availableToUser && attemptRequests(sim, e) > 1)!;
    expect(exam).toBeDefined();
    const before = sim.world.exams.slice(0, sim.world.exams.indexOf(exam)).reduce((n, e) => n + attemptRequests(sim, e), 0);
    const forbidden = { status: 403, body: { detail: 'You do not have permission to perform this action.' } };
    sim.faults.inject({ kind: 'respond', route: 'exam_attempts', after: before + 1, response: forbidden });
    const cut = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(cut.code, cut.stderr).toBe(6);
    expect(cut.stderr).toContain(
      `WARN stream attempts (partition {"exam_id":${exam.id}}): the listing stopped at a skipped response after 1 page`,
    );
    const partitions = (lastState(cut) as any).bookmarks.attempts.partitions;
    expect(partitions.find((p: any) => p.context.exam_id === exam.id)).toBeUndefined(); // newest first: the unread page is older
    const second = await runTap(tap, ['--config', jsonFile(examSource(sim)), '--state', jsonFile(lastState(cut))]);
    const own = (run: typeof cut) => ids(recordsOf(run, 'attempts').filter((a) => a.exam_id === exam.id));
    expect(own(second)).toEqual(
      sim.world.attempts
        .filter((a) => a.examId === exam.id)
        .map((a) => a.id)
        .sort((a, b) => a - b),
    );
    expect(own(second).length).toBeGreaterThan(own(cut).length);
  });

  it('an exam whose attempts shrink while paged (its next page is "Invalid page.") keeps its bookmark, so the next run reads them', async () => {
    const sim = await start();
    const exam = sim.world.exams.find((e) => e.availableToUser && attemptRequests(sim, e) > 1)!;
    const before = sim.world.exams.slice(0, sim.world.exams.indexOf(exam)).reduce((n, e) => n + attemptRequests(sim, e), 0);
    const invalidPage = { status: 404, body: { detail: 'Invalid page.' } };
    sim.faults.inject({ kind: 'respond', route: 'exam_attempts', after: before + 1, response: invalidPage });
    const cut = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(cut.code, cut.stderr).toBe(6);
    expect(cut.stderr).toContain(
      'skipped at page 2 (1 page was read before it): page 2 of the listing no longer exists (HTTP 404: Invalid page.)',
    );
    expect(cut.stderr).toContain(
      `WARN stream attempts (partition {"exam_id":${exam.id}}): the listing stopped at a skipped response after 1 page`,
    );
    const partitions = (lastState(cut) as any).bookmarks.attempts.partitions;
    expect(partitions.find((p: any) => p.context.exam_id === exam.id)).toBeUndefined();
    const second = await runTap(tap, ['--config', jsonFile(examSource(sim)), '--state', jsonFile(lastState(cut))]);
    const own = (run: typeof cut) => ids(recordsOf(run, 'attempts').filter((a) => a.exam_id === exam.id));
    expect(own(second)).toEqual(
      sim.world.attempts
        .filter((a) => a.examId === exam.id)
        .map((a) => a.id)
        .sort((a, b) => a - b),
    );
  });

  it('an attempt deleted between two pages of an exam slides the next one onto the page already read: the bookmark stays, so the next run reads it', async () => {
    const sim = await start();
    const exam = sim.world.exams.find((e) => e.availableToUser && attemptRequests(sim, e) > 1)!;
    const before = sim.world.exams.slice(0, sim.world.exams.indexOf(exam)).reduce((n, e) => n + attemptRequests(sim, e), 0);
    const newestFirst = sim.world.attempts.filter((a) => a.examId === exam.id).sort((a, b) => b.startMicros - a.startMicros || b.id - a.id);
    const slid = newestFirst[10]!; // first on page 2 until an attempt on page 1 goes
    // Just before the exam's second page is served, an admin deletes its newest attempt.
    sim.faults.inject({
      kind: 'act',
      route: 'exam_attempts',
      after: before + 1,
      action: 'delete-attempt',
      args: { attempt_id: newestFirst[0]!.id },
    });
    const first = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(first.code, first.stderr).toBe(6);
    expect(sim.faults.pending()).toEqual([]);
    expect(ids(recordsOf(first, 'attempts'))).not.toContain(slid.id);
    expect(first.stderr).toContain(
      `WARN stream attempts (partition {"exam_id":${exam.id}}): the listing's total went down from ${newestFirst.length} to ${newestFirst.length - 1} between two pages`,
    );
    const partitions = (lastState(first) as any).bookmarks.attempts.partitions;
    expect(partitions.find((p: any) => p.context.exam_id === exam.id)).toBeUndefined();

    const second = await runTap(tap, ['--config', jsonFile(examSource(sim)), '--state', jsonFile(lastState(first))]);
    expect(ids(recordsOf(second, 'attempts'))).toContain(slid.id);
  });

  it('"Invalid page." on a first page is not a shrunk listing: the run stops, sending the user to the base URL', async () => {
    const sim = await start({
      faults: [{ kind: 'respond', route: 'exams', response: { status: 404, body: { detail: 'Invalid page.' } } }],
    });
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(run.code).toBe(3);
    expect(run.messages.filter((m) => m.type === 'ACTIVATE_VERSION')).toEqual([]);
  });

  it('resumes an interrupted run from its last state with no attempt lost', async () => {
    const sim = await start();
    // A 400 fails at once (no retries), standing in for a run killed part-way.
    sim.faults.inject({ kind: 'status', status: 400, route: 'exam_attempts', after: 5 });
    const interrupted = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(interrupted.code).not.toBe(0);
    sim.faults.clear();
    const resumed = await runTap(tap, ['--config', jsonFile(examSource(sim)), '--state', jsonFile(lastState(interrupted))]);
    expect(resumed.code).toBe(0);
    expect(ids([...recordsOf(interrupted, 'attempts'), ...recordsOf(resumed, 'attempts')])).toEqual(visibleAttemptIds(sim));
  });
});

describe('authentication', () => {
  for (const status of [401, 403] as const) {
    it(`re-authenticates once when a token is refused mid-run with ${status} and finishes`, async () => {
      const sim = await start();
      sim.faults.inject({
        kind: 'respond',
        route: 'exam_attempts',
        after: 3,
        response: { status, body: { detail: 'Signature has expired.' } },
      });
      const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
      expect(run.code).toBe(0);
      expect(sim.requests.count('auth_token')).toBe(2);
      expect(ids(recordsOf(run, 'attempts'))).toEqual(visibleAttemptIds(sim));
    });
  }

  it('fails with exit 3 when the fresh token is refused too', async () => {
    const sim = await start();
    sim.faults.inject({ kind: 'respond', route: 'exams', times: 5, response: { status: 401, body: { detail: 'Signature has expired.' } } });
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(run.code).toBe(3);
    expect(sim.requests.count('auth_token')).toBe(2);
    expect(run.stderr).toMatch(/CRITICAL .*username and password/);
  });

  it('stops with exit 3 on a wrong password, and never prints the password or a token', async () => {
    const sim = await start();
    const run = await runTap(tap, ['--config', jsonFile({ ...examSource(sim), password: 'wrong-password-123' })]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/CRITICAL .*Testpress refused the username or password/);
    expect(run.stderr + run.stdout).not.toContain('wrong-password-123');
    const ok = await runTap(tap, ['--config', jsonFile(examSource(sim)), '--log-level', 'debug']);
    expect(ok.stderr + ok.stdout).not.toContain(sim.config.password);
    expect(ok.stderr + ok.stdout).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  });

  it('needs a staff account for the admin source, and says so', async () => {
    const sim = await start();
    const student = sim.accounts.student;
    const run = await runTap(tap, [
      '--config',
      jsonFile({ ...examSource(sim), username: student.username, password: student.password, attempts_source: 'admin' }),
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('needs a staff account');
  });
});

describe('not found', () => {
  it('a 404 on the exams list itself stops the run with exit 3 and a sentence blaming the config: it is no exam to skip', async () => {
    const sim = await start({ faults: [{ kind: 'respond', route: 'exams', response: { status: 404, body: { detail: 'Not found.' } } }] });
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim))]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /CRITICAL GET \/api\/v2\.1\/exams\/ failed: the resource was not found \(HTTP 404: "Not found\."\)\. Check the base URL/,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(recordsOf(run, 'exams')).toEqual([]);
  });

  it('so does a base_url whose path is wrong (Django’s HTML 404 page)', async () => {
    const sim = await start({ unexpected: 'allow' }); // the wrong path is asked for on purpose
    const run = await runTap(tap, ['--config', jsonFile({ ...examSource(sim), base_url: `${sim.baseUrl}/wrong` })]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /CRITICAL POST \/wrong\/api\/v2\.1\/auth-token\/ failed: the resource was not found \(HTTP 404\)\. Check the base URL/,
    );
  });
});

describe('config, discovery and selection', () => {
  it('refuses a config without base_url or password, naming the keys', async () => {
    const run = await runTap(tap, ['--config', jsonFile({ username: 'admin' })]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('base_url');
    expect(run.stderr).toContain('password');
  });

  it('stops with one sentence naming the state file when a bookmark is not a date-time (exit 3, no stack trace)', async () => {
    const sim = await start();
    const state = {
      bookmarks: {
        attempts: {
          partitions: [{ context: { exam_id: sim.world.exams[0]!.id }, replication_key: 'date', replication_key_value: 'garbage' }],
        },
      },
    };
    const stateFile = jsonFile(state);
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim)), '--state', stateFile]);
    expect(run.code).toBe(3);
    expect(run.stderr.trim()).toBe(
      `CRITICAL The state file ${stateFile} holds a bookmark for stream attempts (partition {"exam_id":${sim.world.exams[0]!.id}}) that is not an ISO 8601 date-time: "garbage"; correct it, or remove it to read that stream from start_date again.`,
    );
    expect(sim.requests.count()).toBe(0);
  });

  it('passes the course and state filters to the exams list', async () => {
    const sim = await start();
    const course = sim.world.exams[0]!.course;
    const run = await runTap(tap, ['--config', jsonFile({ ...examSource(sim), course, exam_state: 'available' })]);
    expect(run.code).toBe(0);
    expect(recordsOf(run, 'exams').every((e) => e.course === course)).toBe(true);
    expect(sim.requests.to('exams')[0]!.query).toMatchObject({ course, state: 'available' });
  });

  it('discovers exams (key id) and attempts (key id, incremental on date), and syncs only what is selected', async () => {
    const sim = await start();
    const catalog = JSON.parse((await runTap(tap, ['--discover'])).stdout);
    const byName = Object.fromEntries(catalog.streams.map((s: any) => [s.stream, s]));
    expect(byName.exams.key_properties).toEqual(['id']);
    expect(byName.attempts.key_properties).toEqual(['id']);
    for (const entry of catalog.streams) {
      for (const item of entry.metadata) if (item.breadcrumb.length === 0) item.metadata.selected = entry.stream === 'exams';
    }
    const run = await runTap(tap, ['--config', jsonFile(examSource(sim)), '--catalog', jsonFile(catalog)]);
    expect(recordsOf(run, 'attempts')).toEqual([]);
    expect(recordsOf(run, 'exams')).toHaveLength(sim.world.exams.length);
    expect(sim.requests.count('exam_attempts')).toBe(0);
  });
});
