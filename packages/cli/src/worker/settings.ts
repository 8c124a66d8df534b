// What each pipeline is as a job of the queue (its job key, its queue: the vendor key it reads
// with, its schedule), and which PostgreSQL database holds the queue.
import type pg from 'pg';
import { ExitCode, TaplineError } from '../errors.js';
import { vendorKeyHash } from '../fleet-plan.js';
import { planPipeline, targetFor } from '../pipeline.js';
import { targetPackage } from '../plugins.js';
import type { Project } from '../project.js';
import { type QueueSettings, queueObjectSchema } from './queue-config.js';

/** The task every pipeline job runs; its payload names the pipeline. */
export const PIPELINE_TASK = 'tapline_pipeline';

export interface PipelinePayload {
  pipeline: string;
}

/** A pipeline as a job of the queue. */
export interface PipelineJob {
  pipeline: string;
  /** One waiting job per pipeline: adding it again replaces the waiting one (graphile-worker's job key). */
  jobKey: string;
  /** The pipelines reading with one vendor key share a queue, and a queue runs one job at a time. */
  queueName: string;
  /** The vendor key's hash (fleet-plan.ts). */
  keyHash: string;
  /** Cron (UTC), from tapline.yml's `pipelines.<name>.schedule`. */
  schedule: string | undefined;
}

export function pipelineJob(project: Project, file: string | undefined, name: string, cwd: string): PipelineJob {
  const plan = planPipeline(project, file, { tap: name }, cwd);
  const keyHash = vendorKeyHash(project.taps[plan.tap.name]?.type ?? plan.tap.name, plan.tap.name, plan.tap.config);
  return { pipeline: name, jobKey: `pipeline:${name}`, queueName: `key:${keyHash}`, keyHash, schedule: project.pipelines[name]?.schedule };
}

/** Where the queue lives, as a `pg` client config, and how to name it in messages (never with a password). */
export interface QueueDatabase {
  connection: pg.ClientConfig;
  describe: string;
  settings: QueueSettings;
}

/**
 * The queue's database: `queue.url`, else the PostgreSQL database every PostgreSQL target of the
 * project loads into. A project with none (DuckDB only), or with several, must name it.
 */
export async function queueDatabase(project: Project, file: string | undefined): Promise<QueueDatabase> {
  const settings = project.queue ?? queueObjectSchema.parse({});
  const where = file ?? 'tapline.yml';
  const postgres = (await import(targetPackage('postgres'))) as typeof import('@tapline/target-postgres');
  const read = (config: Record<string, unknown>, label: string): pg.ClientConfig => {
    try {
      return postgres.connectionSettings(config as never);
    } catch (error) {
      throw new TaplineError(`${label}: ${(error as Error).message}.`, ExitCode.config);
    }
  };
  if (settings.url !== undefined) {
    const connection = read({ connection_string: settings.url }, `${where}: queue.url`);
    return { connection, describe: postgres.describeServer(connection), settings };
  }
  const databases = new Map<string, pg.ClientConfig>();
  for (const pipeline of Object.values(project.pipelines)) {
    const { warehouse, config } = targetFor(project, pipeline.target, undefined, undefined);
    if (warehouse !== 'postgres') continue;
    const connection = read(config, `${where}: targets.${pipeline.target}`);
    databases.set(postgres.describeServer(connection), connection);
  }
  if (databases.size === 1) {
    const [[describe, connection]] = [...databases] as [[string, pg.ClientConfig]];
    return { connection, describe, settings };
  }
  throw new TaplineError(
    databases.size === 0
      ? `${where} has no PostgreSQL target to keep the job queue in: a DuckDB-only project needs a PostgreSQL database for it (queue: postgres://... in tapline.yml).`
      : `${where}'s pipelines load into ${databases.size} PostgreSQL databases (${[...databases.keys()].join('; ')}): say which keeps the job queue (queue: postgres://... in tapline.yml).`,
    ExitCode.config,
  );
}
