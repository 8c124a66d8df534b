// A statement PostgreSQL cancels at statement_timeout_ms is named as such (exit 5), never blamed on the input line the COPY had reached.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPgTestSchema, pgIsReachable, plainPgClient } from '@tapline/testing';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/target-postgres.js', import.meta.url));
const reachable = await pgIsReachable();

function messages(count: number): string {
  const lines = [
    '{"type":"SCHEMA","stream":"exams","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
  ];
  for (let id = 1; id <= count; id++) lines.push(`{"type":"RECORD","stream":"exams","record":{"id":${id}}}`);
  lines.push(`{"type":"STATE","value":{"at":${count}}}`);
  return `${lines.join('\n')}\n`;
}

/** The target CLI with this config (written to a file, as a user would) on this input. */
function runTarget(config: Record<string, unknown>, stdin: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'tapline-timeout-')), 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return spawnSync(process.execPath, [bin, '--config', file], { input: stdin, encoding: 'utf8' });
}

describe.skipIf(!reachable)('statement_timeout_ms', () => {
  it('a write canceled at statement_timeout_ms names the setting and the batch, not a line; exit 5; the rerun loads', async () => {
    const fixture = await createPgTestSchema();
    const other = await plainPgClient();
    try {
      const config = { connection_string: fixture.url, default_target_schema: fixture.schema, statement_timeout_ms: 300 };
      const first = runTarget(config, messages(1));
      expect(first.status).toBe(0);
      // Another session holds the table against writes (reads stay free), so the batch's write waits past the timeout.
      await other.query('BEGIN');
      await other.query(`LOCK TABLE "${fixture.schema}".exams IN EXCLUSIVE MODE`);
      const timedOut = runTarget(config, messages(5_000));
      await other.query('ROLLBACK');
      const critical = timedOut.stderr.split('\n').filter((line) => line.startsWith('CRITICAL '));
      expect(critical).toHaveLength(1);
      expect(critical[0]).toMatch(
        /^CRITICAL PostgreSQL canceled a statement writing stream "exams" \(input lines 2-5001\) when it reached statement_timeout_ms \(300 ms\): no line of the input is at fault/,
      );
      expect(critical[0]).not.toMatch(/\bline \d+ \(stream/);
      expect(timedOut.status).toBe(5);
      expect(timedOut.stdout).toBe('');

      const rerun = runTarget(config, messages(5_000));
      expect(rerun.stderr).not.toMatch(/CRITICAL/);
      expect(rerun.status).toBe(0);
      expect((await fixture.client.query(`SELECT count(*)::int AS n FROM "${fixture.schema}".exams`)).rows[0]).toEqual({ n: 5_000 });
    } finally {
      await other.end();
      await fixture.drop();
    }
  }, 120_000);
});
