// Loads that wait on another transaction: a second first load goes on once the first committed; a stop signal meets the wait.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { plainPgClient, pgIsReachable, PG_URL } from '@tapline/testing';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/target-postgres.js', import.meta.url));
const reachable = await pgIsReachable();

describe.skipIf(!reachable)('loads waiting on another transaction', () => {
  it('a schema another transaction is creating: the load waits for it, then loads into it (no unique-index error)', async () => {
    const schema = `race_${randomBytes(4).toString('hex')}`;
    const other = await plainPgClient();
    try {
      await other.query('BEGIN');
      await other.query(`CREATE SCHEMA "${schema}"`);
      const dir = mkdtempSync(join(tmpdir(), 'tapline-race-'));
      const config = join(dir, 'config.json');
      writeFileSync(config, JSON.stringify({ connection_string: PG_URL, default_target_schema: schema }));
      const target = spawn(process.execPath, [bin, '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      target.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      target.stdin.end(
        [
          '{"type":"SCHEMA","stream":"exams","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
          '{"type":"RECORD","stream":"exams","record":{"id":1}}',
          '{"type":"STATE","value":{"at":1}}',
        ].join('\n'),
      );
      // The target's CREATE SCHEMA now waits on this transaction's.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(target.exitCode).toBeNull();
      await other.query('COMMIT');
      const [code] = (await once(target, 'exit')) as [number];
      expect(stderr).not.toMatch(/CRITICAL/);
      expect(code).toBe(0);
      expect((await other.query(`SELECT id FROM "${schema}".exams`)).rows).toEqual([{ id: 1 }]);
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      await other.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await other.end();
    }
  });

  it('SIGTERM while a statement waits on a lock: the wait goes on; a second SIGTERM exits at once, exit 143, nothing committed', async () => {
    const schema = `stuck_${randomBytes(4).toString('hex')}`;
    const other = await plainPgClient();
    const watcher = await plainPgClient();
    try {
      await other.query('BEGIN');
      await other.query(`CREATE SCHEMA "${schema}"`);
      const dir = mkdtempSync(join(tmpdir(), 'tapline-stuck-'));
      const config = join(dir, 'config.json');
      writeFileSync(config, JSON.stringify({ connection_string: PG_URL, default_target_schema: schema }));
      const target = spawn(process.execPath, [bin, '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      target.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      target.stdin.write(
        [
          '{"type":"SCHEMA","stream":"exams","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
          '{"type":"RECORD","stream":"exams","record":{"id":1}}',
          '{"type":"STATE","value":{"at":1}}',
          '',
        ].join('\n'),
      );
      // The target's CREATE SCHEMA waits on this transaction's; the first SIGTERM cannot cut that short.
      // Watched from a connection of its own: within a transaction pg_stat_activity stays as first read.
      await until(async () => {
        const waiting = await watcher.query(
          `SELECT 1 FROM pg_stat_activity WHERE application_name = 'tapline-target-postgres' AND wait_event_type = 'Lock' AND query LIKE '%${schema}%'`,
        );
        return waiting.rowCount === 1;
      });
      target.kill('SIGTERM');
      await until(async () => /WARNING SIGTERM: stopping/.test(stderr));
      expect(target.exitCode).toBeNull();
      target.kill('SIGTERM');
      const [code] = (await once(target, 'exit')) as [number];
      expect(code).toBe(143);
      expect(stderr).toMatch(/SIGTERM again: exiting now, without committing/);
      await other.query('COMMIT');
      const tables = await other.query('SELECT 1 FROM pg_tables WHERE schemaname = $1', [schema]);
      expect(tables.rowCount).toBe(0);
      target.stdin.destroy();
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      await other.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await other.end();
      await watcher.end();
    }
  });
});

/** Resolves once `check` holds (polled every 50 ms); the test's own timeout bounds the wait. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 50));
}
