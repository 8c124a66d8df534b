// The job a worker runs: the same single-pipeline run as `tapline run <pipeline>` (exactly-once by the
// target's expected_state), and what its outcome means to the queue: done, retry, or never retry.
import { stringifyJson } from '@tapline/singer';
import type { JobHelpers, Task } from 'graphile-worker';
import { describePartial } from '../commands.js';
import { ExitCode, TaplineError } from '../errors.js';
import { pipelineLogger, SharedBudgets } from '../fleet.js';
import type { Logger, LogLevel } from '../log.js';
import { planPipeline, type RunSummary, runPipeline } from '../pipeline.js';
import type { Project } from '../project.js';
import { type Liveness, stillHeld } from './liveness.js';
import { type PipelinePayload, pipelineJob } from './settings.js';

export interface TaskContext {
  project: Project;
  file: string | undefined;
  cwd: string;
  log: Logger;
  logLevel: LogLevel | undefined;
  /** The queue's schema. */
  schema: string;
  liveness: Liveness;
  /** Aborted by the worker's first SIGTERM/SIGINT: running pipelines stop, and their jobs are released. */
  stop: AbortSignal;
  kill: AbortSignal;
  /** Each run's summary as a JSON line on stdout (`--summary-json`). */
  summaryJson: boolean;
  /** How many pipelines of tapline.yml read with each vendor key (by hash). */
  pipelinesPerKey: ReadonlyMap<string, number>;
}

/** A failure no retry can mend: the user must fix something first (exit 2 or 3, of tapline or of the side that failed). */
export function isPermanent(summary: RunSummary): boolean {
  if (summary.exit_code === ExitCode.usage || summary.exit_code === ExitCode.config) return true;
  const side = /^(?:tap|target) exited with code (\d+)/.exec(summary.error ?? '');
  return side !== null && (Number(side[1]) === ExitCode.usage || Number(side[1]) === ExitCode.config);
}

export function pipelineTask(context: TaskContext): Task {
  return async (payload, helpers) => {
    const { job } = helpers;
    const poolId = job.locked_by!;
    await context.liveness.hold(poolId);
    // Recovery may have freed the job in the moment before this pool's lock was taken.
    if (!(await helpers.withPgClient((client) => stillHeld(client, context.schema, job.id, poolId)))) {
      throw new Error(`job ${job.id} was freed by another worker before this one started it: not run here`);
    }
    const name = typeof payload === 'object' && payload !== null ? (payload as PipelinePayload).pipeline : undefined;
    const queue = await helpers.getQueueName(job.job_queue_id);
    const startedAt = new Date();
    const summary = await runJob(context, String(name), helpers);
    report(context, summary, helpers, { queue, startedAt, endedAt: new Date() });
    if (summary.status === 'succeeded' || summary.status === 'partial') return;
    if (summary.status === 'interrupted') {
      throw new Error(
        `released: the worker was stopped mid-run; what pipeline ${summary.pipeline} committed stays, and the next attempt resumes from it`,
      );
    }
    if (isPermanent(summary)) {
      // remove_job on a running job clears its key (the next schedule adds a fresh one) and spends its attempts.
      await helpers.query(
        `SELECT ${quote(context.schema)}.remove_job(key) FROM ${quote(context.schema)}.jobs WHERE id = $1 AND key IS NOT NULL`,
        [job.id],
      );
    }
    throw new Error(`pipeline ${summary.pipeline} failed (exit ${summary.exit_code}): ${summary.error ?? 'unknown failure'}`);
  };
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

async function runJob(context: TaskContext, name: string, helpers: JobHelpers): Promise<RunSummary> {
  const { project, file, cwd } = context;
  try {
    if (!Object.hasOwn(project.pipelines, name)) {
      throw new TaplineError(
        `job ${helpers.job.id} names pipeline "${name}", which is not in ${file ?? 'tapline.yml'}: every worker needs the project's tapline.yml.`,
        ExitCode.config,
      );
    }
    const plan = planPipeline(project, file, { tap: name }, cwd);
    const { keyHash } = pipelineJob(project, file, name, cwd);
    // Pipelines of one key run one at a time (one queue), on any machine: the key's spent requests are
    // read afresh from every one of their stored states before each run.
    const shared = (context.pipelinesPerKey.get(keyHash) ?? 0) > 1 ? new SharedBudgets(project, file, cwd, undefined) : undefined;
    const rateBudget = shared ? await shared.before(keyHash, plan) : undefined;
    return await runPipeline(plan, {
      log: pipelineLogger(context.log, name),
      signal: context.stop,
      killSignal: context.kill,
      ...(context.logLevel !== undefined ? { logLevel: context.logLevel } : {}),
      ...(rateBudget !== undefined ? { rateBudget } : {}),
    });
  } catch (error) {
    const known = error instanceof TaplineError;
    return {
      pipeline: name,
      status: 'failed',
      exit_code: known ? error.exitCode : ExitCode.internal,
      error: known ? error.message.split('\n\n')[0]! : `tapline failed unexpectedly: ${(error as Error)?.message ?? String(error)}`,
      incremental: false,
      seconds: 0,
      streams: [],
      state: null,
    };
  }
}

const rowsOf = (summary: RunSummary): number => summary.streams.reduce((sum, s) => sum + (s.rows_loaded ?? s.rows_read), 0);

/** One line per run, naming the job and the attempt; with --summary-json, the run's summary on stdout. */
function report(
  context: TaskContext,
  summary: RunSummary,
  helpers: JobHelpers,
  { queue, startedAt, endedAt }: { queue: string | null; startedAt: Date; endedAt: Date },
): void {
  const { job } = helpers;
  const { log } = context;
  const attempt = `job ${job.id}, attempt ${job.attempts} of ${job.max_attempts}`;
  const head = `pipeline ${summary.pipeline} ${summary.status}`;
  const fields =
    log.format === 'json' ? { pipeline: summary.pipeline, exit_code: summary.exit_code, job: job.id, attempt: job.attempts } : {};
  if (summary.status === 'succeeded') log.info(`${head} in ${summary.seconds} s: ${rowsOf(summary)} rows (${attempt})`, fields);
  // Partial is done for the queue (the state is committed; the next scheduled run goes on from it), but said.
  else if (summary.status === 'partial')
    log.warn(`${head} in ${summary.seconds} s (${attempt}): ${describePartial(summary.tap_summary)}`, fields);
  else if (summary.status === 'interrupted') log.warn(`${head} (${attempt}): released to run again`, fields);
  else {
    const next = isPermanent(summary)
      ? 'not retried: fix the cause first'
      : job.attempts >= job.max_attempts
        ? 'no attempt left'
        : 'retried later';
    log.error(`${head} (exit ${summary.exit_code}, ${attempt}; ${next}): ${summary.error ?? 'unknown failure'}`, fields);
  }
  if (context.summaryJson) {
    const line = {
      ...summary,
      job: { id: job.id, attempt: job.attempts, max_attempts: job.max_attempts, queue },
      worker: job.locked_by,
      started_at: startedAt.toISOString(),
      ended_at: endedAt.toISOString(),
    };
    process.stdout.write(`${stringifyJson(line)}\n`);
  }
}
