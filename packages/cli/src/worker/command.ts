// `tapline worker` (run pipelines from the job queue, and the project's cron schedules) and
// `tapline schedule` (queue pipeline runs now), on graphile-worker, the PostgreSQL job queue.
import { stringifyJson } from '@tapline/singer';
import type { ParsedCronItem, Runner, Task, WorkerEvents } from 'graphile-worker';
import pg from 'pg';
import { ExitCode, TaplineError } from '../errors.js';
import { selectPipelines } from '../fleet-plan.js';
import type { Interrupts } from '../interrupts.js';
import type { Logger, LogLevel } from '../log.js';
import { loadProject, type Project } from '../project.js';
import { Liveness, recoverDeadWorkers } from './liveness.js';
import { pipelineTask } from './pipeline-task.js';
import { PIPELINE_TASK, type PipelineJob, pipelineJob, type QueueDatabase, queueDatabase } from './settings.js';

export interface WorkerFlags {
  project?: string | undefined;
  all?: boolean | undefined;
  select?: string[] | undefined;
  tag?: string[] | undefined;
  jobs?: string | undefined;
  'summary-json'?: boolean | undefined;
}

/** graphile-worker 0.18 runs on Node.js 22.18 or newer. */
const WORKER_NODE = [22, 18] as const;

function checkNode(): void {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > WORKER_NODE[0] || (major === WORKER_NODE[0] && minor >= WORKER_NODE[1])) return;
  throw new TaplineError(
    `tapline worker and tapline schedule need Node.js ${WORKER_NODE.join('.')} or newer (graphile-worker); this is Node.js ${process.versions.node}.`,
    ExitCode.config,
  );
}

/** A pool to the queue's database; graphile-worker and the dead-worker check share it. */
function queuePool(database: QueueDatabase, size: number, log: Logger): pg.Pool {
  const pool = new pg.Pool({ ...database.connection, max: size, application_name: 'tapline worker' });
  // A connection that breaks (idle or checked out) is replaced on next use; without a listener it would end the process.
  const dropped = (error: Error) => log.warn(`the queue's database dropped a connection (${database.describe}): ${error.message}`);
  pool.on('error', dropped);
  pool.on('connect', (client) => client.on('error', dropped));
  return pool;
}

const unreachable = (database: QueueDatabase, error: unknown): TaplineError =>
  new TaplineError(`Cannot reach the job queue's database (${database.describe}): ${(error as Error).message}.`, ExitCode.stateFailed);

/** The jobs of the pipelines that have a `schedule:`, as graphile-worker cron items (one job per tick across all workers). */
export async function cronItems(file: string | undefined, jobs: readonly PipelineJob[], maxAttempts: number): Promise<ParsedCronItem[]> {
  const { parseCronItem } = await import('graphile-worker');
  return jobs.flatMap((job) => {
    if (job.schedule === undefined) return [];
    try {
      return [
        parseCronItem(
          {
            task: PIPELINE_TASK,
            match: job.schedule,
            identifier: job.jobKey,
            payload: { pipeline: job.pipeline },
            options: { queueName: job.queueName, jobKey: job.jobKey, jobKeyMode: 'preserve_run_at', maxAttempts, backfillPeriod: 0 },
          },
          `pipelines.${job.pipeline}.schedule`,
        ),
      ];
    } catch (error) {
      throw new TaplineError(
        `${file ?? 'tapline.yml'}: pipelines.${job.pipeline}.schedule: "${job.schedule}" is not a cron schedule (minute hour day month weekday, UTC): ${(error as Error).message}`,
        ExitCode.config,
      );
    }
  });
}

/** Every pipeline of tapline.yml as a job; one that cannot be planned is logged and left out (it fails alone). */
function projectJobs(project: Project, file: string | undefined, cwd: string, log: Logger): PipelineJob[] {
  return Object.keys(project.pipelines).flatMap((name) => {
    try {
      return [pipelineJob(project, file, name, cwd)];
    } catch (error) {
      log.error(`pipeline ${name} cannot run on this worker: ${(error as Error).message}`);
      return [];
    }
  });
}

