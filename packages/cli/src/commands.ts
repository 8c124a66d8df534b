// The `tapline` commands (run, state, model, demo) behind one entry point, `main`.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { exitCodesHelp, parseJson, parseLogLevel, stringifyJson } from '@tapline/singer';
import { runDemo } from './demo.js';
import { ExitCode, TaplineError } from './errors.js';
import { fleetCommand, isFleetRun } from './fleet-command.js';
import { Interrupts } from './interrupts.js';
import { createLogger, type LogFormat, type Logger } from './log.js';
import { buildModel } from './model/index.js';
import { type PlanRequest, pipelineNames, planPipeline, type RunSummary, runPipeline, targetFor } from './pipeline.js';
import { isWarehouse } from './plugins.js';
import { loadProject, type Project, readConfigFile } from './project.js';
import { serveCommand } from './serve/command.js';
import { clearState, readState, type StateLocation, writeState } from './state-store.js';
import { formatTable } from './table.js';

const USAGE = `Usage:
  tapline run <tap> <target> [options]   run a tap into a target (e.g. tapline run classmarker duckdb)
  tapline run <pipeline> [options]       run a pipeline from tapline.yml
  tapline run --all | --select NAME|GLOB | --tag TAG [--jobs N]
                                         run several pipelines of tapline.yml, N at a time
  tapline state get|set|clear <pipeline> inspect or reset a pipeline's state in the warehouse
  tapline state get|set|clear <tap> <target> [--pipeline NAME]
                                         the same, for the pipeline \`tapline run <tap> <target>\` runs
  tapline model [--target duckdb|postgres] [--target-config FILE] [--schema NAME]
                                         create the unified views exam_results and exams
  tapline demo                           simulators -> warehouse.duckdb -> model -> summary
  tapline serve [--port N] [--host H] [--inbox DIR]
                                         webhook receivers of tapline.yml (--port 0: a free port)
  tapline worker [--jobs N]              run pipelines from the job queue (PostgreSQL, graphile-worker),
                                         N at a time, and the schedule: of each pipeline (cron, UTC)
  tapline schedule --all | --select NAME|GLOB | --tag TAG
                                         queue a run of those pipelines for the workers (one waiting each)

Options:
  --project FILE        project file (default ./tapline.yml when present)
  --tap-config FILE     tap settings (JSON), merged over tapline.yml
  --target-config FILE  target settings (JSON), merged over tapline.yml
  --pipeline NAME       pipeline name = state id (default: from tapline.yml, else <tap>-to-<target>)
  --state-table NAME    warehouse table holding state (default _tapline_state)
  --full-refresh        ignore the stored state for this run
  --new-account         the tap now reads another account: start it from no state, bind the pipeline to it
  --summary-json        print one JSON line with the run's summary on stdout at the end
                        (a fleet run: one per pipeline as it ends, then {"total":{...}}; a worker: one per run)
  --all                 (run, schedule) every pipeline of tapline.yml
  --select NAME|GLOB    (run, schedule) the pipelines so named (* and ? match); repeatable
  --tag TAG             (run, schedule) the pipelines with this tag in tapline.yml; repeatable
  --jobs N              (run, worker) pipelines run at once in a fleet run or by a worker (default 1)
  --log-format text|json
  --log-level LEVEL     debug, info (default), warn or error, for tapline and the tap and target it runs
  --quiet, -q           errors only (--log-level error)
  --target NAME         (state, model) which target of tapline.yml holds the warehouse
  --schema NAME         (model) where the views go (default: main / public)
  --value JSON          (state set) the new state; or --file FILE
See packages/cli/README.md for tapline.yml, exit codes and the unified model.`;

