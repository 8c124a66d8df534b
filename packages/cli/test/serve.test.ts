// `tapline serve`: ClassMarker and Testpress deliveries over real sockets on 127.0.0.1, checked,
// acknowledged only once stored, and loaded once each into a real DuckDB file and PostgreSQL.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { buildModel } from '../src/model/index.js';
import { parseProject } from '../src/project.js';
import { type RunningServer, startServer } from '../src/serve/index.js';
import { duckdbRows, PG_URL, tempDir } from './helpers.js';
import { CM_SECRET, cmGroupBody, cmHeaders, cmLinkBody, post, TP_PRIVATE, TP_PUBLIC, tpBody } from './webhook-payloads.js';

interface Target {
  type: 'duckdb' | 'postgres';
  config: Record<string, unknown>;
  /** Put before each receiver's schema name, so parallel runs do not collide. */
  prefix: string;
  /** Rows of `schema.table` (DuckDB: read after the server stopped, as it has one writer). */
  rows: (table: string, order: string) => Promise<Record<string, unknown>[]>;
  sql: (query: string) => Promise<Record<string, unknown>[]>;
  done: () => Promise<void>;
}

let logLines: string[] = [];
const log = createLogger('json', (line) => logLines.push(line));

const warehouses: { name: string; target: (dir: string) => Promise<Target> }[] = [
  {
    name: 'DuckDB',
    target: async (dir) => {
      const file = path.join(dir, 'w.duckdb');
      return {
        type: 'duckdb',
        config: { path: file },
        prefix: '',
        rows: (table, order) => duckdbRows(file, `SELECT * FROM ${table} ORDER BY ${order}`),
        sql: (query) => duckdbRows(file, query),
        done: async () => {},
      };
    },
  },
  {
    name: 'PostgreSQL',
    target: async () => {
      const prefix = `serve_${process.pid}_${Math.random().toString(36).slice(2, 8)}_`;
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      return {
        type: 'postgres',
        config: { connection_string: PG_URL },
        prefix,
        rows: async (table, order) => {
          const [schema, name] = table.split('.');
          return (await client.query(`SELECT * FROM "${prefix}${schema}"."${name}" ORDER BY ${order}`)).rows as Record<string, unknown>[];
        },
        sql: async (query) => (await client.query(query)).rows as Record<string, unknown>[],
        done: async () => {
          for (const schema of ['model', 'classmarker', 'testpress'])
            await client.query(`DROP SCHEMA IF EXISTS "${prefix}${schema}" CASCADE`);
          await client.end();
        },
      };
    },
  },
];

