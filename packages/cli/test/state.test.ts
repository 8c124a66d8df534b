// `tapline state get|set|clear <pipeline>` against the state table in DuckDB and PostgreSQL.
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.js';
import { pgSchema, tapline, tempDir, PG_URL } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

describe.each(['duckdb', 'postgres'] as const)('tapline state in %s', (warehouse) => {
  it('sets, gets and clears the state of a pipeline named in tapline.yml', async () => {
    const pgTest = warehouse === 'postgres' ? await pgSchema('cli_state') : undefined;
    try {
      const config = pgTest ? { connection_string: PG_URL, default_target_schema: pgTest.schema } : { path: 'w.duckdb' };
      await writeFile(
        path.join(dir, 'tapline.yml'),
        `taps:\n  classmarker:\n    config: {}\ntargets:\n  ${warehouse}:\n    config: ${JSON.stringify(config)}\n` +
          `pipelines:\n  nightly:\n    tap: classmarker\n    target: ${warehouse}\n`,
      );
      const empty = await tapline(['state', 'get', 'nightly'], { cwd: dir });
      expect(empty).toMatchObject({ code: 0, stdout: '' });
      expect(empty.stderr).toContain('No state stored for pipeline nightly');

      const value = { bookmarks: { link_results: { replication_key_value: '2026-01-01T00:00:00Z' } } };
      expect((await tapline(['state', 'set', 'nightly', '--value', JSON.stringify(value)], { cwd: dir })).code).toBe(0);
      const got = await tapline(['state', 'get', 'nightly'], { cwd: dir });
      expect(JSON.parse(got.stdout)).toEqual(value);

      const cleared = await tapline(['state', 'clear', 'nightly'], { cwd: dir });
      expect(cleared.stderr).toContain('State of pipeline nightly cleared');
      expect((await tapline(['state', 'get', 'nightly'], { cwd: dir })).stdout).toBe('');
    } finally {
      await pgTest?.drop();
    }
  }, 30_000);
});

describe('tapline state errors', () => {
  it('refuses a state that is not JSON, naming the problem', async () => {
    const result = await tapline(['state', 'set', 'p', '--target', 'duckdb', '--value', '{oops'], { cwd: dir });
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toContain('The new state is not valid JSON');
  });

  it('asks which warehouse when the pipeline is unknown', async () => {
    const result = await tapline(['state', 'get', 'nowhere'], { cwd: dir });
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toContain('No pipeline named "nowhere"');
  });
});
