// The tap command line: flags, config sources and errors, exit codes by blame, secrets, rate-limit stop.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { exitCodesHelp } from '@tapline/singer';
import { afterEach, describe, expect, it } from 'vitest';
import { defineTap, runTapCli } from '../src/index.js';
import { examRoutes, examRows, resultRows } from './support/exam-platform.js';
import { examTap } from './support/exam-tap.js';
import { type FakeApi, type FakeHandler, startFakeApi } from './support/fake-api.js';
import { runCli } from './support/run-cli.js';

const SECRET = 'sekret-key-123';
let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

function writeJson(value: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tap-kit-cli-')), 'file.json');
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

async function start(patch: Record<string, FakeHandler> = {}) {
  api = await startFakeApi({ ...examRoutes({ exams: examRows(), results: resultRows() }), ...patch });
  return writeJson({ base_url: api.baseUrl, api_key: SECRET });
}

describe('informational flags', () => {
  it('--about --format json gives name, description, version, capabilities and settings', async () => {
    const run = await runCli(examTap, ['--about', '--format', 'json']);
    expect(run.code).toBe(0);
    const about = JSON.parse(run.stdout);
    expect(about).toMatchObject({ name: 'tap-exams', description: 'Exam results from a fake exam platform.', version: '1.2.3' });
    expect(about.capabilities).toEqual(expect.arrayContaining(['about', 'catalog', 'discover', 'state', 'test', 'activate-version']));
    expect(about.settings.properties.api_key).toEqual({ type: 'string', minLength: 1 });
    expect(about.settings.required).toEqual(['base_url', 'api_key']);
  });

  it('--discover prints a catalog with Singer metadata, everything selected', async () => {
    const run = await runCli(examTap, ['--discover']);
    const catalog = JSON.parse(run.stdout);
    const results = catalog.streams.find((s: any) => s.tap_stream_id === 'results');
    expect(results).toMatchObject({ key_properties: ['result_id'], replication_method: 'INCREMENTAL', replication_key: 'finished_at' });
    const top = results.metadata.find((m: any) => m.breadcrumb.length === 0).metadata;
    expect(top).toMatchObject({
      selected: true,
      'table-key-properties': ['result_id'],
      'valid-replication-keys': ['finished_at'],
      'forced-replication-method': 'INCREMENTAL',
      'parent-tap-stream-id': 'exams',
    });
    const inclusion = Object.fromEntries(
      results.metadata.filter((m: any) => m.breadcrumb.length).map((m: any) => [m.breadcrumb[1], m.metadata.inclusion]),
    );
    expect(inclusion).toMatchObject({ result_id: 'automatic', finished_at: 'automatic', email: 'available' });
  });

  it('--version and --help', async () => {
    expect((await runCli(examTap, ['--version'])).stdout).toBe('tap-exams 1.2.3\n');
    const help = await runCli(examTap, ['--help']);
    expect(help.stdout).toContain('--catalog FILE');
    expect(help.stdout).toContain('TAP_EXAMS_<KEY>');
    // The exit codes are the shared table's rows for taps.
    expect(help.stdout.endsWith(exitCodesHelp('tap'))).toBe(true);
  });

  it('an unknown flag is a usage error (exit 2) in one sentence', async () => {
    const run = await runCli(examTap, ['--colour']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('CRITICAL Unknown option --colour. Run tap-exams --help for usage.\n');
  });
});

describe('config', () => {
  it('names every bad key and exits 3, without a stack trace or any value', async () => {
    const config = writeJson({ base_url: 'not a url', api_key: '' });
    const run = await runCli(examTap, ['--config', config]);
    expect(run.code).toBe(3);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^CRITICAL Invalid config: "base_url" .*; "api_key" /);
    expect(run.stderr).not.toContain('not a url');
  });

  it('says which key is missing and which variable could set it', async () => {
    const run = await runCli(examTap, ['--config', writeJson({ base_url: 'http://127.0.0.1:9' })]);
    expect(run.stderr).toContain('"api_key" is missing (set it in a --config file or TAP_EXAMS_API_KEY)');
  });

  it('merges repeated --config files (later wins) over TAP_<NAME>_<KEY> variables', async () => {
    const base = await start();
    const run = await runCli(examTap, ['--config', writeJson({ base_url: 'http://127.0.0.1:9', api_key: 'x' }), '--config', base]);
    expect(run.code).toBe(0);
    const fromEnv = await runCli(examTap, [], { TAP_EXAMS_BASE_URL: api!.baseUrl, TAP_EXAMS_API_KEY: SECRET });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.messages.filter((m) => m.type === 'RECORD')).toHaveLength(10);
    expect(api!.requests.every((r) => r.headers['x-api-key'] === SECRET)).toBe(true);
  });

  it("a malformed state file is the user's to fix (exit 3)", async () => {
    const config = await start();
    const run = await runCli(examTap, ['--config', config, '--state', writeJson('{not json')]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^CRITICAL The state file .* is not valid JSON/);
  });
});

