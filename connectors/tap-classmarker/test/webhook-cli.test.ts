// `classmarker-simulator --webhook-url`: the simulator's command line posts its newest results as
// ClassMarker webhooks, signed over the exact bytes, and sends again what was not acknowledged.
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classmarkerWebhook } from '../src/webhooks/index.js';

const BIN = fileURLToPath(new URL('../bin/classmarker-simulator.js', import.meta.url));
const SECRET = 'cli-webhook-secret';

function simulator(args: string[]) {
  const child = spawn(process.execPath, [BIN, '--port', '0', '--seed', 'hooks', '--group-results', '3', '--link-results', '3', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  /** Resolves with the log once it holds `text`. */
  const said = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const check = () => stderr.includes(text) && resolve(stderr);
      child.stderr.on('data', check);
      void exited.then((code) => reject(new Error(`the simulator exited ${code}: ${stderr}`)));
    });
  return { child, said, exited, stderr: () => stderr };
}

describe('classmarker-simulator --webhook-url', () => {
  it('posts the newest results, group and link in turn, signed; a 503 is sent again', async () => {
    const received: { body: Buffer; headers: IncomingHttpHeaders }[] = [];
    let answered = 0;
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ body: Buffer.concat(chunks), headers: request.headers });
        response.statusCode = answered++ === 0 ? 503 : 200; // the first try fails, as a restarting receiver would
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/cm`;
    const sim = simulator(['--webhook-url', url, '--webhook-secret', SECRET, '--webhook-count', '4', '--webhook-questions']);
    try {
      const log = await sim.said('webhooks acknowledged');
      expect(log).toContain(`classmarker-simulator: 4 of 4 webhooks acknowledged by ${url}`);
      expect(log).toMatch(/webhook 1\/4 \(group \d+, user \d+\) → HTTP 200/);
      expect(received).toHaveLength(5);
      expect(received[0]!.body.equals(received[1]!.body)).toBe(true); // the same bytes, sent again
      for (const { body, headers } of received) expect(classmarkerWebhook.verify(body, headers, { secret: SECRET })).toEqual({ ok: true });
      const deliveries = received.slice(1).map(({ body }) => classmarkerWebhook.read(body));
      expect(deliveries.map((d) => d.records[0]!.stream)).toEqual(['group_results', 'link_results', 'group_results', 'link_results']);
      expect(deliveries.every((d) => d.records.some((r) => r.stream === 'question_responses'))).toBe(true);
      expect(received[1]!.body.toString()).toContain('\\/'); // PHP's escapes, signed as sent
    } finally {
      sim.child.kill('SIGTERM');
      await sim.exited;
      receiver.close();
    }
  });

  it('refuses --webhook-url without --webhook-secret in one sentence', async () => {
    const sim = simulator(['--webhook-url', 'http://127.0.0.1:9/hooks/cm']);
    expect(await sim.exited).toBe(1);
    expect(sim.stderr()).toContain('--webhook-url needs --webhook-secret');
  });
});
