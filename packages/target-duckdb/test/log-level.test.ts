// The command line's logging and exit-code flags: --log-level, --quiet, and --help's exit-code table.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/target-duckdb.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tapline-log-level-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const input = [
  '{"type":"SCHEMA","stream":"events","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
  '{"type":"RECORD","stream":"events","record":{"id":1}}',
  '{"type":"STATE","value":{"at":1}}',
].join('\n');

function target(name: string, ...flags: string[]) {
  const config = join(dir, `${name}.json`);
  writeFileSync(config, JSON.stringify({ path: join(dir, `${name}.duckdb`) }));
  return spawnSync(process.execPath, [bin, '--config', config, ...flags], {
    input,
    encoding: 'utf8',
    env: { ...process.env, TAPLINE_LOG_LEVEL: '' },
  });
}

describe('target-duckdb logging flags', () => {
  it('logs INFO lines by default, none at --log-level warn or --quiet; the state still goes to stdout', () => {
    const loud = target('loud');
    expect(loud.status).toBe(0);
    expect(loud.stderr).toMatch(/^INFO stream "events": created table /m);
    for (const [name, flags] of [
      ['warn', ['--log-level', 'warn']],
      ['quiet', ['--quiet']],
      ['q', ['-q']],
    ] as const) {
      const quiet = target(name, ...flags);
      expect(quiet.status, name).toBe(0);
      expect(quiet.stderr, name).toBe('');
      expect(quiet.stdout, name).toBe('{"at":1}\n');
    }
  });

  it('refuses a level it does not know as a bad command line (exit 2)', () => {
    const refused = target('nope', '--log-level', 'loud');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^CRITICAL --log-level must be debug, info, warn or error, not "loud"/);
  });

  it('prints the exit codes a target ends with in --help', () => {
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Exit codes:$/m);
    expect(help.stdout).toMatch(/^ {2}7 {5}The Singer input was bad/m);
    expect(help.stdout).not.toMatch(/^ {2}6 /m);
  });
});