/** What a worker needs before it connects: the project, the queue's database, its jobs and schedules. */
async function planWorker(args: string[], flags: WorkerFlags, cwd: string, log: Logger) {
  if (args.length > 0 || flags.all || flags.select?.length || flags.tag?.length) {
    throw new TaplineError(
      'tapline worker takes no pipelines: it runs whatever the queue holds (tapline schedule queues runs; schedule: in tapline.yml, cron).',
      ExitCode.usage,
    );
  }
  checkNode();
  const concurrency = parseJobs(flags.jobs);
  const { project, file } = await loadProject(flags.project, cwd);
  if (Object.keys(project.pipelines).length === 0)
    throw new TaplineError(`${file ?? 'tapline.yml (none found)'} defines no pipelines: a worker has nothing to run.`);
  const database = await queueDatabase(project, file);
  const jobs = projectJobs(project, file, cwd, log);
  const parsedCronItems = await cronItems(file, jobs, database.settings.max_attempts);
  const pipelinesPerKey = new Map<string, number>();
  for (const job of jobs) pipelinesPerKey.set(job.keyHash, (pipelinesPerKey.get(job.keyHash) ?? 0) + 1);
  return { concurrency, project, file, database, jobs, parsedCronItems, pipelinesPerKey };
}

export async function workerCommand(
  args: string[],
  flags: WorkerFlags,
  cwd: string,
  log: Logger,
  logLevel: LogLevel | undefined,
  interrupts: Interrupts,
): Promise<number> {
  const { concurrency, project, file, database, jobs, parsedCronItems, pipelinesPerKey } = await planWorker(args, flags, cwd, log);
  const { settings } = database;
  const { signal: interrupted, killSignal: kill } = interrupts.handle();
  const livenessLost = new AbortController();
  // Running pipelines stop on a signal, and when this worker can no longer prove it lives.
  const stop = AbortSignal.any([interrupted, livenessLost.signal]);
  const pool = queuePool(database, concurrency + 3, log);
  const liveness = await Liveness.open(database.connection, settings.schema, (error) => {
    // Without its proof of life another worker may take this one's jobs: stop them here.
    log.error(`the worker lost its connection to the queue's database (${database.describe}): ${error.message}; stopping`);
    livenessLost.abort(error);
  }).catch((error) => {
    void pool.end();
    throw unreachable(database, error);
  });
  const summaryJson = flags['summary-json'] === true;
  const task = pipelineTask({
    project,
    file,
    cwd,
    log,
    logLevel,
    schema: settings.schema,
    liveness,
    stop,
    kill,
    pipelinesPerKey,
    summaryJson,
  });
  const runner = await startRunner({ pool, database, concurrency, task, parsedCronItems, liveness, log });
  const schedules = jobs.filter((job) => job.schedule !== undefined).map((job) => `${job.pipeline} (${job.schedule})`);
  log.info(
    `worker: ${concurrency} pipeline${concurrency === 1 ? '' : 's'} at a time from the queue in ${database.describe}, schema ${settings.schema}; ` +
      `schedules (UTC): ${schedules.length > 0 ? schedules.join(', ') : 'none'}`,
  );
  const recovery = deadWorkerChecks(pool, settings.schema, settings.dead_worker_check_seconds, log);
  const onStop = (): void => {
    log.warn('worker: stopping: no new job; running pipelines stop (what they committed stays) and their jobs are released');
    void runner.stop();
  };
  if (stop.aborted) onStop();
  else stop.addEventListener('abort', onStop, { once: true });
  try {
    await runner.promise;
  } catch (error) {
    if (!stop.aborted) throw error;
  } finally {
    stop.removeEventListener('abort', onStop);
    recovery.stop();
    await Promise.all([liveness.close(), pool.end().catch(() => {})]);
  }
  if (livenessLost.signal.aborted) return ExitCode.stateFailed;
  return stop.aborted ? ExitCode.interrupted : ExitCode.ok;
}

/** graphile-worker's runner: the pipeline task, the schedules, tapline's logger and signals. */
async function startRunner(options: {
  pool: pg.Pool;
  database: QueueDatabase;
  concurrency: number;
  task: Task;
  parsedCronItems: ParsedCronItem[];
  liveness: Liveness;
  log: Logger;
}): Promise<Runner> {
  const { pool, database, liveness } = options;
  const { EventEmitter } = await import('node:events');
  const { run, Logger: GraphileLogger } = await import('graphile-worker');
  const events = new EventEmitter() as WorkerEvents;
  // The proof of life is taken as the pool is created, before it locks a job (each job waits for it too).
  events.on('pool:create', ({ workerPool }) => void liveness.hold(workerPool.id).catch(() => {}));
  try {
    return await run({
      pgPool: pool,
      schema: database.settings.schema,
      concurrency: options.concurrency,
      noHandleSignals: true, // tapline's own (interrupts.ts): the first stops and releases, the second kills
      pollInterval: 1000,
      // Batched (with no delay), a job's completion or failure is awaited before the worker ends;
      // unbatched, it is fired and forgotten, and a SIGTERM could leave the job locked behind it.
      preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
      taskList: { [PIPELINE_TASK]: options.task },
      parsedCronItems: options.parsedCronItems,
      logger: new GraphileLogger(() => graphileLog(options.log)),
      events,
    });
  } catch (error) {
    await Promise.all([liveness.close(), pool.end()]);
    throw unreachable(database, error);
  }
}

