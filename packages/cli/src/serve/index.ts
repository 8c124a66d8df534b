// `tapline serve`: the webhook receivers of tapline.yml behind one HTTP server. Each delivery is
// checked, fsync'd to its receiver's inbox and only then acknowledged; a drain per receiver loads
// the inbox into its target's warehouse in-process (the target's own loader), committing the inbox
// position as the state in the same transaction as the rows.
import path from 'node:path';
import { type BaseTargetConfig, type Dialect, readStoredState, runTarget, stateTableRef, type WarehouseSession } from '@tapline/target-kit';
import {
  createWebhookServer,
  Drainer,
  type DrainLoader,
  type DrainState,
  HOOK_PATH,
  Inbox,
  REJECTS_STREAM,
  type Receiver,
  type StoredReject,
  VERSIONS_STREAM,
  type WebhookDefinition,
} from '@tapline/webhooks';
import { TaplineError } from '../errors.js';
import type { Logger } from '../log.js';
import { targetFor } from '../pipeline.js';
import { tapPackage } from '../plugins.js';
import { type Project, readDotEnv, substituteEnv } from '../project.js';
import { checkTargetConfig, type TargetLibrary, targetLibrary } from '../target-packages.js';
import type { ReceiverSettings, ReceiverType } from './config.js';

export interface ServeOptions {
  project: Project;
  /** The project file, named in messages. */
  file: string | undefined;
  cwd: string;
  port: number;
  host: string;
  /** Where each receiver's inbox folder goes (default `<cwd>/.tapline/inbox`). */
  inboxDir?: string;
  log: Logger;
  bodyLimit?: number;
  /** Where receivers' `${NAME}`s are read (default: the environment, then `.env` in `cwd`). */
  env?: NodeJS.ProcessEnv;
  /** Most stored rejects read again per load (default 500). */
  replayChunk?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly receivers: Record<string, string>;
  readonly drainers: Record<string, Drainer>;
  /** Stops taking deliveries, finishes those in flight, loads what is stored (until `graceMs`) and closes. */
  stop(graceMs?: number): Promise<void>;
}

interface ReceiverPlan {
  name: string;
  settings: ReceiverSettings;
  definition: WebhookDefinition;
  library: TargetLibrary;
  /** Parsed, and as the drain opens it (`Warehouse.givingWay`). */
  config: BaseTargetConfig;
  /** Loads into one warehouse run one at a time (DuckDB has one writer). */
  warehouseKey: string;
  /** The PIDs of other processes (a `tapline run`) waiting to write the warehouse (a DuckDB file), which go first. */
  waitingWriters: () => number[];
}

const WEBHOOK_EXPORTS: Record<ReceiverType, string> = { classmarker: 'classmarkerWebhook', testpress: 'testpressWebhook' };

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { project, log } = options;
  const names = Object.keys(project.receivers);
  if (names.length === 0)
    throw new TaplineError(
      `${options.file ?? 'tapline.yml'} declares no receivers: add a receivers: section (see packages/cli/README.md, "tapline serve").`,
    );
  const env = options.env ?? { ...readDotEnv(options.cwd), ...process.env };
  const plans = await Promise.all(
    names.map((name) => planReceiver(name, receiverSettings(name, project.receivers[name]!, options.file, env), options)),
  );
  const inboxDir = options.inboxDir ?? path.join(options.cwd, '.tapline', 'inbox');
  const receivers: Receiver[] = [];
  for (const plan of plans) {
    const dir = path.join(inboxDir, plan.name);
    let inbox: Inbox;
    try {
      inbox = await Inbox.open(dir);
    } catch (error) {
      throw new TaplineError(
        `receivers.${plan.name}: cannot open its inbox ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      );
    }
    receivers.push({
      name: plan.name,
      definition: plan.definition,
      secrets: { secret: plan.settings.secret, public_key: plan.settings.public_key },
      inbox,
    });
  }
  const locks = new Map<string, Promise<unknown>>();
  const drainers = Object.fromEntries(
    plans.map((plan, i) => [
      plan.name,
      new Drainer({
        name: plan.name,
        inbox: receivers[i]!.inbox,
        definition: plan.definition,
        loader: warehouseLoader(plan, locks, log),
        log,
        ...(options.replayChunk === undefined ? {} : { replayChunk: options.replayChunk }),
      }),
    ]),
  );
  const server = createWebhookServer({
    receivers,
    log,
    bodyLimit: options.bodyLimit,
    status: () => ({
      drains: Object.fromEntries(
        Object.entries(drainers).map(([name, d]) => [
          name,
          {
            loaded: d.loaded,
            rejected: d.rejected,
            replayed: d.replayed,
            replay: d.replayDone ? 'done' : 'running',
            last_error: d.lastError ?? null,
          },
        ]),
      ),
    }),
  });
  let address: string;
  try {
    address = await server.app.listen({ port: options.port, host: options.host });
  } catch (error) {
    await Promise.all(receivers.map((r) => r.inbox.close()));
    throw new TaplineError(
      `Cannot listen on ${options.host}:${options.port}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
    );
  }
  const url = address.replace('://[::1]', '://localhost');
  for (const drainer of Object.values(drainers)) drainer.start();
  return {
    url,
    receivers: Object.fromEntries(names.map((name) => [name, `${url}${HOOK_PATH}${name}`])),
    drainers,
    async stop(graceMs = 10_000) {
      const deadline = Date.now() + graceMs;
      server.stopAccepting();
      await server.app.close();
      await Promise.all(Object.values(drainers).map((d) => d.stop(deadline)));
      await Promise.all(receivers.map((r) => r.inbox.close()));
    },
  };
}