describe.each(warehouses)('tapline serve into $name', (warehouse) => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let target: Target;
  let server: RunningServer;
  let start: (replayChunk?: number) => Promise<RunningServer>;
  let stopped = false;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    logLines = [];
    target = await warehouse.target(dir);
    const schemaPrefix = target.prefix;
    const project = parseProject(
      {
        targets: { wh: { type: target.type, config: target.config } },
        receivers: {
          cm: { type: 'classmarker', secret: '${CM_SECRET}', target: 'wh', schema: `${schemaPrefix}classmarker` },
          tp: { type: 'testpress', secret: '${TP_PRIVATE}', public_key: TP_PUBLIC, target: 'wh', schema: `${schemaPrefix}testpress` },
        },
      },
      path.join(dir, 'tapline.yml'),
      { CM_SECRET, TP_PRIVATE },
    );
    start = (replayChunk) =>
      startServer({
        replayChunk,
        project,
        file: path.join(dir, 'tapline.yml'),
        cwd: dir,
        port: 0,
        host: '127.0.0.1',
        log,
        env: { CM_SECRET, TP_PRIVATE },
      });
    server = await start();
    stopped = false;
  });

  afterEach(async () => {
    if (!stopped) await server.stop();
    await target.done();
    await cleanup();
  });

  /** Stops the server, which loads everything its inboxes hold before it returns. */
  async function loaded(): Promise<void> {
    await server.stop();
    stopped = true;
  }

  const rows = (table: string, order: string) => target.rows(table, order);

  it('loads a signed ClassMarker group result, its questions and category results', async () => {
    const body = cmGroupBody();
    expect(await post(server.receivers.cm!, body, cmHeaders(body))).toBe(200);
    await loaded();
    const [result] = await rows('classmarker.group_results', 'user_id');
    expect([result!.user_id, result!.test_id, result!.group_id].map(Number)).toEqual([319118, 1234, 77]);
    expect(result).toMatchObject({ test_name: 'Safety 101', first: 'Mary', status: 'f', duration: '00:10:00' });
    expect(Number(result!.percentage)).toBe(75);
    expect(new Date(String(result!.time_finished)).getTime()).toBe(1765000600_000);
    const questions = await rows('classmarker.question_responses', 'question_id');
    expect(questions.map((q) => [Number(q.question_id), q.result, q.user_response])).toEqual([
      [501, 'correct', 'A'],
      [502, 'partial_correct', 'Because'],
    ]);
    expect(questions[0]!.result_id).toBe('group:319118:1234:77:1765000000');
    expect(JSON.parse(String(questions[0]!.options_json))).toEqual({ A: { content: 'yes' }, B: { content: 'no' } });
    const categories = await rows('classmarker.category_results', 'category_id');
    expect(categories).toHaveLength(1);
    expect([Number(categories[0]!.category_id), categories[0]!.name]).toEqual([9, 'General']);
    // The unified model: each question joins its attempt in exam_results by source_key.
    const modelSchema = `${target.prefix}model`;
    await buildModel({
      kind: target.type,
      config: target.config,
      cwd: dir,
      schema: modelSchema,
      providerSchemas: { classmarker: `${target.prefix}classmarker`, testpress: `${target.prefix}testpress` },
    });
    const joined = await target.sql(
      `SELECT q.question_id, q.result, q.score, e.candidate_id FROM "${modelSchema}".question_results q JOIN "${modelSchema}".exam_results e USING (provider, source_key) ORDER BY q.position`,
    );
    expect(joined.map((r) => [r.question_id, r.result, Number(r.score), r.candidate_id])).toEqual([
      ['501', 'correct', 10, '319118'],
      ['502', 'partial_correct', 20, '319118'],
    ]);
  });

  it('reads link results in the API names the polling tap uses', async () => {
    const body = cmLinkBody(22455);
    expect(await post(server.receivers.cm!, body, cmHeaders(body))).toBe(200);
    await loaded();
    const [result] = await rows('classmarker.link_results', 'link_result_id');
    expect([result!.link_result_id, result!.link_id].map(Number)).toEqual([22455, 38676]);
    expect(result).toMatchObject({ access_code: 'abc123', extra_info: 'Sales/Ops', email: null, last: null });
  });

  it('refuses a wrong or missing signature, and one over a re-serialised body, storing nothing', async () => {
    const body = cmGroupBody();
    expect(await post(server.receivers.cm!, body, cmHeaders(body, 'not-the-secret'))).toBe(401);
    expect(await post(server.receivers.cm!, body, { 'content-type': 'application/json' })).toBe(401);
    // The vendor signs `\/` as sent; JSON.stringify(JSON.parse(body)) writes `/`: a different body.
    const reserialised = JSON.stringify(JSON.parse(body));
    expect(reserialised).not.toBe(body);
    expect(await post(server.receivers.cm!, body, cmHeaders(reserialised))).toBe(401);
    expect(await inboxEntries(dir, 'cm')).toBe(0);
    await loaded();
    expect(await tableRows('classmarker.group_results')).toBe(0);
    const text = logLines.join('\n');
    expect(text).toContain('does not match the body');
    expect(text).not.toContain(CM_SECRET);
    expect(text).not.toContain('Mary');
  });

  it('takes the first signature of a header a proxy joined as sig,sig', async () => {
    const body = cmGroupBody();
    const signature = cmHeaders(body)['x-classmarker-hmac-sha256']!;
    expect(
      await post(server.receivers.cm!, body, {
        'content-type': 'application/json',
        'x-classmarker-hmac-sha256': `${signature},${signature}`,
      }),
    ).toBe(200);
    expect(
      await post(server.receivers.cm!, body, { 'content-type': 'application/json', 'x-classmarker-hmac-sha256': `bm90LWl0,${signature}` }),
    ).toBe(401);
  });

  it('acknowledges a "verify" sample without loading it', async () => {
    const body = cmGroupBody({ status: 'verify' });
    expect(await post(server.receivers.cm!, body, cmHeaders(body))).toBe(200);
    expect(await inboxEntries(dir, 'cm')).toBe(0);
    await loaded();
    expect(await tableRows('classmarker.group_results')).toBe(0);
  });

  it('lands duplicates once; a re-opened exam updates its row and a late retry of the old one does not undo it', async () => {
    const first = cmGroupBody({ time_finished: 1765000600, percentage: 50 });
    const reopened = cmGroupBody({ time_finished: 1765009999, percentage: 80 });
    for (const body of [first, first, reopened, first]) expect(await post(server.receivers.cm!, body, cmHeaders(body))).toBe(200);
    await waitLoaded(server, 'cm', 4);
    for (const body of [first, cmLinkBody(1), cmLinkBody(1)]) expect(await post(server.receivers.cm!, body, cmHeaders(body))).toBe(200);
    await loaded();
    const results = await rows('classmarker.group_results', 'user_id');
    expect(results).toHaveLength(1);
    expect(Number(results[0]!.percentage)).toBe(80);
    expect(await tableRows('classmarker.link_results')).toBe(1);
    expect(await tableRows('classmarker.question_responses')).toBe(2);
  });

  it('loads Testpress attempts, current and all-strings payloads alike; a late "started" never undoes "completed"', async () => {
    for (const body of [tpBody(130, 'started'), tpBody(130, 'completed'), tpBody(131, 'completed', { strings: true })]) {
      expect(await post(server.receivers.tp!, body)).toBe(200);
    }
    await waitLoaded(server, 'tp', 3);
    expect(await post(server.receivers.tp!, tpBody(130, 'started'))).toBe(200);
    await loaded();
    const attempts = await rows('testpress.attempts', 'id');
    expect(attempts.map((a) => [Number(a.id), Number(a.exam_id), a.state, Number(a.correct_count), Number(a.user_id)])).toEqual([
      [130, 27, 'Completed', 4, 2],
      [131, 27, 'Completed', 4, 2],
    ]);
    expect(Number(attempts[0]!.percentage)).toBe(80);
    const subjects = await rows('testpress.attempt_subject_stats', 'attempt_id');
    expect(subjects.map((s) => [Number(s.attempt_id), s.subject_name, Number(s.correct_answers_count)])).toEqual([
      [130, 'Quantitative', 4],
      [131, 'Quantitative', 4],
    ]);
  });

  it('refuses a Testpress payload with a wrong hash or another institute key', async () => {
    expect(await post(server.receivers.tp!, tpBody(5, 'completed', { privateKey: 'wrong' }))).toBe(401);
    const otherKey = JSON.parse(tpBody(5, 'completed')) as Record<string, unknown>;
    otherKey.key = 'someone-else';
    expect(await post(server.receivers.tp!, JSON.stringify(otherKey))).toBe(401);
    expect(await post(server.receivers.tp!, '{"attempt_id": 5')).toBe(400);
    expect(await inboxEntries(dir, 'tp')).toBe(0);
    expect(logLines.join('\n')).not.toContain(TP_PRIVATE);
  });

  it('answers unknown receivers, oversize and malformed bodies with a clear 4xx, and reports health', async () => {
    const base = server.url;
    expect(await post(`${base}/hooks/nobody`, '{}')).toBe(404);
    const huge = 'x'.repeat(2 * 2 ** 20);
    expect(await post(server.receivers.cm!, huge, cmHeaders(huge))).toBe(413);
    const notJson = 'payload_type=x';
    expect(await post(server.receivers.cm!, notJson, cmHeaders(notJson))).toBe(400);
    const health = (await (await fetch(`${base}/healthz`)).json()) as {
      receivers: Record<string, Record<string, number>>;
      refused: Record<string, number>;
    };
    expect(health.receivers.cm).toMatchObject({ accepted: 0, malformed: 1 });
    expect(health.refused).toEqual({ unknown_receiver: 1, too_large: 1 });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('acknowledges a signed delivery that does not read, sets it aside with the reason, and loads it once it reads', async () => {
    const unreadable = (id: number) => cmLinkBody(id).replace(/"requires_grading":"No",/, '');
    expect(unreadable(9001)).not.toContain('requires_grading');
    const good = cmLinkBody(9002);
    for (const body of [unreadable(9001), good, unreadable(9003)])
      expect(await post(server.receivers.cm!, body, cmHeaders(body))).toBe(200);
    await waitLoaded(server, 'cm', 3);
    expect((await health(server)).drains.cm).toMatchObject({ loaded: 3, rejected: 2, last_error: null });
    await loaded();
    expect((await rows('classmarker.link_results', 'link_result_id')).map((r) => Number(r.link_result_id))).toEqual([9002]);
    const rejects = await rows('classmarker._tapline_webhook_rejects', 'reject_id');
    expect(rejects.map((r) => r.body).sort()).toEqual([unreadable(9001), unreadable(9003)]);
    for (const reject of rejects) {
      expect(reject.replayed_at).toBeNull();
      expect(reject.reason).toMatch(/requires_grading/);
    }
    expect(logLines.join('\n')).not.toContain('Mary');
    // What a fixed mapping would read: one stored body made readable; the next start loads it.
    const table = `"${target.prefix}classmarker"._tapline_webhook_rejects`;
    const fixed = rejects.find((r) => r.body === unreadable(9001))!;
    const stillUnreadable = rejects.find((r) => r.body === unreadable(9003))!;
    await target.sql(`UPDATE ${table} SET body = '${cmLinkBody(9001).replace(/'/g, "''")}' WHERE reject_id = '${fixed.reject_id}'`);
    // One reject per query: the table is read in reject_id order, chunk after chunk, each row once.
    server = await start(1);
    stopped = false;
    await waitReplayDone(server, 'cm');
    expect((await health(server)).drains.cm).toMatchObject({ replayed: 1, rejected: 0, replay: 'done', last_error: null });
    expect(logLines.join('\n')).toContain('1 of 2 set-aside deliveries read now and were loaded');
    await loaded();
    expect((await rows('classmarker.link_results', 'link_result_id')).map((r) => Number(r.link_result_id))).toEqual([9001, 9002]);
    const after = await rows('classmarker._tapline_webhook_rejects', 'reject_id');
    expect(after.find((r) => r.reject_id === fixed.reject_id)).toMatchObject({ reason: fixed.reason, replayed_at: expect.anything() });
    expect(after.find((r) => r.reject_id === stillUnreadable.reject_id)).toEqual(stillUnreadable); // untouched
    // The next start reads only the reject still not replayed, and counts it nowhere.
    logLines = [];
    server = await start(1);
    stopped = false;
    await waitReplayDone(server, 'cm');
    expect((await health(server)).drains.cm).toMatchObject({ loaded: 0, replayed: 0, rejected: 0, replay: 'done' });
    expect(logLines.join('\n')).toContain('0 of 1 set-aside deliveries read now and were loaded');
  });

  async function tableRows(table: string): Promise<number> {
    try {
      return (await rows(table, '1')).length;
    } catch {
      return 0; // never created: nothing was loaded
    }
  }
});

