// tap-onlineexammaker against every answer variant of its simulator, over real HTTP and into both targets:
// the every-candidate answer with and without `status`, `passed` in each spelling, `tid`, all-string values.

import {
  duckdbWarehouse,
  jsonFile,
  landSync,
  landTwoSyncs,
  perTest,
  postgresWarehouse,
  recordsOf,
  runTap,
  type Warehouse,
} from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { type OemResult, type OemSimulator, type OemVariant, startOemSimulator, tidOf } from '../simulator/index.js';
import { tap } from '../src/index.js';

const startSimulator = perTest(afterEach, startOemSimulator, (sim) => sim.close());
const duckdb = perTest(afterEach, duckdbWarehouse, (warehouse) => warehouse.drop());
const postgres = perTest(afterEach, postgresWarehouse, (warehouse) => warehouse.drop());

/** Every answer variant the simulator serves (legacy API unless `api` says v1). */
const VARIANTS: Record<string, { variant: Partial<OemVariant>; api?: 'v1' }> = {
  'document (sid, name; no status)': { variant: {} },
  'with status': { variant: { status: true } },
  'passed as boolean': { variant: { passed: 'boolean' } },
  'passed as 1/0': { variant: { passed: 'number' } },
  'passed as "1"/"0"': { variant: { passed: 'string' } },
  'passed as "true"/"false"': { variant: { passed: 'text' } },
  'with tid': { variant: { tid: true } },
  'a real deployment (status, passed boolean, tid)': { variant: { status: true, passed: 'boolean', tid: true } },
  'every value a string, with status, passed and tid': { variant: { status: true, passed: 'string', tid: true, strings: true } },
  'v1 API with tid': { variant: { tid: true }, api: 'v1' },
};

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const STATUS_MEANING = ['in progress', 'submitted', 'timed out', 'forced by admin', 'submitted by system'];

/** What one result should land as, given what the variant sends. */
function expected(r: OemResult, variant: OemVariant, v1: boolean) {
  const sendsStatus = v1 || variant.status;
  return {
    key: `${r.eid}|${r.sid}|${iso(r.startTime)}`,
    endTime: r.endTime === 0 ? null : iso(r.endTime),
    score: Number(r.score),
    status: sendsStatus ? r.status : null,
    status_meaning: sendsStatus ? STATUS_MEANING[r.status] : null,
    passed: v1 || variant.passed !== 'absent' ? r.passed === 1 : null,
    tid: variant.tid ? String(tidOf(r)) : null,
  };
}

/** The same from a record the tap sent, or a row a target landed (snake-cased columns). */
function actual(r: Record<string, any>) {
  const at = (camel: string, snake: string) => (camel in r ? r[camel] : r[snake]);
  const time = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string).toISOString());
  const bool = (value: unknown) =>
    value === null || value === undefined ? null : value === true || value === 1 || value === '1' || value === 'true';
  return {
    key: `${r.eid}|${r.sid}|${time(at('startTime', 'start_time'))}`,
    endTime: time(at('endTime', 'end_time')),
    score: Number(r.score),
    status: r.status === null || r.status === undefined ? null : Number(r.status),
    status_meaning: at('status_meaning', 'status_meaning') ?? null,
    passed: bool(r.passed),
    tid: r.tid ?? null,
  };
}

const byKey = (list: { key: string }[]) => [...list].sort((a, b) => a.key.localeCompare(b.key));

async function start(variant: Partial<OemVariant>) {
  return startSimulator({ seed: 17, exams: 3, resultsPerExam: 12, variant });
}