/** A receiver's webhook definition and its target's config, checked before the server starts. */
async function planReceiver(name: string, settings: ReceiverSettings, options: ServeOptions): Promise<ReceiverPlan> {
  const where = `${options.file ?? 'tapline.yml'}: receivers.${name}`;
  const { warehouse, config, describeKey } = targetFor(options.project, settings.target, settings.type, undefined, {
    projectFile: options.file,
  });
  if (!warehouse) throw new TaplineError(`${where}.target: "${settings.target}" is not a duckdb or postgres target of this project.`);
  const library = await targetLibrary(warehouse);
  const targetConfig: Record<string, unknown> = {
    ...config,
    ...(settings.schema ? { default_target_schema: settings.schema } : {}),
    state_table: options.project.state_table,
    state_id: `serve:${name}`,
    // Records arrive in small batches: no worker threads.
    worker_threads: 0,
  };
  const inFolder = library.warehouse.inFolder(targetConfig, options.cwd);
  // The drain opens the warehouse for each short load: while it waits for a DuckDB file, a waiting run goes first.
  const parsed = library.warehouse.givingWay(checkTargetConfig(library, inFolder, describeKey));
  // The receivers are a subpath of the tap, so a polling-only install never loads the server kit.
  let module: Record<string, unknown>;
  try {
    module = (await import(`${tapPackage(settings.type)}/webhooks`)) as Record<string, unknown>;
  } catch (error) {
    throw new TaplineError(
      `${where}: cannot load ${tapPackage(settings.type)}/webhooks (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): install @tapline/webhooks and a tap version with receivers, then build.`,
    );
  }
  const definition = module[WEBHOOK_EXPORTS[settings.type]] as WebhookDefinition | undefined;
  if (!definition) throw new TaplineError(`${tapPackage(settings.type)} has no webhook receiver: rebuild it (\`pnpm build\`).`);
  const warehouseKey = library.warehouse.identity(config, options.cwd);
  const waitingWriters = () => library.warehouse.waitingWriters(parsed);
  return { name, settings, definition, library, config: parsed, warehouseKey, waitingWriters };
}

/** A session on the receiver's warehouse, opened as the drain opens it (giving way to waiting runs). */
type OpenSession = () => Promise<WarehouseSession>;