const options = {
  project: { type: 'string' },
  'tap-config': { type: 'string' },
  'target-config': { type: 'string' },
  pipeline: { type: 'string' },
  'state-table': { type: 'string' },
  'full-refresh': { type: 'boolean' },
  'new-account': { type: 'boolean' },
  'summary-json': { type: 'boolean' },
  all: { type: 'boolean' },
  select: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  jobs: { type: 'string' },
  'log-format': { type: 'string' },
  'log-level': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  target: { type: 'string' },
  schema: { type: 'string' },
  value: { type: 'string' },
  file: { type: 'string' },
  seed: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  inbox: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

type Flags = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

/**
 * Runs one command. `interrupts`: the process's SIGINT/SIGTERM handlers (the executable installs
 * them first thing); without it, they are installed for the duration of the command.
 */
export async function main(argv: string[], cwd = process.cwd(), interrupts?: Interrupts): Promise<number> {
  if (interrupts) return command(argv, cwd, interrupts);
  const own = new Interrupts().install();
  try {
    return await command(argv, cwd, own);
  } finally {
    own.uninstall();
  }
}

const parseCommandLine = (argv: string[]) => parseArgs({ args: argv, options, allowPositionals: true, strict: true });

async function command(argv: string[], cwd: string, interrupts: Interrupts): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  // Orchestrators read the summary line on every exit, a command line tapline cannot read included.
  const summaryAsked = argv.includes('--summary-json');
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    if (summaryAsked) writeSummary(failedSummary(undefined, ExitCode.usage, (error as Error).message));
    return ExitCode.usage;
  }
  const { values: flags, positionals } = parsed;
  const format = (flags['log-format'] ?? 'text') as LogFormat;
  if (format !== 'text' && format !== 'json') {
    const message = `--log-format must be text or json, not "${format}".`;
    process.stderr.write(`${message}\n`);
    if (summaryAsked) writeSummary(failedSummary(undefined, ExitCode.usage, message));
    return ExitCode.usage;
  }
  const level = flags.quiet ? 'error' : parseLogLevel(flags['log-level']);
  if (flags['log-level'] !== undefined && level === undefined) {
    const message = `--log-level must be debug, info, warn or error, not "${flags['log-level']}".`;
    process.stderr.write(`${message}\n`);
    if (summaryAsked) writeSummary(failedSummary(undefined, ExitCode.usage, message));
    return ExitCode.usage;
  }
  const log = createLogger(format, undefined, level);
  if (flags.version) {
    const manifest = createRequire(import.meta.url)('../package.json') as { version: string };
    process.stdout.write(`${manifest.version}\n`);
    return ExitCode.ok;
  }
  const [command, ...rest] = positionals;
  if (flags.help || !command) {
    process.stdout.write(`${USAGE}\n\n${exitCodesHelp('runner')}`);
    return flags.help ? ExitCode.ok : ExitCode.usage;
  }
  try {
    switch (command) {
      case 'run':
        if (isFleetRun(flags)) return await fleetCommand(rest, flags, cwd, log, interrupts, USAGE);
        return await runCommand(rest, flags, cwd, log, interrupts);
      case 'state':
        return await stateCommand(rest, flags, cwd);
      case 'model':
        return await modelCommand(flags, cwd, log);
      case 'demo':
        return await runDemo({ cwd: process.env.INIT_CWD ?? cwd, log, seed: flags.seed, ...interrupts.handle() });
      case 'serve':
        return await serveCommand(flags, cwd, log, interrupts);
      // The job queue's client (pg, graphile-worker) loads only for these two commands.
      case 'worker':
        return await (await import('./worker/command.js')).workerCommand(rest, flags, cwd, log, level, interrupts);
      case 'schedule':
        return await (await import('./worker/command.js')).scheduleCommand(rest, flags, cwd, log);
      default:
        throw new TaplineError(`Unknown command "${command}".\n\n${USAGE}`, ExitCode.usage);
    }
  } catch (error) {
    if (error instanceof TaplineError) {
      log.error(error.message);
      return error.exitCode;
    }
    log.error(`tapline failed unexpectedly: ${(error as Error).stack ?? String(error)}`);
    return ExitCode.internal;
  }
}

