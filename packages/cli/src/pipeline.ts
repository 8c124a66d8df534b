// A pipeline run: resolve tap and target from tapline.yml / flags, read state, run, summarise.

import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseJson, stringifyJson } from '@tapline/singer';
import { accountSchema, refuseSharedTables, stateForAccount, type TableHome, vendorOf, warehouseIdentity } from './accounts.js';
import { ExitCode, TaplineError } from './errors.js';
import type { Logger, LogLevel } from './log.js';
import { MessageCounter } from './message-counter.js';
import {
  bundledTap,
  bundledTarget,
  type Command,
  describeCommand,
  isProvider,
  isWarehouse,
  PROVIDERS,
  parseCommand,
  WAREHOUSES,
  type Warehouse,
} from './plugins.js';
import { type ProcessRunResult, runProcesses } from './processes.js';
import type { Project } from './project.js';
import { readState, type StateLocation } from './state-store.js';
import { UnnamedFiles } from './unnamed-files.js';
import { PLACES, type WaitLog } from './warehouse.js';

export interface PipelinePlan {
  /** The pipeline's name: also its state id in the warehouse. */
  name: string;
  /** `vendor`: the bundled connector, or a third-party tap's command (accounts.ts). */
  tap: { name: string; vendor: string; command: Command; config: Record<string, unknown> };
  target: {
    name: string;
    command: Command;
    config: Record<string, unknown>;
    warehouse: Warehouse | undefined;
    /** Where a key of `config` was written (tapline.yml or --target-config), for errors. */
    describeKey: (key: string) => string;
  };
  stateTable: string;
  /** Where relative paths (DuckDB file, ./tap.js) resolve and the processes run. */
  cwd: string;
}

export interface PlanRequest {
  /** A tap name (or command), or a pipeline name when `target` is absent. */
  tap: string;
  target?: string;
  tapConfig?: Record<string, unknown>;
  targetConfig?: Record<string, unknown>;
  /** How to name `targetConfig` in errors (e.g. `--target-config d.json`). */
  targetConfigLabel?: string;
  /** Overrides the pipeline name (the state id). */
  pipeline?: string;
  stateTable?: string;
}

/** A pipeline's name, tap and target, resolved from tapline.yml and the command line. */
export interface PipelineNames {
  name: string;
  tap: string;
  /** The bundled connector the tap is (its provider), or its own name. */
  tapType: string;
  target: string;
  /** How to say where the tap and target names came from, for errors. */
  tapFrom: string;
  targetFrom: string;
}

/** The default pipeline name (= state id) of a tap and a target. */
export const defaultPipelineName = (tap: string, target: string): string => `${path.basename(tap)}-to-${path.basename(target)}`;

export function pipelineNames(project: Project, projectFile: string | undefined, request: PlanRequest, cwd: string): PipelineNames {
  let tapName = request.tap;
  let targetName = request.target;
  let name: string | undefined;
  let tapFrom = `tap "${tapName}"`;
  let targetFrom = `target "${targetName}"`;
  if (targetName === undefined) {
    const pipeline = project.pipelines[tapName];
    if (!pipeline) {
      const known = Object.keys(project.pipelines);
      if (projectFile === undefined) {
        throw new TaplineError(
          `No pipeline named "${tapName}": there is no tapline.yml in ${cwd} (or --project FILE). To run a tap into a target: tapline run ${tapName} <target> (e.g. duckdb).`,
          ExitCode.usage,
        );
      }
      throw new TaplineError(
        `No pipeline named "${tapName}" in ${projectFile}` +
          (known.length ? ` (pipelines: ${known.join(', ')}).` : '. Give a tap and a target: tapline run <tap> <target>.'),
        ExitCode.usage,
      );
    }
    name = tapName;
    tapFrom = `${projectFile}: pipelines.${tapName}.tap "${pipeline.tap}"`;
    targetFrom = `${projectFile}: pipelines.${tapName}.target "${pipeline.target}"`;
    ({ tap: tapName, target: targetName } = pipeline);
  } else {
    name = Object.entries(project.pipelines).find(([, p]) => p.tap === tapName && p.target === targetName)?.[0];
  }
  return {
    name: request.pipeline ?? name ?? defaultPipelineName(tapName, targetName),
    tap: tapName,
    tapType: project.taps[tapName]?.type ?? tapName,
    target: targetName,
    tapFrom,
    targetFrom,
  };
}

