// `tapline serve` SIGKILLed at random moments while a client posts deliveries and sends again every
// one not acknowledged (as ClassMarker retries on anything but 2xx): after a restart, every
// acknowledged delivery is in the warehouse exactly once.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { duckdbRows, PG_URL, TAPLINE_BIN, tempDir } from './helpers.js';
import { CM_SECRET, cmHeaders, cmLinkBody } from './webhook-payloads.js';

interface Served {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

async function serve(dir: string): Promise<Served> {
  const child = spawn(process.execPath, [TAPLINE_BIN, 'serve', '--port', '0', '--log-format', 'json'], {
    cwd: dir,
    env: { ...process.env, CM_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    void exited.then((code) => reject(new Error(`tapline serve exited ${code} before it listened: ${stderr}`)));
  });
  const started = JSON.parse(line) as { url: string; receivers: Record<string, string> };
  expect(started.receivers.cm).toBe(`${started.url}/hooks/cm`);
  return { child, url: started.receivers.cm!, exited };
}

const targets = [
  { name: 'PostgreSQL', type: 'postgres' },
  { name: 'DuckDB', type: 'duckdb' },
] as const;

describe.each(targets)('tapline serve killed mid-load, into $name', ({ type }) => {
  it('keeps every acknowledged delivery: each lands exactly once', async () => {
    const { dir, cleanup } = await tempDir();
    const schema = `serve_kill_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const config = type === 'postgres' ? { connection_string: PG_URL } : { path: 'w.duckdb' };
    await writeFile(
      path.join(dir, 'tapline.yml'),
      JSON.stringify({
        targets: { wh: { type, config } },
        receivers: { cm: { type: 'classmarker', secret: '${CM_SECRET}', target: 'wh', schema } },
      }),
    );
    const deliveries = Array.from({ length: 400 }, (_, i) => cmLinkBody(1000 + (i % 300))); // 100 re-sends of earlier results
    const acknowledged = new Set<number>();
    let server = await serve(dir);
    let kills = 0;
    try {
      const pending = deliveries.map((body, i) => ({ body, i }));
      const until = Date.now() + 90_000;
      while (pending.length > 0 && Date.now() < until) {
        // SIGKILL at a random moment of this round, then restart.
        const killAt = kills < 3 ? setTimeout(() => server.child.kill('SIGKILL'), 20 + Math.random() * 300) : undefined;
        const round = pending.splice(0);
        await Promise.all(
          Array.from({ length: 8 }, async (_, worker) => {
            for (let n = worker; n < round.length; n += 8) {
              const { body, i } = round[n]!;
              const status = await fetch(server.url, { method: 'POST', body, headers: cmHeaders(body) }).then(
                (r) => r.arrayBuffer().then(() => r.status),
                () => 0,
              );
              if (status === 200) acknowledged.add(i);
              else pending.push(round[n]!); // not acknowledged: the vendor sends it again
            }
          }),
        );
        clearTimeout(killAt);
        if (server.child.exitCode === null && server.child.signalCode === null && pending.length > 0 && kills < 3) {
          server.child.kill('SIGKILL');
        }
        if (server.child.signalCode === 'SIGKILL' || server.child.exitCode !== null) {
          await server.exited;
          kills += 1;
          server = await serve(dir);
        }
      }
      expect(pending).toEqual([]);
      expect(kills).toBeGreaterThan(0);
    } finally {
      // SIGTERM: a graceful stop loads what the inbox holds, then exits 0.
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
    const ids = [...new Set([...acknowledged].map((i) => 1000 + (i % 300)))].sort((a, b) => a - b);
    expect(ids).toHaveLength(300);
    const sql = `SELECT link_result_id FROM "${schema}".link_results ORDER BY link_result_id`;
    let rows: Record<string, unknown>[];
    if (type === 'postgres') {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        rows = (await client.query(sql)).rows as Record<string, unknown>[];
        await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    } else {
      rows = await duckdbRows(path.join(dir, 'w.duckdb'), sql);
    }
    expect(rows.map((r) => Number(r.link_result_id))).toEqual(ids);
    await cleanup();
  }, 180_000);
});
