// The sync runner, end to end over real HTTP: declaration in, Singer messages out.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { examRoutes, examRows, resultRows, T0 } from './support/exam-platform.js';
import { examTap } from './support/exam-tap.js';
import { type FakeApi, startFakeApi } from './support/fake-api.js';
import { runCli } from './support/run-cli.js';

let api: FakeApi | undefined;
afterEach(async () => {
  if (api) expect(api.unexpected).toEqual([]);
  await api?.close();
  api = undefined;
});

function writeJson(value: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'tap-kit-'));
  const file = join(dir, 'file.json');
  writeFileSync(file, JSON.stringify(value));
  return file;
}

async function start(data = { exams: examRows(), results: resultRows() }) {
  api = await startFakeApi(examRoutes(data));
  return { data, config: writeJson({ base_url: api.baseUrl, api_key: 'sekret-key-123' }) };
}

const NOW = () => new Date(Date.UTC(2024, 5, 1));

describe('a full sync', () => {
  it('writes SCHEMA before records, every record once, and STATE after each page', async () => {
    const { config } = await start();
    const run = await runCli(examTap, ['--config', config], {}, NOW);
    expect(run.stderr).not.toContain('CRITICAL');
    expect(run.code).toBe(0);
    const types = run.messages.map((m) => `${m.type}:${m.stream ?? ''}`);
    expect(types[0]).toBe('SCHEMA:exams');
    expect(types[1]).toBe('SCHEMA:results');
    const records = run.messages.filter((m) => m.type === 'RECORD');
    expect(records.filter((m) => m.stream === 'exams').map((m) => m.record.id)).toEqual([1, 2, 3]);
    const results = records.filter((m) => m.stream === 'results').map((m) => m.record.result_id);
    expect(results).toEqual([100, 101, 102, 103, 104, 105, 106]);
    expect(new Set(results).size).toBe(results.length);
    // Coercions: decimals stay exact strings, durations are seconds, Yes/No booleans, UNIX seconds ISO.
    expect(records[0]!.record).toEqual({ id: 1, title: 'Algebra', pass_mark: '50.0' });
    const first = records.find((m) => m.stream === 'results')!.record;
    expect(first).toMatchObject({ finished_at: '2024-01-01T00:00:10Z', duration: 2527 });
    expect(typeof first.passed).toBe('boolean');
    // ACTIVATE_VERSION for the opted-in full-table stream, after its records, matching their version.
    const activate = run.messages.find((m) => m.type === 'ACTIVATE_VERSION')!;
    expect(activate.stream).toBe('exams');
    expect(records.filter((m) => m.stream === 'exams').every((m) => m.version === activate.version)).toBe(true);
    expect(run.messages.at(-1)).toEqual({
      type: 'STATE',
      value: {
        bookmarks: {
          results: {
            partitions: [
              {
                context: { exam_id: 1 },
                replication_key: 'finished_at',
                replication_key_value: new Date((T0 + 30) * 1000).toISOString().replace('.000Z', 'Z'),
              },
              {
                context: { exam_id: 2 },
                replication_key: 'finished_at',
                replication_key_value: new Date((T0 + 15) * 1000).toISOString().replace('.000Z', 'Z'),
              },
            ],
          },
        },
        currently_syncing: null,
      },
    });
  });
});

const resultIds = (messages: Array<Record<string, any>>) =>
  messages.filter((m) => m.type === 'RECORD' && m.stream === 'results').map((m) => m.record.result_id);
const lastState = (messages: Array<Record<string, any>>) => messages.filter((m) => m.type === 'STATE').at(-1)!.value;

describe('incremental runs', () => {
  it('a second run from the final state re-emits only the records at the bookmark, then picks up new ones', async () => {
    const { config, data } = await start();
    const first = await runCli(examTap, ['--config', config], {}, NOW);
    const state = writeJson(lastState(first.messages));
    const second = await runCli(examTap, ['--config', config, '--state', state], {}, NOW);
    expect(second.code).toBe(0);
    // The boundary record of each exam (its bookmark value) is the only overlap.
    expect(resultIds(second.messages)).toEqual([104, 106]);
    data.results.push({ result_id: 200, exam_id: 2, email: null, finished_at: T0 + 40, duration: '0:01:00', passed: 'No' });
    const third = await runCli(examTap, ['--config', config, '--state', writeJson(lastState(second.messages))], {}, NOW);
    expect(resultIds(third.messages)).toEqual([104, 106, 200]);
    // The exclusive "since" parameter is sent one second before the bookmark, so ties are re-read, not lost.
    const sent = api!.requests.filter((r) => r.path === '/exams/2/results').map((r) => r.query.since);
    expect(sent.at(-1)).toBe(String(T0 + 15 - 1));
  });

  it('resumes after an interrupted run from its last STATE with no gap', async () => {
    const data = { exams: examRows(), results: resultRows() };
    const routes = examRoutes(data);
    let broken = true;
    const healthy = routes['GET /exams/1/results']!;
    routes['GET /exams/1/results'] = (request) =>
      broken && request.query.since !== undefined ? { status: 500, body: { error: 'boom' } } : healthy(request);
    api = await startFakeApi(routes);
    const config = writeJson({ base_url: api.baseUrl, api_key: 'sekret-key-123' });
    const interrupted = await runCli(examTap, ['--config', config], {}, NOW);
    expect(interrupted.code).toBe(4); // transient: run again later
    expect(interrupted.stderr).toMatch(/^CRITICAL GET \/exams\/1\/results failed/m);
    const before = resultIds(interrupted.messages);
    expect(before).toEqual([100, 101, 102]);
    broken = false;
    const resumed = await runCli(examTap, ['--config', config, '--state', writeJson(lastState(interrupted.messages))], {}, NOW);
    expect(resumed.code).toBe(0);
    const after = resultIds(resumed.messages);
    expect(new Set([...before, ...after])).toEqual(new Set([100, 101, 102, 103, 104, 105, 106]));
    // Overlap only at the checkpointed boundary value (the three tied results), never a gap.
    expect(after.filter((id) => before.includes(id))).toEqual([101, 102]);
  });

  it('never bookmarks past the sync start (signpost), even for records from the future', async () => {
    const data = { exams: examRows(), results: resultRows() };
    data.results.push({
      result_id: 300,
      exam_id: 2,
      email: null,
      finished_at: Date.UTC(2030, 0, 1) / 1000,
      duration: '0:00:01',
      passed: 'Yes',
    });
    const { config } = await start(data);
    const run = await runCli(examTap, ['--config', config], {}, NOW);
    expect(resultIds(run.messages)).toContain(300);
    const partitions = (lastState(run.messages) as any).bookmarks.results.partitions;
    expect(partitions[1].replication_key_value).toBe(NOW().toISOString());
  });

  it('starts the first run at start_date', async () => {
    const { data } = await start();
    const config = writeJson({ base_url: api!.baseUrl, api_key: 'sekret-key-123', start_date: '2024-01-01T00:00:15+00:00' });
    const run = await runCli(examTap, ['--config', config], {}, NOW);
    expect(resultIds(run.messages)).toEqual([101, 102, 103, 104, 106]);
    expect(data.results.length).toBe(7);
  });
});

