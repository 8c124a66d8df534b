// Two loads at once into what does not exist yet: the second waits for the first, then goes on.
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

describe.skipIf(!reachable)('concurrent first loads', () => {
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
});