async function runCommand(args: string[], flags: Flags, cwd: string, log: Logger, interrupts: Interrupts): Promise<number> {
  let pipeline: string | undefined;
  let summary: RunSummary;
  if (flags['summary-json']) {
    interrupts.lastWords = (signal) =>
      `${stringifyJson(failedSummary(pipeline, ExitCode.interrupted, `tapline was interrupted (${signal}) before the tap and the target started`, 'interrupted'))}\n`;
  }
  try {
    if (args.length < 1 || args.length > 2)
      throw new TaplineError(`tapline run takes <tap> <target> or <pipeline>.\n\n${USAGE}`, ExitCode.usage);
    const { project, file } = await loadProject(flags.project, cwd);
    const request: PlanRequest = { tap: args[0]!, target: args[1], ...(await commonRequest(flags, cwd)) };
    pipeline = pipelineNames(project, file, request, cwd).name;
    const plan = planPipeline(project, file, request, cwd);
    // Until here a signal ends tapline at once (130); from here it stops the run (both sides), which ends with 130.
    const { signal, killSignal } = interrupts.handle();
    const logLevel = flags.quiet ? 'error' : parseLogLevel(flags['log-level']);
    summary = await runPipeline(plan, {
      log,
      signal,
      killSignal,
      fullRefresh: flags['full-refresh'],
      newAccount: flags['new-account'],
      ...(logLevel !== undefined ? { logLevel } : {}),
    });
  } catch (error) {
    // Nothing ran (a usage error, the warehouse out of reach): the summary line says so all the same.
    if (flags['summary-json']) {
      const known = error instanceof TaplineError;
      const message = known ? error.message.split('\n\n')[0]! : `tapline failed unexpectedly: ${(error as Error).message}`;
      writeSummary(failedSummary(pipeline, known ? error.exitCode : ExitCode.internal, message));
    }
    throw error;
  }
  reportRun(summary, log);
  if (flags['summary-json']) writeSummary(summary);
  return summary.exit_code;
}

// Exact numbers: a state's big integers are LosslessNumbers.
const writeSummary = (summary: RunSummary | ReturnType<typeof failedSummary>): void =>
  void process.stdout.write(`${stringifyJson(summary)}\n`);

/** The summary of a run that never started: what failed, and no figures (none is known). */
function failedSummary(pipeline: string | undefined, exitCode: ExitCode, error: string, status: 'failed' | 'interrupted' = 'failed') {
  return { pipeline: pipeline ?? null, status, exit_code: exitCode, error, incremental: false, seconds: 0, streams: [], state: null };
}

/** The settings `run` and `state` share: config files, pipeline name, state table. */
async function commonRequest(flags: Flags, cwd: string): Promise<Omit<PlanRequest, 'tap' | 'target'>> {
  return {
    tapConfig: flags['tap-config'] ? await readConfigFile(flags['tap-config'], cwd, '--tap-config') : undefined,
    targetConfig: flags['target-config'] ? await readConfigFile(flags['target-config'], cwd, '--target-config') : undefined,
    targetConfigLabel: flags['target-config'] ? `--target-config ${flags['target-config']}` : undefined,
    pipeline: flags.pipeline,
    stateTable: flags['state-table'],
  };
}

function reportRun(summary: RunSummary, log: Logger): void {
  const rows = summary.streams.map((s) => [s.stream, s.rows_read, s.rows_loaded ?? 'unknown', s.seconds]);
  if (summary.status === 'succeeded') {
    log.info(`pipeline ${summary.pipeline} succeeded in ${summary.seconds} s${summary.incremental ? ' (incremental)' : ''}`);
  } else if (summary.status === 'partial') {
    log.warn(`pipeline ${summary.pipeline} partial in ${summary.seconds} s: ${describePartial(summary.tap_summary)}`, {
      exit_code: summary.exit_code,
    });
  } else {
    log.error(`pipeline ${summary.pipeline} ${summary.status}: ${summary.error ?? 'unknown failure'}`, {
      exit_code: summary.exit_code,
    });
  }
  if (log.format === 'text' && rows.length > 0) {
    process.stderr.write(`${formatTable(['stream', 'rows read', 'rows loaded', 'seconds'], rows)}\n`);
  }
}

/**
 * What a partial run left for the next one, from the tap's SUMMARY line (tap-kit's run-summary.ts):
 * the rate limit's stop and the streams it left unfinished, listings cut short, records set aside,
 * partitions whose rows were kept though the vendor answered "no results".
 */
