// `pnpm --filter @tapline/bench webhooks`: the webhook receiver's acknowledge path (signature check,
// envelope glance, fsync'd inbox append) under concurrent deliveries sent by a second process over
// loopback: deliveries per second, p50/p99 time to acknowledge, and the receiver's CPU per delivery.
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { classmarkerSignature, classmarkerWebhook } from '@tapline/tap-classmarker/webhooks';
import { createWebhookServer, Inbox, type WebhookDefinition } from '@tapline/webhooks';

const SECRET = 'bench-secret';
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/** A ClassMarker link result with questions, about 2 KB, as the vendor escapes it. */
function body(i: number): string {
  const questions = Array.from({ length: 5 }, (_, q) => ({
    question_id: q + 1,
    question_type: 'multiplechoice',
    category_id: 1,
    points_available: 2,
    points_scored: q % 2 ? 2 : 0,
    question: `Question ${q + 1}: which of these is right?`,
    options: { A: { content: 'This/that' }, B: { content: 'Other' } },
    correct_option: 'A',
    user_response: q % 2 ? 'A' : 'B',
    result: q % 2 ? 'correct' : 'incorrect',
  }));
  return JSON.stringify({
    payload_type: 'single_user_test_results_link',
    payload_status: 'live',
    test: { test_id: 1, test_name: 'Bench test' },
    link: { link_id: 2, link_name: 'Bench link', link_url_id: 'abc' },
    result: {
      link_result_id: i,
      first: 'Ann',
      last: 'Lee',
      email: 'ann@example.com',
      percentage: 40.0,
      points_scored: 4,
      points_available: 10,
      requires_grading: 'No',
      time_started: 1765000000 + i,
      time_finished: 1765000600 + i,
      duration: '00:10:00',
      percentage_passmark: 50,
      passed: false,
      access_code_used: 'x',
      extra_info_answer: 'Sales/Ops',
      view_results_url: 'https://www.classmarker.com/view/?r=1',
    },
    questions,
  }).replace(/\//g, '\\/');
}

function post(agent: Agent, port: number, payload: Buffer, signature: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path: '/hooks/cm',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': payload.length, 'x-classmarker-hmac-sha256': signature },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

/** The design before: the full schema read before the acknowledgement (for comparison on the same machine). */
const readBeforeAck: WebhookDefinition = {
  ...classmarkerWebhook,
  triage: (bytes) => ({ ok: true, sample: classmarkerWebhook.read(bytes).sample }),
};

interface ClientReport {
  seconds: number;
  latencies: number[];
  failed: number;
  bodyBytes: number;
  /** The load generator's own CPU (user + system), ms. */
  cpuMs: number;
}

/** The load generator (a child process): posts `deliveries` signed bodies over `concurrency` keep-alive sockets. */
async function client(port: number, deliveries: number, concurrency: number): Promise<ClientReport> {
  const payloads = Array.from({ length: deliveries }, (_, i) => {
    const bytes = Buffer.from(body(i + 1));
    return { bytes, signature: classmarkerSignature(bytes, SECRET) };
  });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < deliveries) {
        const { bytes, signature } = payloads[next++]!;
        const t0 = performance.now();
        if ((await post(agent, port, bytes, signature)) !== 200) failed += 1;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  agent.destroy();
  return { seconds, latencies, failed, bodyBytes: payloads[0]!.bytes.length, cpuMs: (used.user + used.system) / 1000 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      deliveries: { type: 'string' },
      concurrency: { type: 'string' },
      client: { type: 'string' },
      'read-before-ack': { type: 'boolean' },
    },
  });
  const deliveries = Number(values.deliveries ?? 20_000);
  const concurrency = Number(values.concurrency ?? 64);
  if (values.client !== undefined) {
    process.send!(await client(Number(values.client), deliveries, concurrency));
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'tapline-webhook-bench-'));
  const inbox = await Inbox.open(join(dir, 'cm'));
  const server = createWebhookServer({
    receivers: [
      { name: 'cm', definition: values['read-before-ack'] ? readBeforeAck : classmarkerWebhook, secrets: { secret: SECRET }, inbox },
    ],
    log: quiet,
  });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (server.app.server.address() as { port: number }).port;
  const load = loadavg()[0]!;
  const cpu = process.cpuUsage();
  const child = fork(process.argv[1]!, [
    '--client',
    String(port),
    '--deliveries',
    String(deliveries),
    '--concurrency',
    String(concurrency),
  ]);
  const report = await new Promise<ClientReport>((resolve, reject) => {
    child.once('message', (message) => resolve(message as ClientReport));
    child.once('exit', (code) => reject(new Error(`the load generator exited ${code} before it reported`)));
  });
  // The receiver's CPU over the whole run, less nothing: the payloads are built in the child.
  const used = process.cpuUsage(cpu);
  await server.app.close();
  await inbox.close();
  await rm(dir, { recursive: true, force: true });
  const latencies = report.latencies.sort((a, b) => a - b);
  const rate = deliveries / report.seconds;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const serverCpuUs = (used.user + used.system) / deliveries;
  process.stdout.write(
    `| deliveries | concurrency | body | per second | p50 ack | p99 ack | not 200 | receiver CPU / delivery | sender CPU / delivery | load avg (1 min, at start) | goal |\n|---|---|---|---|---|---|---|---|---|---|---|\n` +
      `| ${deliveries} | ${concurrency} | ${report.bodyBytes} B | ${rate.toFixed(0)} | ${p50.toFixed(1)} ms | ${p99.toFixed(1)} ms | ${report.failed} | ${serverCpuUs.toFixed(0)} µs | ${((report.cpuMs * 1000) / deliveries).toFixed(0)} µs | ${load.toFixed(1)} | ≥ 2,000/s at p99 < 50 ms: ${rate >= 2000 && p99 < 50 ? 'met' : 'not met'} |\n`,
  );
}

await main();