/** Loads through the target's own loader, in-process; one load at a time per warehouse. */
function warehouseLoader(plan: ReceiverPlan, locks: Map<string, Promise<unknown>>, log: Logger): DrainLoader {
  const exclusive = async <T>(work: () => Promise<T>): Promise<T> => {
    const before = locks.get(plan.warehouseKey) ?? Promise.resolve();
    const mine = before
      .catch(() => {})
      .then(() => yieldToWaiters(plan, log))
      .then(work);
    locks.set(
      plan.warehouseKey,
      mine.catch(() => {}),
    );
    return mine;
  };
  const targetLog = {
    info: () => {},
    warn: (message: string) => log.warn(message, { source: `receiver ${plan.name}` }),
  };
  // The plan's config, not parsed again: parsing would drop what `givingWay` set.
  const open: OpenSession = () => plan.library.warehouse.open(plan.config, targetLog);
  return {
    readPosition: () =>
      exclusive(async () => {
        const state = (await readStoredState(plan.library.dialect, plan.config)) as DrainState | undefined;
        // Read back as exact numbers (LosslessNumber): plain numbers again.
        return state?.inbox
          ? { id: String(state.inbox.id), segment: Number(state.inbox.segment), offset: Number(state.inbox.offset) }
          : undefined;
      }),
    storedVersions: (stream, keys) => exclusive(() => storedVersions(plan, open, stream, keys)),
    storedRejects: (after, limit) => exclusive(() => storedRejects(plan, open, after, limit)),
    load: (lines) =>
      exclusive(async () => {
        await runTarget({
          dialect: plan.library.dialect,
          config: plan.config,
          input: (async function* () {
            yield `${lines.join('\n')}\n`;
          })(),
          output: { write: () => true },
          log: targetLog,
        });
      }),
  };
}

/**
 * DuckDB has one writer, and the drain opens the file for each short load: were it to open again at
 * once, a `tapline run` polling for the lock would rarely find it free. A process waiting for the
 * file (its marker, target-duckdb's open) goes first; the deliveries wait in the inbox meanwhile.
 */
async function yieldToWaiters(plan: ReceiverPlan, log: Logger): Promise<void> {
  let waiting = plan.waitingWriters();
  if (waiting.length === 0) return;
  log.info(
    `receiver ${plan.name}: PID ${waiting.join(', ')} waits to write ${plan.library.warehouse.describe(plan.config)}; the drain lets it go first`,
  );
  while (waiting.length > 0) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    waiting = plan.waitingWriters();
  }
}

/** The versions stored for these keys of `stream`, read from the versions table in the receiver's schema. */
async function storedVersions(
  plan: ReceiverPlan,
  open: OpenSession,
  stream: string,
  keys: readonly string[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const schema = stateTableRef(plan.config, plan.library.dialect as Dialect<unknown>)!.schema;
  const session = await open();
  const versions = { schema, table: VERSIONS_STREAM };
  try {
    if (!(await session.tableExists(versions))) return found;
    for (let at = 0; at < keys.length; at += 500) {
      const chunk = keys.slice(at, at + 500);
      const rows = await session.query(
        `SELECT record_key, version FROM ${session.qualify(schema, VERSIONS_STREAM)} WHERE stream = $1 AND record_key IN (${chunk.map((_, i) => `$${i + 2}`).join(', ')})`,
        [stream, ...chunk],
      );
      for (const row of rows) found.set(String(row.record_key), Number(row.version));
    }
  } finally {
    await session.close();
  }
  return found;
}

/** Up to `limit` set-aside deliveries not yet replayed after `after`, by reject_id, read from the rejects table in the receiver's schema. */
async function storedRejects(plan: ReceiverPlan, open: OpenSession, after: string | undefined, limit: number): Promise<StoredReject[]> {
  const schema = stateTableRef(plan.config, plan.library.dialect as Dialect<unknown>)!.schema;
  const session = await open();
  try {
    if (!(await session.tableExists({ schema, table: REJECTS_STREAM }))) return [];
    // Keyset paging: each chunk starts after the last reject_id read, so one that still does not read is not read twice.
    const rows = await session.query(
      `SELECT reject_id, received_at, body FROM ${session.qualify(schema, REJECTS_STREAM)} WHERE replayed_at IS NULL AND reject_id > $1 ORDER BY reject_id LIMIT ${Math.trunc(limit)}`,
      [after ?? ''],
    );
    return rows.map((row) => ({
      reject_id: String(row.reject_id),
      received_at: row.received_at instanceof Date ? row.received_at.toISOString() : String(row.received_at),
      body: String(row.body),
    }));
  } finally {
    await session.close();
  }
}

/** A receiver's settings with its `${NAME}`s replaced (only `tapline serve` reads them). */
function receiverSettings(name: string, settings: ReceiverSettings, file: string | undefined, env: NodeJS.ProcessEnv): ReceiverSettings {
  return substituteEnv(settings, ['receivers', name], file ?? 'tapline.yml', env) as ReceiverSettings;
}