export function describePartial(tapSummary: unknown): string {
  const summary = tapSummary as
    | {
        streams?: Record<string, { rejected?: number; cut_short?: string[]; not_retired?: string[]; unfinished?: boolean }>;
        rate_limited?: { retry_at?: string };
      }
    | undefined;
  if (typeof summary !== 'object' || summary === null || typeof summary.streams !== 'object' || summary.streams === null) {
    return 'the tap (exit 6) left something for the next run and printed no SUMMARY line saying what';
  }
  const streams = Object.entries(summary.streams);
  const names = (pick: (entry: (typeof streams)[number][1]) => boolean) => streams.filter(([, entry]) => pick(entry)).map(([name]) => name);
  const parts: string[] = [];
  const unfinished = names((entry) => entry.unfinished === true);
  if (summary.rate_limited) {
    parts.push(
      `the vendor's rate limit stopped the run${summary.rate_limited.retry_at ? ` (run again after ${summary.rate_limited.retry_at})` : ''}` +
        (unfinished.length > 0 ? `; streams not finished: ${unfinished.join(', ')}` : ''),
    );
  } else if (unfinished.length > 0) {
    parts.push(`streams not finished: ${unfinished.join(', ')}`);
  }
  const cutShort = streams.filter(([, entry]) => (entry.cut_short?.length ?? 0) > 0);
  if (cutShort.length > 0)
    parts.push(
      `listings cut short (read again next run): ${cutShort.map(([name, entry]) => `${name} (${entry.cut_short!.join(', ')})`).join('; ')}`,
    );
  const rejected = streams.filter(([, entry]) => (entry.rejected ?? 0) > 0);
  if (rejected.length > 0)
    parts.push(`records set aside, not loaded: ${rejected.map(([name, entry]) => `${entry.rejected} of ${name}`).join(', ')}`);
  const kept = streams.filter(([, entry]) => (entry.not_retired?.length ?? 0) > 0);
  if (kept.length > 0) {
    parts.push(
      `"no results" answers whose earlier rows were kept: ${kept.map(([name, entry]) => `${name} (${entry.not_retired!.join(', ')})`).join('; ')}`,
    );
  }
  return parts.length > 0 ? parts.join('; ') : 'the tap (exit 6) left something for the next run';
}

/**
 * The pipeline and the state table a `tapline run` with the same arguments uses: `<pipeline>` of
 * tapline.yml, `<tap> <target> [--pipeline NAME]`, or a default name `<tap>-to-<target>`.
 */
async function locateState(names: string[], flags: Flags, cwd: string): Promise<{ pipeline: string; location: StateLocation }> {
  const { project, file } = await loadProject(flags.project, cwd);
  const common = await commonRequest(flags, cwd);
  let request: PlanRequest;
  if (names.length === 2) {
    request = { ...common, tap: names[0]!, target: names[1]! };
  } else {
    const name = names[0]!;
    const pipeline = project.pipelines[name];
    if (pipeline) {
      request = flags.target ? { ...common, tap: pipeline.tap, target: flags.target, pipeline: name } : { ...common, tap: name };
    } else {
      const split = splitDefaultName(name, project, flags.target);
      if (!split) {
        throw new TaplineError(
          `No pipeline named "${name}" in ${file ?? 'tapline.yml (none found)'}, and the name is not <tap>-to-<target>` +
            `${flags.target ? ` with target ${flags.target}` : ''}: name its tap and target as for tapline run, ` +
            `e.g. tapline state get <tap> <target> --pipeline ${name} (or --target duckdb|postgres with a <tap>-to-<target> name).`,
          ExitCode.usage,
        );
      }
      request = { ...common, ...split, pipeline: name };
    }
  }
  const resolved = pipelineNames(project, file, request, cwd);
  const { warehouse, config, describeKey } = targetFor(project, resolved.target, resolved.tap, request.targetConfig, {
    projectFile: file,
    overrideLabel: request.targetConfigLabel,
  });
  if (!warehouse) {
    throw new TaplineError(`Target "${resolved.target}" is not a warehouse (duckdb or postgres): its state is in .tapline/state/.`);
  }
  return {
    pipeline: resolved.name,
    location: { kind: warehouse, config, cwd, stateTable: request.stateTable ?? project.state_table, describeKey },
  };
}

