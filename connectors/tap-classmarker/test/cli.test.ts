// The command line: discovery and selection, --about, --test, the access-codes command and the simulator bin.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ClassMarkerSimulator, startClassMarkerSimulator } from '../simulator/index.js';
import { runTap } from './helpers.js';

let sim: ClassMarkerSimulator;
beforeAll(async () => {
  sim = await startClassMarkerSimulator({ seed: 'cli-test', linkResults: 40, groupResults: 40, rateLimitPerHour: 10_000 });
});
afterAll(() => sim.close());
beforeEach(() => sim.requests.clear());

describe('discovery and selection', () => {
  it("discovers five streams (and the kit's rejects stream) with keys, replication and the incremental cursor, without a request", async () => {
    const run = await runTap(sim, { args: ['--discover'] });
    expect(run.code).toBe(0);
    const catalog = JSON.parse(run.stdout) as { streams: Array<Record<string, any>> };
    const byName = Object.fromEntries(catalog.streams.map((s) => [s.tap_stream_id ?? s.stream, s]));
    expect(Object.keys(byName).sort()).toEqual(['_sdc_rejected_records', 'group_results', 'groups', 'link_results', 'links', 'tests']);
    const root = (name: string) => byName[name]!.metadata.find((m: any) => m.breadcrumb.length === 0).metadata;
    expect(root('link_results')).toMatchObject({
      'table-key-properties': ['link_result_id'],
      'valid-replication-keys': ['time_finished'],
      'forced-replication-method': 'INCREMENTAL',
    });
    expect(root('group_results')['table-key-properties']).toEqual(['user_id', 'test_id', 'group_id', 'time_started']);
    expect(root('tests')['forced-replication-method']).toBe('FULL_TABLE');
    expect(byName.link_results!.schema.properties.time_finished).toMatchObject({ format: 'date-time' });
    expect(sim.requests.count()).toBe(0);
  });

  it('syncs only the selected streams and fields', async () => {
    const discovered = JSON.parse((await runTap(sim, { args: ['--discover'] })).stdout) as { streams: Array<Record<string, any>> };
    for (const stream of discovered.streams) {
      const selected = stream.stream === 'link_results';
      for (const entry of stream.metadata) {
        if (entry.breadcrumb.length === 0) entry.metadata.selected = selected;
        else if (['email', 'ip_address'].includes(entry.breadcrumb[1])) entry.metadata.selected = false;
      }
    }
    const run = await runTap(sim, { catalog: discovered });
    expect(run.code, run.stderr).toBe(0);
    expect(new Set(run.messages.filter((m) => m.type !== 'STATE').map((m) => m.stream))).toEqual(new Set(['link_results']));
    expect(run.records('link_results')).toHaveLength(40);
    expect(run.records('link_results')[0]).not.toHaveProperty('email');
    expect(run.records('link_results')[0]).toHaveProperty('link_result_id');
    sim.requests.assertOnly(['links_recent_results']); // no v1.json, no group results
  });
});

describe('--about, --test', () => {
  it('--about --format json lists every setting with its default', async () => {
    const run = await runTap(sim, { args: ['--about', '--format', 'json'] });
    const about = JSON.parse(run.stdout) as { name: string; settings: { properties: Record<string, any>; required: string[] } };
    expect(about.name).toBe('tap-classmarker');
    expect(about.settings.required.sort()).toEqual(['api_key', 'api_secret']);
    expect(about.settings.properties.signature_algorithm.default).toBe('md5');
    expect(about.settings.properties.on_rate_limit.default).toBe('stop');
    expect(about.settings.properties.lookback_days).toMatchObject({ default: 2, minimum: 0, maximum: 88 });
    expect(about.settings.properties.grading_hold_days).toMatchObject({ default: 14, minimum: 0, maximum: 88 });
  });

  it('--test makes one cheap request, and prints a STATE counting it against the hourly budget', async () => {
    const run = await runTap(sim, { args: ['--test'] });
    expect(run.code, run.stderr).toBe(0);
    expect(sim.requests.all().map((r) => r.route)).toEqual(['catalog']);
    expect(run.messages).toEqual([{ type: 'STATE', value: { bookmarks: {}, rate_budget: { request_times: [expect.any(Number)] } } }]);
  });

  it('--test counts its request in the budget it reads from --state, so the next run stays within 30 an hour', async () => {
    const now = Date.now();
    const bookmarks = {
      link_results: { partitions: [{ context: {}, replication_key: 'time_finished', replication_key_value: '2026-01-01T00:00:00Z' }] },
    };
    const used = Array.from({ length: 28 }, (_, i) => now - (40 - i) * 60_000); // 28 requests in the last 40 minutes
    const tested = await runTap(sim, {
      args: ['--test'],
      state: { bookmarks, currently_syncing: null, rate_budget: { request_times: used } },
    });
    expect(tested.code, tested.stderr).toBe(0);
    const state = tested.state as { bookmarks: unknown; rate_budget: { request_times: number[] } };
    expect(state.bookmarks).toEqual(bookmarks);
    expect(state.rate_budget.request_times).toHaveLength(29);
    // From that state a sync has one request left this hour: v1.json, then a clean stop.
    sim.requests.clear();
    const run = await runTap(sim, { state });
    expect(run.code, run.stderr).toBe(6);
    expect(run.stderr).toMatch(/run again after/);
    expect(sim.requests.count()).toBe(1);
  });

  it('--test spends nothing when the budget in --state is used up, and says when to try again (exit 4)', async () => {
    const now = Date.now();
    const used = Array.from({ length: 30 }, (_, i) => now - (50 - i) * 60_000);
    const run = await runTap(sim, { args: ['--test'], state: { rate_budget: { request_times: used } } });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(
      /^CRITICAL Connection test not run: the request budget for ClassMarker \(30 per hour\) is used up \(per \S+\.json\); run --test again after \d{4}-\d{2}-\d{2}T/m,
    );
    expect(run.stdout).toBe('');
    expect(sim.requests.count()).toBe(0);
  });
});

