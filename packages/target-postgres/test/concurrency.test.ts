// Loads that meet other sessions: a second first load goes on once the first committed; a stop signal
// meets a wait; a connection that goes away (a restart, a failover, a terminated backend) is one sentence;
// two runs of one pipeline (same state_id) never load at once.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PG_URL, pgIsReachable, plainPgClient, withScratchSchema } from '@tapline/testing';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/target-postgres.js', import.meta.url));
const reachable = await pgIsReachable();

const header = [
  '{"type":"SCHEMA","stream":"exams","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
  '{"type":"RECORD","stream":"exams","record":{"id":1}}',
];

/** A target loading into `schema`, its input open until the test ends it. */
function startTarget(schema: string, extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tapline-concurrent-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ connection_string: PG_URL, default_target_schema: schema, ...extra }));
  const target = spawn(process.execPath, [bin, '--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  target.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  target.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  target.stdin.on('error', () => {});
  return { target, output };
}

/** The target's server process(es) matching `condition`. */
const backendWhere = (condition: string) =>
  `SELECT pid FROM pg_stat_activity WHERE application_name = 'tapline-target-postgres' AND ${condition}`;

type Client = Awaited<ReturnType<typeof plainPgClient>>;

/**
 * A fresh schema that another session's open transaction is creating (a load into it waits on
 * that transaction), and a watcher connection of its own (within a transaction pg_stat_activity
 * stays as first read); both cleaned up after `body`.
 */
async function whileAnotherCreates(
  prefix: string,
  body: (place: { schema: string; other: Client; watcher: Client }) => Promise<void>,
): Promise<void> {
  await withScratchSchema(prefix, async (schema, watcher) => {
    const other = await plainPgClient();
    try {
      await other.query('BEGIN');
      await other.query(`CREATE SCHEMA "${schema}"`);
      await body({ schema, other, watcher });
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      await other.end();
    }
  });
}

/** The server process of the target once its CREATE SCHEMA waits on the other transaction. */
async function waitingOnLock(watcher: Client, schema: string): Promise<number> {
  let pid: number | undefined;
  await until(async () => {
    pid = (await watcher.query(backendWhere(`wait_event_type = 'Lock' AND query LIKE '%${schema}%'`))).rows[0]?.pid;
    return pid !== undefined;
  });
  return pid!;
}

describe.skipIf(!reachable)('loads waiting on another transaction', () => {
  it('a schema another transaction is creating: the load waits for it, then loads into it (no unique-index error)', () =>
    whileAnotherCreates('race', async ({ schema, other, watcher }) => {
      const { target, output } = startTarget(schema);
      target.stdin.end(`${header.join('\n')}\n{"type":"STATE","value":{"at":1}}`);
      await waitingOnLock(watcher, schema);
      await other.query('COMMIT');
      const [code] = (await once(target, 'exit')) as [number];
      expect(output.stderr).not.toMatch(/CRITICAL/);
      expect(code).toBe(0);
      expect((await watcher.query(`SELECT id FROM "${schema}".exams`)).rows).toEqual([{ id: 1 }]);
    }));

  it('SIGTERM while a statement waits on a lock: the wait goes on; a second SIGTERM exits at once, exit 143, nothing committed', () =>
    whileAnotherCreates('stuck', async ({ schema, other, watcher }) => {
      const { target, output } = startTarget(schema);
      target.stdin.write(`${header.join('\n')}\n{"type":"STATE","value":{"at":1}}\n`);
      await waitingOnLock(watcher, schema);
      target.kill('SIGTERM');
      await until(async () => /WARN SIGTERM: stopping/.test(output.stderr));
      expect(target.exitCode).toBeNull(); // the first SIGTERM cannot cut the wait short
      target.kill('SIGTERM');
      const [code] = (await once(target, 'exit')) as [number];
      expect(code).toBe(143);
      expect(output.stderr).toMatch(/SIGTERM again: exiting now, without committing/);
      await other.query('COMMIT');
      expect((await watcher.query('SELECT 1 FROM pg_tables WHERE schemaname = $1', [schema])).rowCount).toBe(0);
      target.stdin.destroy();
    }));
});

describe.skipIf(!reachable)('the connection to PostgreSQL going away', () => {
  it('terminated while a statement runs: one sentence, exit 4 (transient), no stack trace, nothing committed', () =>
    whileAnotherCreates('lost', async ({ schema, other, watcher }) => {
      const { target, output } = startTarget(schema);
      target.stdin.write(`${header.join('\n')}\n`);
      await watcher.query('SELECT pg_terminate_backend($1)', [await waitingOnLock(watcher, schema)]);
      const [code] = (await once(target, 'exit')) as [number];
      expect(code).toBe(4);
      expect(output.stderr).toMatch(
        /CRITICAL the connection to PostgreSQL was lost \(terminating connection due to administrator command\)/,
      );
      expect(output.stderr).not.toMatch(/\n\s+at /);
      expect(output.stdout).toBe('');
      await other.query('COMMIT');
      expect((await watcher.query('SELECT 1 FROM pg_tables WHERE schemaname = $1', [schema])).rowCount).toBe(0);
    }));

  it('terminated while idle between messages: the next statement says so in one sentence, exit 1; the uncommitted rows are gone', async () => {
    await withScratchSchema('lost', async (schema, watcher) => {
      const { target, output } = startTarget(schema);
      // The STATE is not due for a commit yet (batch_size_rows): the session sits idle in its open transaction.
      target.stdin.write(`${header.join('\n')}\n{"type":"STATE","value":{"at":1}}\n`);
      let pid: number | undefined;
      await until(async () => {
        pid = (await watcher.query(backendWhere(`state = 'idle in transaction'`))).rows[0]?.pid;
        return pid !== undefined && /created table/.test(output.stderr);
      });
      await watcher.query('SELECT pg_terminate_backend($1)', [pid]);
      await until(async () => (await watcher.query(backendWhere('true'))).rowCount === 0);
      target.stdin.end('{"type":"RECORD","stream":"exams","record":{"id":2}}\n');
      const [code] = (await once(target, 'exit')) as [number];
      expect(code).toBe(4);
      expect(output.stderr).toMatch(/CRITICAL the connection to PostgreSQL was lost/);
      expect(output.stderr).not.toMatch(/\n\s+at /);
      expect(output.stdout).toBe('');
      expect((await watcher.query('SELECT 1 FROM pg_tables WHERE schemaname = $1', [schema])).rowCount).toBe(0);
    });
  });
});

describe.skipIf(!reachable)('two runs of one pipeline at once', () => {
  it("with state_table: the second fails within seconds, naming the state_id and the first run's backend; the first goes on", async () => {
    await withScratchSchema('twice', async (schema, watcher) => {
      const pipeline = { state_table: 'tapline_state', state_id: 'hourly' };
      const first = startTarget(schema, pipeline);
      first.target.stdin.write(`${header.join('\n')}\n`);
      await until(async () => /created table/.test(first.output.stderr));
      const second = startTarget(schema, pipeline);
      second.target.stdin.end(`${header.join('\n')}\n{"type":"STATE","value":{"at":1}}\n`);
      const [secondCode] = (await once(second.target, 'exit')) as [number];
      expect(secondCode).toBe(4); // transient: run again once the other load is done
      expect(second.output.stderr).toMatch(
        /CRITICAL state_table twice_\w+\.tapline_state: another load with state_id "hourly" is running \(PostgreSQL backend \d+, connected at /,
      );
      expect(second.output.stdout).toBe('');
      first.target.stdin.end('{"type":"STATE","value":{"at":1}}\n');
      const [firstCode] = (await once(first.target, 'exit')) as [number];
      expect(first.output.stderr).not.toMatch(/CRITICAL/);
      expect(firstCode).toBe(0);
      expect((await watcher.query(`SELECT id FROM "${schema}".exams`)).rows).toEqual([{ id: 1 }]);
      // Once the first run ended, its lock is gone: the next run loads.
      const third = startTarget(schema, pipeline);
      third.target.stdin.end(`${header.join('\n')}\n{"type":"STATE","value":{"at":2}}\n`);
      const [thirdCode] = (await once(third.target, 'exit')) as [number];
      expect(thirdCode).toBe(0);
    });
  });

  it('two pipelines with their own state_id load side by side', async () => {
    await withScratchSchema('side', async (schema, watcher) => {
      // The schema and the state table exist (a first load into a new schema makes the next one wait for its commit).
      const earlier = startTarget(schema, { state_table: 'tapline_state', state_id: 'a' });
      earlier.target.stdin.end(`${header.join('\n')}\n{"type":"STATE","value":{"at":0}}\n`);
      expect(((await once(earlier.target, 'exit')) as [number])[0]).toBe(0);
      const first = startTarget(schema, { state_table: 'tapline_state', state_id: 'a' });
      first.target.stdin.write(`${header.join('\n')}\n`);
      // Loading: its transaction is open, waiting for more input.
      await until(async () => (await watcher.query(backendWhere(`state = 'idle in transaction'`))).rowCount === 1);
      const second = startTarget(schema, { state_table: 'tapline_state', state_id: 'b' });
      second.target.stdin.end(
        '{"type":"SCHEMA","stream":"other","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":["id"]}\n{"type":"STATE","value":{"at":1}}\n',
      );
      const [secondCode] = (await once(second.target, 'exit')) as [number];
      expect(second.output.stderr).not.toMatch(/CRITICAL/);
      expect(secondCode).toBe(0);
      first.target.stdin.end('{"type":"STATE","value":{"at":1}}\n');
      const [firstCode] = (await once(first.target, 'exit')) as [number];
      expect(firstCode).toBe(0);
    });
  });
});

/** Resolves once `check` holds (polled every 50 ms); the test's own timeout bounds the wait. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 50));
}