async function inboxEntries(dir: string, receiver: string): Promise<number> {
  const folder = path.join(dir, '.tapline', 'inbox', receiver);
  let lines = 0;
  for (const name of (await readdir(folder)).filter((n) => n.endsWith('.jsonl')))
    lines += (await readFile(path.join(folder, name), 'utf8')).split('\n').filter(Boolean).length;
  return lines;
}

async function health(server: RunningServer): Promise<{ drains: Record<string, Record<string, unknown>> }> {
  return (await (await fetch(`${server.url}/healthz`)).json()) as { drains: Record<string, Record<string, unknown>> };
}

async function waitReplayDone(server: RunningServer, receiver: string): Promise<void> {
  const until = Date.now() + 20_000;
  while (!server.drainers[receiver]!.replayDone) {
    if (Date.now() > until) throw new Error(`receiver ${receiver}: ${server.drainers[receiver]!.lastError ?? 'replay not done'}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitLoaded(server: RunningServer, receiver: string, deliveries: number): Promise<void> {
  const until = Date.now() + 20_000;
  while (server.drainers[receiver]!.loaded < deliveries) {
    if (Date.now() > until)
      throw new Error(
        `receiver ${receiver}: ${server.drainers[receiver]!.loaded} of ${deliveries} loaded (${server.drainers[receiver]!.lastError ?? 'no error'})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