export function planPipeline(project: Project, projectFile: string | undefined, request: PlanRequest, cwd: string): PipelinePlan {
  const names = pipelineNames(project, projectFile, request, cwd);
  const { name, tap: tapName, tapType, target: targetName } = names;

  const tapSettings = project.taps[tapName];
  const tapCommand = tapSettings?.command
    ? parseCommand(tapSettings.command, cwd)
    : isProvider(tapType)
      ? (bundledTap(tapType) ?? notBuilt(`@tapline/tap-${tapType}`))
      : existingCommand(
          tapName,
          cwd,
          `${names.tapFrom} is not a tap in ${projectFile ?? 'tapline.yml'}, not a bundled one (${PROVIDERS.join(', ')}), and no command of that name exists.`,
        );

  const targetSettings = project.targets[targetName];
  const {
    warehouse,
    config: targetConfig,
    describeKey,
  } = targetFor(project, targetName, tapName, request.targetConfig, {
    projectFile,
    overrideLabel: request.targetConfigLabel,
  });
  const targetCommand = targetSettings?.command
    ? parseCommand(targetSettings.command, cwd)
    : warehouse
      ? (bundledTarget(warehouse) ?? notBuilt(`@tapline/target-${warehouse}`))
      : existingCommand(
          targetName,
          cwd,
          `${names.targetFrom} is not a target in ${projectFile ?? 'tapline.yml'}, not a bundled one (${WAREHOUSES.join(', ')}), and no command of that name exists.`,
        );

  const stateTable = request.stateTable ?? project.state_table;
  if (warehouse)
    refuseSharedTables(tableHome(project, name, tapName, targetName, cwd, request.targetConfig)!, projectHomes(project, cwd), projectFile);
  if (warehouse) {
    targetConfig.state_table = stateTable;
    targetConfig.state_id = name;
    // The runner decides when input ends: the target commits only what a STATE covers, and the
    // runner sends a closing STATE when the tap finished (see runProcesses' closingState).
    targetConfig.commit_uncovered_rows = false;
  }
  return {
    name,
    tap: {
      name: tapName,
      vendor: vendorOf(project, tapName, cwd),
      command: tapCommand,
      config: { ...tapSettings?.config, ...request.tapConfig },
    },
    target: { name: targetName, command: targetCommand, config: targetConfig, warehouse, describeKey },
    stateTable,
    cwd,
  };
}

