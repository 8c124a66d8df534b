// A pipeline run: resolve tap and target from tapline.yml / flags, read state, run, summarise.
import { mkdtemp, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExitCode, TaplineError } from './errors.js';
import type { Logger } from './log.js';
import {
  bundledTap,
  bundledTarget,
  describeCommand,
  isProvider,
  isWarehouse,
  parseCommand,
  type Command,
  type Warehouse,
} from './plugins.js';
import type { Project } from './project.js';
import { runProcesses, type ProcessRunResult } from './processes.js';
import { MessageCounter } from './message-counter.js';
import { readState, type StateLocation } from './state-store.js';

export interface PipelinePlan {
  /** The pipeline's name: also its state id in the warehouse. */
  name: string;
  tap: { name: string; command: Command; config: Record<string, unknown> };
  target: { name: string; command: Command; config: Record<string, unknown>; warehouse: Warehouse | undefined };
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
  /** Overrides the pipeline name (the state id). */
  pipeline?: string;
  stateTable?: string;
}

export function planPipeline(project: Project, projectFile: string | undefined, request: PlanRequest, cwd: string): PipelinePlan {
  const where = projectFile ?? 'the command line';
  let tapName = request.tap;
  let targetName = request.target;
  let name: string | undefined;
  if (targetName === undefined) {
    const pipeline = project.pipelines[tapName];
    if (!pipeline) {
      const known = Object.keys(project.pipelines);
      throw new TaplineError(
        `No pipeline named "${tapName}" in ${where}` +
          (known.length ? ` (pipelines: ${known.join(', ')}).` : '. Give a tap and a target: tapline run <tap> <target>.'),
      );
    }
    name = tapName;
    ({ tap: tapName, target: targetName } = pipeline);
  } else {
    name = Object.entries(project.pipelines).find(([, p]) => p.tap === tapName && p.target === targetName)?.[0];
  }
  name = request.pipeline ?? name ?? `${path.basename(tapName)}-to-${path.basename(targetName)}`;

  const tapSettings = project.taps[tapName];
  const tapType = tapSettings?.type ?? tapName;
  const tapCommand = tapSettings?.command
    ? parseCommand(tapSettings.command, cwd)
    : isProvider(tapType)
      ? (bundledTap(tapType) ?? notBuilt(`@tapline/tap-${tapType}`))
      : parseCommand(tapName, cwd);

  const targetSettings = project.targets[targetName];
  const { warehouse, config: targetConfig } = targetFor(project, targetName, tapType, request.targetConfig);
  const targetCommand = targetSettings?.command
    ? parseCommand(targetSettings.command, cwd)
    : warehouse
      ? (bundledTarget(warehouse) ?? notBuilt(`@tapline/target-${warehouse}`))
      : parseCommand(targetName, cwd);

  const stateTable = request.stateTable ?? project.state_table;
  if (warehouse) {
    targetConfig.state_table = stateTable;
    targetConfig.state_id = name;
    // The runner decides when input ends: the target commits only what a STATE covers, and the
    // runner sends a closing STATE when the tap finished (see runProcesses' closingState).
    targetConfig.commit_uncovered_rows = false;
  }
  return {
    name,
    tap: { name: tapName, command: tapCommand, config: { ...tapSettings?.config, ...request.tapConfig } },
    target: { name: targetName, command: targetCommand, config: targetConfig, warehouse },
    stateTable,
    cwd,
  };
}

/**
 * A target's warehouse kind and config (tapline.yml, then the override file). Each provider loads
 * into its own schema by default, so testpress.exams and onlineexammaker.exams never collide.
 */
export function targetFor(
  project: Project,
  targetName: string,
  tapType: string | undefined,
  override: Record<string, unknown> | undefined,
): { warehouse: Warehouse | undefined; config: Record<string, unknown> } {
  const settings = project.targets[targetName];
  const warehouse = settings?.type ?? (isWarehouse(targetName) ? targetName : undefined);
  const config: Record<string, unknown> = { ...settings?.config, ...override };
  if (warehouse && config.default_target_schema === undefined && tapType && isProvider(tapType)) {
    config.default_target_schema = tapType;
  }
  return { warehouse, config };
}

function notBuilt(pkg: string): never {
  throw new TaplineError(`${pkg} is not installed or not built yet: run \`pnpm install && pnpm build\` first.`);
}

export function stateLocation(plan: PipelinePlan): StateLocation | undefined {
  const { warehouse, config } = plan.target;
  return warehouse ? { kind: warehouse, config, cwd: plan.cwd, stateTable: plan.stateTable } : undefined;
}