describe('access-codes', () => {
  const codesFile = (codes: string[]) => {
    const path = join(mkdtempSync(join(tmpdir(), 'codes-')), 'codes.txt');
    writeFileSync(path, codes.join('\n'));
    return path;
  };

  it('adds and removes codes in batches of at most 100', async () => {
    const list = sim.data.accessLists[0]!;
    const before = list.codes.size;
    const codes = Array.from({ length: 250 }, (_, i) => `code-${i}`);
    const file = codesFile(['', ...codes, codes[0]!, '  ']); // blank lines and a repeat are dropped
    const added = await runTap(sim, { args: ['access-codes', 'add', '--list', String(list.access_list_id), '--file', file] });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toMatch(/250 of 250 codes added; the list now holds/);
    expect(list.codes.size).toBe(before + 250);
    const batches = sim.requests.to('access_list').map((r) => (JSON.parse(r.body) as string[]).length);
    expect(batches).toEqual([100, 100, 50]);
    expect(sim.requests.to('access_list').every((r) => r.method === 'POST')).toBe(true);

    const removed = await runTap(sim, {
      args: ['access-codes', 'remove', '--list', String(list.access_list_id), '--file', codesFile(codes.slice(0, 120))],
    });
    expect(removed.code, removed.stderr).toBe(0);
    expect(list.codes.size).toBe(before + 130);
    expect(sim.requests.to('access_list').filter((r) => r.method === 'DELETE')).toHaveLength(2);
  });

  it('names what is wrong with the command or the file', async () => {
    const id = String(sim.data.accessLists[0]!.access_list_id);
    expect((await runTap(sim, { args: ['access-codes', 'grant', '--list', id, '--file', codesFile(['a'])] })).stderr).toMatch(
      /needs "add" or "remove"/,
    );
    expect((await runTap(sim, { args: ['access-codes', 'add', '--file', codesFile(['a'])] })).stderr).toMatch(/--list/);
    const long = await runTap(sim, { args: ['access-codes', 'add', '--list', id, '--file', codesFile(['ok', 'x'.repeat(256)])] });
    expect(long.code).toBe(3);
    expect(long.stderr).toMatch(/codes\.txt line 2: an access code is at most 255 characters/);
    const unknown = await runTap(sim, { args: ['access-codes', 'add', '--list', '999', '--file', codesFile(['a'])] });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/incorrectUrlId/);
    expect(sim.requests.to('access_list')).toHaveLength(1);
  });
});

describe('classmarker-simulator bin', () => {
  it('prints one JSON line with base_url and a ready-to-use config, then serves until SIGTERM', async () => {
    const bin = fileURLToPath(new URL('../bin/classmarker-simulator.js', import.meta.url));
    const child = spawn(
      process.execPath,
      [bin, '--port', '0', '--seed', 'bin', '--rate-limit-per-hour', '7', '--link-results', '10', '--group-results', '10'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
      child.on('exit', (code) => reject(new Error(`simulator exited ${code}`)));
    });
    const { base_url, config } = JSON.parse(line) as { base_url: string; config: Record<string, string> };
    expect(base_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(config).toEqual({ api_key: expect.any(String), api_secret: expect.any(String), base_url });
    const run = await runTap({ config } as ClassMarkerSimulator, { args: ['--test'] });
    expect(run.code, run.stderr).toBe(0);
    child.kill('SIGTERM');
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
  });
});
