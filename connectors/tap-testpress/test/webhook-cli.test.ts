// `testpress-simulator --webhook-url`: the simulator's command line posts its newest attempts as
// Testpress's exam webhook (started, then completed), each with its hash, sent again until acknowledged.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testpressWebhook } from '../src/webhooks/index.js';

const BIN = fileURLToPath(new URL('../bin/testpress-simulator.js', import.meta.url));
const KEYS = { secret: 'tp-cli-private', public_key: 'tp-cli-public' };

describe('testpress-simulator --webhook-url', () => {
  it('posts the newest attempts with a hash the receiver accepts; a refused try is sent again', async () => {
    const received: Buffer[] = [];
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push(Buffer.concat(chunks));
        response.statusCode = received.length === 1 ? 500 : 200;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/tp`;
    const args = ['--port', '0', '--seed', 'hooks', '--exams', '3', '--attempts-per-exam', '4', '--webhook-url', url];
    const child = spawn(
      process.execPath,
      [BIN, ...args, '--webhook-secret', KEYS.secret, '--webhook-public-key', KEYS.public_key, '--webhook-count', '3'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    const done = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('webhooks acknowledged')) resolve();
      });
      child.on('close', (code) => reject(new Error(`the simulator exited ${code}: ${stderr}`)));
    });
    try {
      await done;
      const [, sent, total] = /: (\d+) of (\d+) webhooks acknowledged by /.exec(stderr)!;
      expect(sent).toBe(total);
      expect(received).toHaveLength(Number(total) + 1); // the refused first try, sent again
      for (const body of received) expect(testpressWebhook.verify(body, {}, KEYS)).toEqual({ ok: true });
      const labels = received.slice(1).map((body) => testpressWebhook.read(body).label);
      expect(labels[0]).toMatch(/^attempt_id \d+ \(started\)$/);
      expect(labels.filter((label) => label.endsWith('(started)'))).toHaveLength(3);
    } finally {
      child.kill('SIGTERM');
      receiver.close();
    }
  });

  it('refuses --webhook-url without --webhook-secret in one sentence', async () => {
    const child = spawn(process.execPath, [BIN, '--port', '0', '--webhook-url', 'http://127.0.0.1:9/hooks/tp'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(1);
    expect(stderr).toContain("--webhook-url needs --webhook-secret (the institute's private key to sign with)");
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
