// The sync runner, end to end over real HTTP: declaration in, Singer messages out.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { examTap } from './support/exam-tap.js';
import { examRoutes, examRows, resultRows, T0 } from './support/exam-platform.js';
import { startFakeApi, type FakeApi } from './support/fake-api.js';
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
              { context: { exam_id: 1 }, replication_key: 'finished_at', replication_key_value: new Date((T0 + 30) * 1000).toISOString().replace('.000Z', 'Z') },
              { context: { exam_id: 2 }, replication_key: 'finished_at', replication_key_value: new Date((T0 + 15) * 1000).toISOString().replace('.000Z', 'Z') },
            ],
          },
        },
        currently_syncing: null,
      },
    });
  });
});