/** A tap or target named by a command: it must exist, or it is a misspelt name (a usage error, not a failed spawn). */
function existingCommand(name: string, cwd: string, otherwise: string): Command {
  const command = parseCommand(name, cwd);
  const file = command.file === process.execPath ? command.args[0]! : command.file;
  const found = file.includes('/')
    ? existsSync(file)
    : (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && isExecutable(path.join(dir, file)));
  if (!found) throw new TaplineError(otherwise);
  return command;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Where a pipeline's tables go, for a bundled target (accounts.ts). */
function tableHome(
  project: Project,
  pipeline: string,
  tap: string,
  target: string,
  cwd: string,
  override?: Record<string, unknown>,
): TableHome | undefined {
  const { warehouse, config } = targetFor(project, target, tap, override);
  const schema = warehouse ? ((config.default_target_schema as string | undefined) ?? PLACES[warehouse].defaultSchema) : undefined;
  if (!warehouse || schema === undefined) return undefined;
  return { pipeline, tap, vendor: vendorOf(project, tap, cwd), target, warehouse: warehouseIdentity(warehouse, config, cwd), schema };
}

const projectHomes = (project: Project, cwd: string): TableHome[] =>
  Object.entries(project.pipelines).flatMap(([name, p]) => tableHome(project, name, p.tap, p.target, cwd) ?? []);

/**
 * A target's warehouse kind and config (tapline.yml, then the override file). A bundled tap loads
 * into a schema of its own by default, named after the tap (accounts.ts), so two accounts' tables,
 * and testpress.exams and onlineexammaker.exams, never collide.
 */
export function targetFor(
  project: Project,
  targetName: string,
  tapName: string | undefined,
  override: Record<string, unknown> | undefined,
  sources: { projectFile?: string | undefined; overrideLabel?: string | undefined } = {},
): { warehouse: Warehouse | undefined; config: Record<string, unknown>; describeKey: (key: string) => string } {
  const settings = project.targets[targetName];
  const warehouse = settings?.type ?? (isWarehouse(targetName) ? targetName : undefined);
  const config: Record<string, unknown> = { ...settings?.config, ...override };
  const schema = warehouse && tapName !== undefined ? accountSchema(project, tapName, config) : undefined;
  if (schema !== undefined) config.default_target_schema = schema;
  const describeKey = (key: string): string => {
    if (override && Object.hasOwn(override, key)) return `${sources.overrideLabel ?? 'the target config file'}: ${key}`;
    if (settings && Object.hasOwn(settings.config, key))
      return `${sources.projectFile ?? 'tapline.yml'}: targets.${targetName}.config.${key}`;
    return `the ${targetName} target's config key "${key}"`;
  };
  return { warehouse, config, describeKey };
}

function notBuilt(pkg: string): never {
  throw new TaplineError(`${pkg} is not installed or not built yet: run \`pnpm install && pnpm build\` first.`);
}

export function stateLocation(plan: PipelinePlan): StateLocation | undefined {
  const { warehouse, config, describeKey } = plan.target;
  return warehouse ? { kind: warehouse, config, cwd: plan.cwd, stateTable: plan.stateTable, describeKey } : undefined;
}

/** A third-party target cannot store state in the warehouse: the runner keeps its last state line here. */
export const stateFile = (plan: PipelinePlan): string =>
  path.join(plan.cwd, '.tapline', 'state', `${plan.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);

/** The stored state; `log` hears it when the warehouse is held by another process (a notebook) and the read waits for it. */
export async function loadStoredState(plan: PipelinePlan, log?: WaitLog): Promise<unknown> {
  const location = stateLocation(plan);
  if (location) return readState({ ...location, ...(log === undefined ? {} : { log }) }, plan.name);
  const file = stateFile(plan);
  return existsSync(file) ? parseJson(await readFile(file, 'utf8')) : undefined;
}

export interface StreamSummary {
  stream: string;
  rows_read: number;
  /** Null when the target does not say what it kept (a third-party target): see `RunSummary.unknown`. */
  rows_loaded: number | null;
  seconds: number;
  bookmark: unknown;
}

export interface RunSummary {
  pipeline: string;
  status: 'succeeded' | 'partial' | 'failed' | 'interrupted';
  exit_code: ExitCode;
  error?: string;
  /** Whether the run started from a stored state (an incremental run). */
  incremental: boolean;
  seconds: number;
  streams: StreamSummary[];
  /** The figures this summary cannot know, each with why (`rows_loaded` of a third-party target). */
  unknown?: Record<string, string>;
  /** The tap's own summary (tap-kit taps): per stream records, rejected, cut-short and unfinished partitions. */
  tap_summary?: unknown;
  /** The last state the target committed in this run (the next run starts from it). */
  state: unknown;
}

export interface RunOptions {
  log: Logger;
  signal?: AbortSignal;
  /** Aborting (a second interrupt) kills both sides at once. */
  killSignal?: AbortSignal;
  stopGraceMs?: number;
  /** Ignore the stored state for this run (the state the run commits still replaces it). */
  fullRefresh?: boolean;
  /** Start the account the tap now reads from no state, and bind the pipeline to it (accounts.ts). */
  newAccount?: boolean | undefined;
  /** The log level the tap and target are started with (TAPLINE_LOG_LEVEL); default: tapline's own environment. */
  logLevel?: LogLevel;
  onSpawn?: Parameters<typeof runProcesses>[0]['onSpawn'];
  /** The vendor key's shared request budget (fleet.ts), in place of the stored state's `rate_budget`. */
  rateBudget?: unknown;
  /** Live counts while the run goes (records per stream so far). */
  onProgress?: (records: ReadonlyMap<string, { records: number }>) => void;
}

const outcomeExit: Record<ProcessRunResult['outcome'], ExitCode> = {
  succeeded: ExitCode.ok,
  partial: ExitCode.partial,
  'tap-failed': ExitCode.tapFailed,
  'target-failed': ExitCode.targetFailed,
  interrupted: ExitCode.interrupted,
};

const outcomeStatus: Record<ProcessRunResult['outcome'], RunSummary['status']> = {
  succeeded: 'succeeded',
  partial: 'partial',
  'tap-failed': 'failed',
  'target-failed': 'failed',
  interrupted: 'interrupted',
};

/** Runs a planned pipeline: read its state (and the account it is bound to), run tap and target, summarise. */
export async function runPipeline(plan: PipelinePlan, options: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const start = await startingState(plan, options);
  if (options.signal?.aborted) {
    // Interrupted while the state was read: nothing was started.
    return {
      pipeline: plan.name,
      status: 'interrupted',
      exit_code: ExitCode.interrupted,
      error: 'tapline was interrupted before the tap and the target started',
      incremental: start.incremental,
      seconds: round((Date.now() - started) / 1000),
      streams: [],
      state: start.current ?? null,
    };
  }
  announce(plan, options, start);
  // Configs hold credentials: handed over as files with no name on disk (unnamed-files.ts).
  const files = new UnnamedFiles();
  try {
    const handover = await handOver(plan, start, files);
    const run = await runWatched(plan, options, handover, start.stored);
    if (!stateLocation(plan) && run.committedLine !== undefined) {
      const file = stateFile(plan);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, `${run.committedLine}\n`);
    }
    return summarise(plan, run, { incremental: start.incremental, started, error: handover.nameFiles(run.result.message) });
  } finally {
    await files.close();
  }
}

/** Where a run starts: the stored state as read, and the state handed to the tap. */
interface StartingState {
  /** The stored state as read (the target checks it is still the stored one: expected_state). */
  current: unknown;
  /** The state the tap starts from, if any. */
  stored: unknown;
  incremental: boolean;
}

async function startingState(plan: PipelinePlan, options: RunOptions): Promise<StartingState> {
  const { log } = options;
  // Read even for a full refresh: the target checks it is still the stored one (expected_state).
  const current = await loadStoredState(plan, log);
  const usable = await stateForAccount(resumableState(plan, current, log), {
    plan,
    location: stateLocation(plan),
    stateFile: stateFile(plan),
    newAccount: options.newAccount,
    log,
  });
  // A full refresh forgets bookmarks, never the requests already spent: the vendor still counts them.
  const resumed = options.fullRefresh ? spentBudget(usable) : usable;
  const incremental = !options.fullRefresh && resumed !== undefined;
  const stored = options.rateBudget === undefined ? resumed : { ...(resumed as object | undefined), rate_budget: options.rateBudget };
  return { current, stored, incremental };
}

function announce(plan: PipelinePlan, options: RunOptions, { stored, incremental }: StartingState): void {
  options.log.info(
    incremental
      ? `pipeline ${plan.name}: incremental run from the stored state`
      : options.fullRefresh
        ? `pipeline ${plan.name}: full refresh${stored === undefined ? '' : ", with the stored state's record of requests already spent (rate_budget)"}`
        : `pipeline ${plan.name}: no stored state, full sync`,
    { pipeline: plan.name, tap: describeCommand(plan.tap.command), target: describeCommand(plan.target.command) },
  );
}

/** The two commands with their config (and the tap's state) as unnamed files, and how to name those files in a message. */
interface Handover {
  tap: Command;
  target: Command;
  fds: { tap: number[]; target: number[] };
  /** The config files are gone when the user reads a message: names what they hold instead. */
  nameFiles: (message: string | undefined) => string | undefined;
}

async function handOver(plan: PipelinePlan, { current, stored }: StartingState, files: UnnamedFiles): Promise<Handover> {
  // A warehouse target stops before loading when the stored state is no longer the one read
  // here (another run of the pipeline committed in between): its rows would load twice.
  const expected = stateLocation(plan) ? { expected_state: current === undefined ? null : stringifyJson(current) } : {};
  const tapConfig = await files.add(JSON.stringify(plan.tap.config), 3);
  const targetConfig = await files.add(JSON.stringify({ ...plan.target.config, ...expected }), 3);
  const tapArgs = [...plan.tap.command.args, '--config', tapConfig.path];
  const tapFds = [tapConfig.fd];
  if (stored !== undefined) {
    const stateIn = await files.add(stringifyJson(stored), 4);
    tapArgs.push('--state', stateIn.path);
    tapFds.push(stateIn.fd);
  }
  return {
    tap: { file: plan.tap.command.file, args: tapArgs },
    target: { file: plan.target.command.file, args: [...plan.target.command.args, '--config', targetConfig.path] },
    fds: { tap: tapFds, target: [targetConfig.fd] },
    nameFiles: (message) =>
      message
        ?.replaceAll(targetConfig.path, `the target config (${plan.target.name})`)
        .replaceAll(tapConfig.path, `the tap config (${plan.tap.name})`),
  };
}

/** A finished run of the processes, and what the target said it committed along the way. */
interface WatchedRun {
  result: ProcessRunResult;
  /** The last state the target committed (the stored one when it committed none). */
  committed: unknown;
  committedLine: string | undefined;
  /** Per stream, the records the last committed STATE covers. */
  loaded: Map<string, number>;
}

async function runWatched(plan: PipelinePlan, options: RunOptions, handover: Handover, stored: unknown): Promise<WatchedRun> {
  const { log } = options;
  const watched: Omit<WatchedRun, 'result'> = { committed: stored, committedLine: undefined, loaded: new Map() };
  let progressTimer: NodeJS.Timeout | undefined;
  const counter = new MessageCounter();
  const result = await runProcesses({
    tap: handover.tap,
    target: handover.target,
    fds: handover.fds,
    cwd: plan.cwd,
    log,
    signal: options.signal,
    killSignal: options.killSignal,
    stopGraceMs: options.stopGraceMs,
    ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
    counter,
    ...(plan.target.config.commit_uncovered_rows === false ? { closingState: { fallback: stored } } : {}),
    onSpawn: (pids) => {
      options.onSpawn?.(pids);
      if (options.onProgress) progressTimer = setInterval(() => options.onProgress?.(counter.streams), 200);
    },
    onState: (line, covered) => {
      try {
        watched.committed = parseJson(line);
      } catch {
        log.warn(`target wrote a line that is not JSON on stdout; ignored: ${line.slice(0, 200)}`);
        return;
      }
      watched.committedLine = line;
      if (covered) watched.loaded = new Map(covered);
    },
  }).finally(() => clearInterval(progressTimer));
  return { result, ...watched };
}

function summarise(
  plan: PipelinePlan,
  { result, committed, loaded }: WatchedRun,
  run: { incremental: boolean; started: number; error: string | undefined },
): RunSummary {
  const succeeded = result.outcome === 'succeeded' || result.outcome === 'partial';
  // A warehouse target commits every record a STATE covers, in the transaction that stores the
  // STATE; another target may drop or merge records and says nothing of it: its figure is unknown.
  const knowsLoaded = plan.target.warehouse !== undefined;
  const streams = [...result.counter.streams].map(([stream, count]) => ({
    stream,
    rows_read: count.records,
    // A clean end commits everything the tap sent; a failed run kept what the last committed STATE covers.
    rows_loaded: !knowsLoaded ? null : succeeded ? count.records : (loaded.get(stream) ?? 0),
    seconds: round((count.lastAt - count.firstAt) / 1000),
    bookmark: bookmarkOf(committed, stream),
  }));
  return {
    pipeline: plan.name,
    status: outcomeStatus[result.outcome],
    exit_code: outcomeExit[result.outcome],
    ...(run.error ? { error: run.error } : {}),
    incremental: run.incremental,
    seconds: round((Date.now() - run.started) / 1000),
    streams,
    ...(knowsLoaded
      ? {}
      : {
          unknown: {
            rows_loaded: `target ${plan.target.name} is not a warehouse target of tapline (duckdb, postgres): it does not report which records it kept, only that it received them (rows_read)`,
          },
        }),
    ...(result.tapSummary !== undefined ? { tap_summary: result.tapSummary } : {}),
    state: committed ?? null,
  };
}

/**
 * The stored state, when a tap can resume from it: a JSON object. Anything else (a tap's STATE of
 * null, a string, an array) would make the tap refuse it or misread it on every run: the run starts
 * from no state instead, saying so, and the state it commits replaces the stored one.
 */
function resumableState(plan: PipelinePlan, current: unknown, log: Logger): unknown {
  if (current === undefined || (typeof current === 'object' && current !== null && !Array.isArray(current))) return current;
  const what = current === null ? 'null' : Array.isArray(current) ? 'an array' : `a ${typeof current}`;
  log.warn(
    `pipeline ${plan.name}: the stored state is ${what}, not an object a tap can resume from; this run starts from no state (a full sync) and replaces it`,
  );
  return undefined;
}

/**
 * What a full refresh keeps of a stored state: the vendor's request budget already spent
 * (`rate_budget`, tap-kit's state key), so the run does not send the hour's 31st request.
 */
function spentBudget(state: unknown): { rate_budget: unknown } | undefined {
  const budget = (state as { rate_budget?: unknown } | undefined)?.rate_budget;
  return budget === undefined || budget === null ? undefined : { rate_budget: budget };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** The Singer-convention bookmark of a stream: `state.bookmarks[stream]`, when the tap uses it. */
function bookmarkOf(state: unknown, stream: string): unknown {
  if (typeof state !== 'object' || state === null) return null;
  const bookmarks = (state as { bookmarks?: unknown }).bookmarks;
  if (typeof bookmarks !== 'object' || bookmarks === null) return null;
  return (bookmarks as Record<string, unknown>)[stream] ?? null;
}