describe('ACTIVATE_VERSION only after a whole listing', () => {
  const activations = (messages: Array<Record<string, any>>) => messages.filter((m) => m.type === 'ACTIVATE_VERSION');
  const examIds = (messages: Array<Record<string, any>>) =>
    messages.filter((m) => m.type === 'RECORD' && m.stream === 'exams').map((m) => m.record.id);

  it('is not sent when exams are deleted between two pages, which shifts a live exam out of the run; a warning says why', async () => {
    const data = {
      exams: [...examRows(), { id: 4, title: 'Drama', pass_mark: null }, { id: 5, title: 'Economics', pass_mark: null }],
      results: resultRows(),
    };
    const routes = examRoutes(data);
    const results = routes['GET /exams/1/results']!;
    // While exam 1's results are read (after the first exams page), exams 1 and 2 are deleted upstream.
    let deleted = false;
    routes['GET /exams/1/results'] = (request) => {
      if (!deleted) data.exams.splice(0, 2);
      deleted = true;
      return results(request);
    };
    api = await startFakeApi(routes);
    const config = writeJson({ base_url: api.baseUrl, api_key: 'sekret-key-123' });
    const run = await runCli(examTap, ['--config', config], {}, NOW);
    expect(run.code, run.stderr).toBe(6);
    expect(examIds(run.messages)).toEqual([1, 2, 4, 5]); // exam 3 slid onto the page already read
    expect(activations(run.messages)).toEqual([]);
    expect(run.stderr).toMatch(
      /WARN stream exams: the record at a page edge had moved .*; ACTIVATE_VERSION is not sent this run, so nothing is removed downstream/,
    );
    // The next run reads the listing whole, and sends it.
    const next = await runCli(examTap, ['--config', config], {}, NOW);
    expect(examIds(next.messages)).toEqual([3, 4, 5]);
    expect(activations(next.messages)).toHaveLength(1);
  });
});

describe('selection through a catalog', () => {
  const discover = async () => JSON.parse((await runCli(examTap, ['--discover'])).stdout);

  it('syncs only selected streams; a deselected parent still drives its children, silently', async () => {
    const { config } = await start();
    const catalog = await discover();
    catalog.streams[0].metadata[0].metadata.selected = false; // exams
    const run = await runCli(examTap, ['--config', config, '--catalog', writeJson(catalog)], {}, NOW);
    expect(run.code).toBe(0);
    expect(run.messages.filter((m) => m.stream === 'exams')).toEqual([]);
    expect(resultIds(run.messages)).toEqual([100, 101, 102, 103, 104, 105, 106]);
  });

  it('a deselected child is not requested at all', async () => {
    const { config } = await start();
    const catalog = await discover();
    catalog.streams[1].metadata[0].metadata.selected = false;
    const run = await runCli(examTap, ['--config', config, '--properties', writeJson(catalog)], {}, NOW);
    expect(resultIds(run.messages)).toEqual([]);
    expect(api!.requests.some((r) => r.path.includes('/results'))).toBe(false);
  });

  it('field selection filters SCHEMA and RECORDs but always keeps the key and cursor', async () => {
    const { config } = await start();
    const catalog = await discover();
    const fields = catalog.streams[1].metadata.filter((m: any) => m.breadcrumb.length === 2);
    for (const field of fields) field.metadata.selected = false;
    const run = await runCli(examTap, ['--config', config, '--catalog', writeJson(catalog)], {}, NOW);
    const schema = run.messages.find((m) => m.type === 'SCHEMA' && m.stream === 'results')!;
    expect(Object.keys(schema.schema.properties).sort()).toEqual(['finished_at', 'result_id']);
    const record = run.messages.find((m) => m.type === 'RECORD' && m.stream === 'results')!;
    expect(Object.keys(record.record).sort()).toEqual(['finished_at', 'result_id']);
  });
});