describe('the simulator’s variants', () => {
  it('serves the every-candidate answer with the fields and spellings the variant names, and switches at run time', async () => {
    const sim = await start({});
    const eid = sim.world.exams[0]!.eid;
    const read = async () => {
      const query = new URLSearchParams({
        option: 'com_exams',
        task: 'api.queryResults',
        format: 'raw',
        code: sim.config.code,
        eid: String(eid),
        limit: '1',
      });
      return ((await (await fetch(`${sim.baseUrl}/index.php?${query}`)).json()) as Record<string, unknown>[])[0]!;
    };
    expect(Object.keys(await read()).sort()).toEqual(['endTime', 'name', 'score', 'sid', 'startTime', 'viewResult']);
    const changed = await fetch(`${sim.baseUrl}/__simulator/actions/variant`, {
      method: 'POST',
      body: JSON.stringify({ status: true, passed: 'text', tid: true }),
    });
    expect(changed.status).toBe(200);
    const record = await read();
    expect(record).toMatchObject({ status: expect.any(Number), passed: expect.stringMatching(/^(true|false)$/), tid: expect.any(Number) });
    sim.setVariant({ strings: true, passed: 'boolean' });
    const strings = await read();
    expect(Object.values(strings).every((value) => typeof value === 'string')).toBe(true);
    const refused = await fetch(`${sim.baseUrl}/__simulator/actions/variant`, {
      method: 'POST',
      body: JSON.stringify({ passed: 'maybe' }),
    });
    expect(refused.status).toBe(400);
  });
});

describe.each(Object.entries(VARIANTS))('variant: %s', (_name, { variant, api }) => {
  const config = (sim: OemSimulator) => (api ? { ...sim.config, api } : sim.config);
  const want = (sim: OemSimulator) => byKey(sim.world.results.map((r) => expected(r, { ...sim.setVariant({}) }, api === 'v1')));

  it('the tap sends every result with its status (0–4 in words), passed and tid, and exit 0', async () => {
    const sim = await start(variant);
    const run = await runTap(tap, ['--config', jsonFile(config(sim))]);
    expect(run.stderr).not.toContain('CRITICAL');
    expect(run.code).toBe(0);
    expect(byKey(recordsOf(run, 'results').map(actual))).toEqual(want(sim));
    expect(sim.requests.unexpected()).toEqual([]);
  });

  const lands = (warehouse: () => Promise<Warehouse>) => async () => {
    const sim = await start(variant);
    const place = await warehouse();
    const { target } = await landSync(tap, place, { config: config(sim) });
    expect(target.stderr).not.toContain('CRITICAL');
    expect(target.code).toBe(0);
    const table = place.target === 'target-duckdb' ? 'main.results' : `"${place.schema}".results`;
    expect(byKey((await place.query(`SELECT * FROM ${table}`)).map(actual))).toEqual(want(sim));
  };
  it('lands whole in DuckDB', lands(duckdb));
  it('lands whole in PostgreSQL', lands(postgres));
});

describe('a deployment that starts sending status, passed and tid between runs', () => {
  const upgrade = (warehouse: () => Promise<Warehouse>) => async () => {
    const sim = await start({});
    const place = await warehouse();
    const runs = await landTwoSyncs(tap, place, {
      config: sim.config,
      between: () => {
        sim.advance(3);
        sim.setVariant({ status: true, passed: 'boolean', tid: true });
      },
    });
    for (const { tap: run, target } of runs) {
      expect(run.code).toBe(0);
      expect(target.code).toBe(0);
    }
    const table = place.target === 'target-duckdb' ? 'main.results' : `"${place.schema}".results`;
    const rows = (await place.query(`SELECT * FROM ${table}`)).map(actual);
    // The key did not change with the payload: still one row per attempt, none twice.
    expect(rows.map((r) => r.key).sort()).toEqual(sim.world.results.map((r) => `${r.eid}|${r.sid}|${iso(r.startTime)}`).sort());
    // Rows the second run sent carry the new fields; the others keep what the first run could know.
    const resent = new Set(recordsOf(runs[1].tap, 'results').map((r) => actual(r).key));
    expect(resent.size).toBeGreaterThan(0);
    for (const row of rows) {
      if (resent.has(row.key)) expect(row.tid).not.toBeNull();
      else expect(row).toMatchObject({ tid: null, status: null, passed: null });
    }
  };
  it('keeps one row per attempt in DuckDB (same key), with the fields filled on the rows sent again', upgrade(duckdb));
  it('keeps one row per attempt in PostgreSQL (same key), with the fields filled on the rows sent again', upgrade(postgres));
});

