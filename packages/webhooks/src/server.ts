// The HTTP side: a fastify server that takes each body as raw bytes, checks its signature, stores it
// durably in the receiver's inbox, and only then answers 2xx. Health and readiness for orchestrators.
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ReceiverSecrets, WebhookDefinition } from './definition.js';
import type { Inbox } from './inbox.js';

export interface ReceiverLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** One configured receiver: where deliveries for `/hooks/<name>` are checked and stored. */
export interface Receiver {
  readonly name: string;
  readonly definition: WebhookDefinition;
  readonly secrets: ReceiverSecrets;
  readonly inbox: Inbox;
}

/** What the server counted since it started, per receiver; `/healthz` shows it. */
export interface ReceiverCounts {
  accepted: number;
  samples: number;
  bad_signature: number;
  malformed: number;
  not_stored: number;
}

export interface ServerOptions {
  readonly receivers: readonly Receiver[];
  readonly log: ReceiverLog;
  /** Largest body accepted, in bytes (default 1 MiB); larger ones get 413. */
  readonly bodyLimit?: number;
  /** More to show on `/healthz` (e.g. each drain's progress). */
  readonly status?: () => Record<string, unknown>;
}

export const HOOK_PATH = '/hooks/';

export interface WebhookServer {
  readonly app: FastifyInstance;
  readonly counts: Record<string, ReceiverCounts>;
  /** Deliveries refused before a receiver was known: unknown receivers, oversize bodies. */
  readonly refused: { unknown_receiver: number; too_large: number };
  /** Stops readiness and answers 503 to new deliveries (the vendor retries them elsewhere or later). */
  stopAccepting(): void;
}

/**
 * fastify (with its ~150 modules) loads when a server is made, not with the kit: every tap that
 * reads its vendor's webhooks imports this package, and a tap run never serves (packages/bench
 * README, "Start-up").
 */
const loadFastify = () => (createRequire(import.meta.url)('fastify') as typeof import('fastify')).fastify;

export function createWebhookServer(options: ServerOptions): WebhookServer {
  const app = loadFastify()({ logger: false, bodyLimit: options.bodyLimit ?? 2 ** 20, return503OnClosing: true });
  const receivers = new Map(options.receivers.map((r) => [r.name, r]));
  const counts = Object.fromEntries(
    options.receivers.map((r) => [r.name, { accepted: 0, samples: 0, bad_signature: 0, malformed: 0, not_stored: 0 }]),
  );
  const refused = { unknown_receiver: 0, too_large: 0 };
  let accepting = true;

  // Signatures are over the exact bytes sent: no parser may touch the body before the check.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.get('/healthz', async () => ({ status: 'ok', receivers: counts, refused, ...options.status?.() }));
  app.get('/readyz', async (_request, reply) => (accepting ? { status: 'ready' } : reply.code(503).send({ status: 'draining' })));

  app.post(`${HOOK_PATH}:receiver`, async (request: FastifyRequest<{ Params: { receiver: string } }>, reply: FastifyReply) => {
    const receiver = receivers.get(request.params.receiver);
    const where = { receiver: request.params.receiver, remote: request.ip };
    if (!receiver) {
      refused.unknown_receiver += 1;
      options.log.warn('delivery refused: no receiver of that name', where);
      return reply.code(404).send({ error: `No receiver named "${request.params.receiver}".` });
    }
    if (!accepting) return reply.code(503).send({ error: 'The server is shutting down; send again.' });
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    return handleDelivery(receiver, body, request, reply, counts[receiver.name]!, options.log, where);
  });

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      refused.too_large += 1;
      options.log.warn('delivery refused: body larger than the limit', { url: request.url, remote: request.ip });
      return reply.code(413).send({ error: 'The body is larger than this server accepts.' });
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) options.log.error(`request failed: ${error.message}`, { url: request.url });
    return reply.code(status).send({ error: status === 500 ? 'Internal error; nothing was stored.' : error.message });
  });

  return {
    app,
    counts,
    refused,
    stopAccepting: () => {
      accepting = false;
    },
  };
}

async function handleDelivery(
  receiver: Receiver,
  body: Buffer,
  request: FastifyRequest,
  reply: FastifyReply,
  count: ReceiverCounts,
  log: ReceiverLog,
  where: Record<string, unknown>,
): Promise<FastifyReply> {
  const verdict = receiver.definition.verify(body, request.headers, receiver.secrets);
  if (!verdict.ok) {
    if (verdict.status === 401) count.bad_signature += 1;
    else count.malformed += 1;
    log.warn(`delivery refused: ${verdict.reason}`, where);
    return reply.code(verdict.status).send({ error: verdict.reason });
  }
  // The full read (schema, coercions) waits for the drain: acknowledging costs the check and the fsync.
  const glance = receiver.definition.triage?.(body) ?? { ok: true, sample: false };
  if (!glance.ok) {
    count.malformed += 1;
    log.warn(`delivery refused: ${glance.reason}`, where);
    return reply.code(400).send({ error: glance.reason });
  }
  if (glance.sample) {
    count.samples += 1;
    log.info('test delivery acknowledged, not loaded', where);
    return reply.code(200).send({ status: 'sample acknowledged; not loaded' });
  }
  try {
    await receiver.inbox.append(body);
  } catch (error) {
    count.not_stored += 1;
    log.error(`delivery not stored, answered 503 so the vendor sends it again: ${(error as Error).message}`, where);
    return reply.code(503).send({ error: 'The delivery could not be stored; send it again.' });
  }
  count.accepted += 1;
  return reply.code(200).send({ status: 'stored' });
}