describe('running', () => {
  it('--test makes the one declared request', async () => {
    const config = await start();
    const run = await runCli(examTap, ['--test', '--config', config]);
    expect(run.code).toBe(0);
    expect(api!.requests.map((r) => r.path)).toEqual(['/me']);
    expect(run.stderr).toContain('Connection test passed');
  });

  it('stdout carries only Singer messages; logs and METRIC lines go to stderr; no secret anywhere', async () => {
    const config = await start();
    const run = await runCli(examTap, ['--config', config]);
    expect(
      run.stdout
        .trim()
        .split('\n')
        .every((line) => JSON.parse(line).type),
    ).toBe(true);
    expect(run.stderr).toMatch(/INFO GET \/exams\?offset=0&limit=2 200 \d+ms/);
    expect(run.stderr).toContain('METRIC: {"type":"counter","metric":"record_count","value":7,"tags":{"stream":"results"}}');
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  });

  it('--quiet and --log-level warn (or TAPLINE_LOG_LEVEL=warn) leave only the SUMMARY line on stderr; the records are the same', async () => {
    const config = await start();
    const loud = await runCli(examTap, ['--config', config]);
    for (const [argv, env] of [
      [['--quiet'], {}],
      [['-q'], {}],
      [['--log-level', 'warn'], {}],
      [[], { TAPLINE_LOG_LEVEL: 'warn' }],
    ] as const) {
      const quiet = await runCli(examTap, ['--config', config, ...argv], env);
      expect(quiet.code).toBe(0);
      const records = (run: typeof loud) => run.messages.filter((m) => m.type === 'RECORD').map((m) => m.record);
      expect(records(quiet)).toEqual(records(loud));
      expect(quiet.stderr).toMatch(/^SUMMARY: \{.*\}\n$/);
    }
    const wrong = await runCli(examTap, ['--config', config, '--log-level', 'loud']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe('CRITICAL --log-level must be debug, info, warn or error. Run tap-exams --help for usage.\n');
  });

  it('rejected credentials stop with a sentence and exit 3', async () => {
    const config = await start({ 'GET /exams': () => ({ status: 401, body: { error: `bad key ${SECRET}` } }) });
    const run = await runCli(examTap, ['--config', config]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^CRITICAL GET \/exams failed/m);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stderr).not.toContain(SECRET);
  });

  it('stops cleanly on the rate limit: state written, when to run next logged, exit 6 (partial) naming the unfinished streams', async () => {
    const config = await start({ 'GET /exams/2/results': () => ({ status: 429, headers: { 'retry-after': '3600' }, body: {} }) });
    const run = await runCli(examTap, ['--config', config]);
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(/Stopped on the API's rate limit with the state saved; run again after \d{4}-/);
    const summary = JSON.parse(
      run.stderr
        .trimEnd()
        .split('\n')
        .at(-1)!
        .replace(/^SUMMARY: /, ''),
    );
    expect(summary).toMatchObject({
      status: 'partial',
      rate_limited: { retry_at: expect.stringMatching(/^\d{4}-/) },
      streams: { results: { unfinished: true } },
    });
    const last = run.messages.at(-1)!;
    expect(last.type).toBe('STATE');
    expect(last.value.bookmarks.results.partitions).toEqual([
      { context: { exam_id: 1 }, replication_key: 'finished_at', replication_key_value: '2024-01-01T00:00:30Z' },
    ]);
    expect(last.value.currently_syncing).toBe('exams');
  });

  it('ends a whole run with a SUMMARY line on stderr and exit 0', async () => {
    const config = await start();
    const run = await runCli(examTap, ['--config', config]);
    expect(run.code).toBe(0);
    const last = run.stderr.trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(/^SUMMARY: \{"status":"complete"/);
  });

  it('runs a subcommand the tap registers, with parsed flags and an HTTP client', async () => {
    const config = await start();
    const seen: unknown[] = [];
    const tap = defineTap({
      ...examTap,
      subcommands: {
        'access-codes': {
          description: 'Add or remove access codes.',
          usage: 'add|remove --list ID --file codes.txt',
          async run({ args, flags, http }) {
            seen.push(args, flags, (await http.request({ path: '/me' })).body);
          },
        },
      },
    });
    const run = await runCli(tap, ['access-codes', 'add', '--list', '7', '--file', 'codes.txt', '--config', config]);
    expect(run.code).toBe(0);
    expect(seen).toEqual([['add'], { list: '7', file: 'codes.txt' }, { ok: true }]);
    expect((await runCli(tap, ['--help'])).stdout).toContain('access-codes add|remove --list ID --file codes.txt');
  });
});

describe('when the reader of stdout goes away', () => {
  it('stops with one sentence and the transient exit code, not a stack trace', async () => {
    const config = await start();
    const closedPipe = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    let stderr = '';
    const code = await runTapCli(examTap, ['--config', config], {
      stdout: closedPipe,
      stderr: new Writable({
        write(chunk, _encoding, callback) {
          stderr += String(chunk);
          callback();
        },
      }),
      env: {},
    });
    expect(code).toBe(4);
    expect(stderr).toContain('CRITICAL stdout was closed by its reader (broken pipe)');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