/** Frees the jobs of dead workers now and every `seconds`, so a killed worker's pipeline runs again elsewhere. */
function deadWorkerChecks(pool: pg.Pool, schema: string, seconds: number, log: Logger): { stop: () => void } {
  let running = false;
  const check = async (): Promise<void> => {
    if (running) return;
    running = true;
    const client = await pool.connect().catch(() => undefined);
    try {
      if (!client) return;
      const dead = await recoverDeadWorkers(client, schema);
      if (dead.length > 0)
        log.warn(
          `worker: freed the jobs of ${dead.length} dead worker${dead.length === 1 ? '' : 's'} (${dead.join(', ')}): they run again`,
        );
    } catch (error) {
      log.warn(`worker: could not check for dead workers: ${(error as Error).message}`);
    } finally {
      client?.release();
      running = false;
    }
  };
  void check();
  const timer = setInterval(() => void check(), seconds * 1000);
  return { stop: () => clearInterval(timer) };
}

/** graphile-worker's own lines, through tapline's logger; a job's failure is already tapline's own line. */
function graphileLog(log: Logger) {
  return (level: string, message: string, meta?: { failure?: boolean }) => {
    if (level === 'error' && !meta?.failure) log.error(`graphile-worker: ${message}`);
    else if (level === 'warning') log.warn(`graphile-worker: ${message}`);
    else log.debug(`graphile-worker: ${message}`);
  };
}

function parseJobs(jobs: string | undefined): number {
  if (jobs === undefined) return 1;
  if (!/^\d+$/.test(jobs.trim()) || Number(jobs) < 1)
    throw new TaplineError(`--jobs must be a whole number of 1 or more, not "${jobs}".`, ExitCode.usage);
  return Number(jobs);
}

/** `tapline schedule --all | --select NAME|GLOB | --tag TAG`: one waiting job per pipeline, however often it is called. */
export async function scheduleCommand(args: string[], flags: WorkerFlags, cwd: string, log: Logger): Promise<number> {
  if (args.length > 0) {
    throw new TaplineError(`tapline schedule takes no <pipeline> (got ${args.join(' ')}): name pipelines with --select.`, ExitCode.usage);
  }
  if (!flags.all && !flags.select?.length && !flags.tag?.length) {
    throw new TaplineError(
      'tapline schedule queues runs of the pipelines chosen with --all, --select NAME|GLOB or --tag TAG.',
      ExitCode.usage,
    );
  }
  if (flags.jobs !== undefined) throw new TaplineError('--jobs applies to tapline worker, not to tapline schedule.', ExitCode.usage);
  checkNode();
  const { project, file } = await loadProject(flags.project, cwd);
  const names = selectPipelines(project, file, { all: flags.all, select: flags.select, tags: flags.tag });
  const jobs = names.map((name) => pipelineJob(project, file, name, cwd));
  const database = await queueDatabase(project, file);
  const { settings } = database;
  await cronItems(file, jobs, settings.max_attempts); // a broken schedule is said here too, not only by the workers
  const pool = queuePool(database, 2, log);
  const { makeWorkerUtils } = await import('graphile-worker');
  try {
    const utils = await makeWorkerUtils({ pgPool: pool, schema: settings.schema }).catch((error) => {
      throw unreachable(database, error);
    });
    try {
      await utils.migrate().catch((error) => {
        throw unreachable(database, error);
      });
      const jobsView = `"${settings.schema.replace(/"/g, '""')}".jobs`;
      for (const job of jobs) {
        const before = await pool.query<{ id: string; locked_at: Date | null }>(`SELECT id, locked_at FROM ${jobsView} WHERE key = $1`, [
          job.jobKey,
        ]);
        const added = await utils.addJob(
          PIPELINE_TASK,
          { pipeline: job.pipeline },
          { queueName: job.queueName, jobKey: job.jobKey, jobKeyMode: 'preserve_run_at', maxAttempts: settings.max_attempts },
        );
        const existing = before.rows[0];
        const outcome = existing === undefined ? 'queued' : existing.locked_at === null ? 'already queued' : 'queued after the running one';
        log.info(`pipeline ${job.pipeline}: ${outcome} (job ${added.id}, queue ${job.queueName})`);
        if (flags['summary-json']) {
          process.stdout.write(
            `${stringifyJson({ pipeline: job.pipeline, outcome, job: { id: added.id, queue: job.queueName, key: job.jobKey, run_at: added.run_at } })}\n`,
          );
        }
      }
    } finally {
      await utils.release();
    }
  } finally {
    await pool.end().catch(() => {});
  }
  return ExitCode.ok;
}