describe("the document's one-candidate shape (no sid, no name) sent for every candidate", () => {
  const oneCandidate = { oneCandidateShape: true } as const;

  it('is served by the simulator on request, and switched at run time', async () => {
    const sim = await start(oneCandidate);
    const query = new URLSearchParams({
      option: 'com_exams',
      task: 'api.queryResults',
      format: 'raw',
      code: sim.config.code,
      eid: String(sim.world.exams[0]!.eid),
    });
    const body = (await (await fetch(`${sim.baseUrl}/index.php?${query}`)).json()) as Record<string, unknown>[];
    expect(Object.keys(body[0]!).sort()).toEqual(['endTime', 'score', 'startTime', 'status', 'viewResult']);
    sim.setVariant({ oneCandidateShape: false });
    const again = (await (await fetch(`${sim.baseUrl}/index.php?${query}`)).json()) as Record<string, unknown>[];
    expect(again[0]).toHaveProperty('sid');
  });

  it('cannot be keyed, so every such result is set aside whole with the reason; the run goes on, ends partial (exit 6), and the bookmark moves', async () => {
    const sim = await start(oneCandidate);
    const run = await runTap(tap, ['--config', jsonFile(sim.config)]);
    expect(run.stderr).not.toContain('CRITICAL');
    expect(run.code).toBe(6);
    expect(recordsOf(run, 'exams')).toHaveLength(sim.world.exams.length);
    expect(recordsOf(run, 'results')).toEqual([]);
    const rejects = recordsOf(run, '_sdc_rejected_records');
    expect(rejects).toHaveLength(sim.world.results.length);
    for (const reject of rejects) {
      expect(reject).toMatchObject({ stream: 'results', field: 'sid', partition: { eid: expect.any(Number) } });
      expect(reject.reason).toMatch(
        /^field "sid": the result has no sid \(the document's one-candidate shape, sent for every candidate\); sid is part of its key/,
      );
      expect(JSON.parse(reject.record_json as string)).not.toHaveProperty('sid');
    }
    const summary = JSON.parse(
      run.stderr
        .trimEnd()
        .split('\n')
        .at(-1)!
        .replace(/^SUMMARY: /, ''),
    );
    expect(summary).toMatchObject({ status: 'partial', streams: { results: { records: 0, rejected: rejects.length } } });
    // Kept whole, they do not stall the stream: each exam's bookmark moved to its newest finished result.
    const state = run.messages.filter((m) => m.type === 'STATE').at(-1)!.value as any;
    for (const exam of sim.world.exams) {
      const finished = sim.world.results.filter((r) => r.eid === exam.eid && r.endTime !== 0).map((r) => r.endTime);
      if (finished.length === 0) continue;
      const partition = state.bookmarks.results.partitions.find((p: any) => p.context.eid === exam.eid);
      expect(partition.replication_key_value).toBe(iso(Math.max(...finished)).replace('.000Z', 'Z'));
    }
  });

  const lands = (warehouse: () => Promise<Warehouse>) => async () => {
    const sim = await start(oneCandidate);
    const place = await warehouse();
    const { tap: run, target } = await landSync(tap, place, { config: sim.config });
    expect(run.code).toBe(6);
    expect(target.code, target.stderr).toBe(0);
    const rows = await place.query(`SELECT stream, field, record_json FROM "${place.schema}"._sdc_rejected_records`);
    expect(rows).toHaveLength(sim.world.results.length);
    // Each served result is there whole, its score and times as sent.
    const served = rows.map((row) => JSON.parse(String(row.record_json)) as { score: number; startTime: number });
    expect(served.map((r) => `${r.startTime}/${r.score}`).sort()).toEqual(sim.world.results.map((r) => `${r.startTime}/${r.score}`).sort());
  };
  it('lands the set-aside results in DuckDB', lands(duckdb));
  it('lands the set-aside results in PostgreSQL', lands(postgres));
});