/**
 * The tap and target of a default pipeline name (`classmarker-to-duckdb`): the target part must be
 * a target of tapline.yml or a bundled warehouse (or `--target`, when given).
 */
function splitDefaultName(name: string, project: Project, target: string | undefined): { tap: string; target: string } | undefined {
  for (let at = name.indexOf('-to-'); at > 0; at = name.indexOf('-to-', at + 1)) {
    const candidate = { tap: name.slice(0, at), target: name.slice(at + 4) };
    if (!candidate.target) continue;
    if (target !== undefined ? candidate.target === target : candidate.target in project.targets || isWarehouse(candidate.target)) {
      return candidate;
    }
  }
  return undefined;
}

async function stateCommand(args: string[], flags: Flags, cwd: string): Promise<number> {
  const [action, ...names] = args;
  if (!action || !['get', 'set', 'clear'].includes(action) || names.length < 1 || names.length > 2) {
    throw new TaplineError(`tapline state takes get|set|clear <pipeline> (or <tap> <target>).\n\n${USAGE}`, ExitCode.usage);
  }
  // The new state is checked before any warehouse is opened.
  const value = action === 'set' ? await newState(flags, cwd) : undefined;
  const { pipeline, location } = await locateState(names, flags, cwd);
  if (action === 'get') {
    const stored = await readState(location, pipeline);
    if (stored === undefined) {
      process.stderr.write(`No state stored for pipeline ${pipeline}: its next run is a full sync.\n`);
      return ExitCode.ok;
    }
    process.stdout.write(`${stringifyJson(stored, 2)}\n`);
  } else if (action === 'set') {
    await writeState(location, pipeline, value);
    process.stderr.write(`State of pipeline ${pipeline} replaced.\n`);
  } else {
    const existed = await clearState(location, pipeline);
    process.stderr.write(
      existed ? `State of pipeline ${pipeline} cleared: its next run is a full sync.\n` : `No state stored for pipeline ${pipeline}.\n`,
    );
  }
  return ExitCode.ok;
}

/** `state set`'s new value, from --value or --file, numbers kept exact. */
async function newState(flags: Flags, cwd: string): Promise<unknown> {
  let text = flags.value;
  if (text === undefined && flags.file !== undefined) {
    const file = path.resolve(cwd, flags.file);
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new TaplineError(
        `--file ${flags.file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : `cannot read it (${code ?? (error as Error).message})`}.`,
      );
    }
  }
  if (text === undefined) throw new TaplineError('tapline state set needs the new state: --value JSON or --file FILE.', ExitCode.usage);
  try {
    return parseJson(text);
  } catch (error) {
    throw new TaplineError(`The new state is not valid JSON: ${(error as Error).message}`, ExitCode.usage);
  }
}

async function modelCommand(flags: Flags, cwd: string, log: Logger): Promise<number> {
  const { project, file } = await loadProject(flags.project, cwd);
  const targetName = flags.target ?? 'duckdb';
  const override = flags['target-config'] ? await readConfigFile(flags['target-config'], cwd, '--target-config') : undefined;
  const { warehouse, config } = targetFor(project, targetName, undefined, override, { projectFile: file });
  if (!warehouse || !isWarehouse(warehouse))
    throw new TaplineError(`--target must name a duckdb or postgres target, not "${targetName}".`, ExitCode.usage);
  const built = await buildModel({
    kind: warehouse,
    config,
    cwd,
    schema: flags.schema,
    create: false,
    exams: project.exams,
    taps: project.taps,
  });
  const where = built.accounts.map((a) => `${a.provider} account ${a.account} (${a.schema})`);
  if (built.providers.length === 0) {
    log.warn(
      `no provider tables found (looked in ${built.searched.join(', ')}): ` +
        `the views ${built.schema}.exam_results and ${built.schema}.exams are empty; run a pipeline first, or check the target config`,
    );
  } else {
    log.info(`model built in ${built.schema} from ${where.join(', ')}`, { views: ['exam_results', 'exams', 'question_results'] });
  }
  return ExitCode.ok;
}