/** A third-party target cannot store state in the warehouse: the runner keeps its last state line here. */
export const stateFile = (plan: PipelinePlan): string =>
  path.join(plan.cwd, '.tapline', 'state', `${plan.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);

export async function loadStoredState(plan: PipelinePlan): Promise<unknown> {
  const location = stateLocation(plan);
  if (location) return readState(location, plan.name);
  const file = stateFile(plan);
  return existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as unknown) : undefined;
}

export interface StreamSummary {
  stream: string;
  rows_read: number;
  rows_loaded: number;
  seconds: number;
  bookmark: unknown;
}

export interface RunSummary {
  pipeline: string;
  status: 'succeeded' | 'failed' | 'interrupted';
  exit_code: ExitCode;
  error?: string;
  /** Whether the run started from a stored state (an incremental run). */
  incremental: boolean;
  seconds: number;
  streams: StreamSummary[];
  /** The last state the target committed in this run (the next run starts from it). */
  state: unknown;
}

export interface RunOptions {
  log: Logger;
  signal?: AbortSignal;
  stopGraceMs?: number;
  /** Ignore the stored state for this run (the state the run commits still replaces it). */
  fullRefresh?: boolean;
  onSpawn?: Parameters<typeof runProcesses>[0]['onSpawn'];
  /** Live counts while the run goes (records per stream so far). */
  onProgress?: (records: ReadonlyMap<string, { records: number }>) => void;
}

const outcomeExit: Record<ProcessRunResult['outcome'], ExitCode> = {
  succeeded: ExitCode.ok,
  'tap-failed': ExitCode.tapFailed,
  'target-failed': ExitCode.targetFailed,
  interrupted: ExitCode.interrupted,
};

export async function runPipeline(plan: PipelinePlan, options: RunOptions): Promise<RunSummary> {
  const { log } = options;
  const started = Date.now();
  const stored = options.fullRefresh ? undefined : await loadStoredState(plan);
  log.info(
    stored === undefined
      ? `pipeline ${plan.name}: no stored state, full sync`
      : `pipeline ${plan.name}: incremental run from the stored state`,
    { pipeline: plan.name, tap: describeCommand(plan.tap.command), target: describeCommand(plan.target.command) },
  );

  const dir = await mkdtemp(path.join(os.tmpdir(), 'tapline-'));
  try {
    const secret = { mode: 0o600 } as const; // configs hold credentials
    const tapConfig = path.join(dir, 'tap-config.json');
    const targetConfig = path.join(dir, 'target-config.json');
    await writeFile(tapConfig, JSON.stringify(plan.tap.config), secret);
    await writeFile(targetConfig, JSON.stringify(plan.target.config), secret);
    const tapArgs = [...plan.tap.command.args, '--config', tapConfig];
    if (stored !== undefined) {
      const stateIn = path.join(dir, 'state.json');
      await writeFile(stateIn, JSON.stringify(stored), secret);
      tapArgs.push('--state', stateIn);
    }

    let committed: unknown = stored;
    let committedLine: string | undefined;
    let loaded = new Map<string, number>();
    let progressTimer: NodeJS.Timeout | undefined;
    const counter = new MessageCounter();
    const result = await runProcesses({
      tap: { file: plan.tap.command.file, args: tapArgs },
      target: { file: plan.target.command.file, args: [...plan.target.command.args, '--config', targetConfig] },
      cwd: plan.cwd,
      log,
      signal: options.signal,
      stopGraceMs: options.stopGraceMs,
      counter,
      ...(plan.target.config.commit_uncovered_rows === false ? { closingState: { fallback: stored } } : {}),
      onSpawn: (pids) => {
        options.onSpawn?.(pids);
        if (options.onProgress) progressTimer = setInterval(() => options.onProgress?.(counter.streams), 200);
      },
      onState: (line, covered) => {
        try {
          committed = JSON.parse(line) as unknown;
        } catch {
          log.warn(`target wrote a line that is not JSON on stdout; ignored: ${line.slice(0, 200)}`);
          return;
        }
        committedLine = line;
        if (covered) loaded = new Map(covered);
      },
    }).finally(() => clearInterval(progressTimer));

    const exitCode = outcomeExit[result.outcome];
    if (!stateLocation(plan) && committedLine !== undefined) {
      const file = stateFile(plan);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, committedLine + '\n');
    }
    const succeeded = result.outcome === 'succeeded';
    const streams = [...result.counter.streams].map(([stream, count]) => ({
      stream,
      rows_read: count.records,
      // A clean end commits everything the tap sent; a failed run kept what the last committed STATE covers.
      rows_loaded: succeeded ? count.records : (loaded.get(stream) ?? 0),
      seconds: round((count.lastAt - count.firstAt) / 1000),
      bookmark: bookmarkOf(committed, stream),
    }));
    return {
      pipeline: plan.name,
      status: succeeded ? 'succeeded' : result.outcome === 'interrupted' ? 'interrupted' : 'failed',
      exit_code: exitCode,
      ...(result.message ? { error: result.message } : {}),
      incremental: stored !== undefined,
      seconds: round((Date.now() - started) / 1000),
      streams,
      state: committed ?? null,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** The Singer-convention bookmark of a stream: `state.bookmarks[stream]`, when the tap uses it. */
function bookmarkOf(state: unknown, stream: string): unknown {
  if (typeof state !== 'object' || state === null) return null;
  const bookmarks = (state as { bookmarks?: unknown }).bookmarks;
  if (typeof bookmarks !== 'object' || bookmarks === null) return null;
  return (bookmarks as Record<string, unknown>)[stream] ?? null;
}
