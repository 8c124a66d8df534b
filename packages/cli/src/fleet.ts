// A fleet run (`tapline run --all | --select | --tag`): a project's pipelines, up to `--jobs` at a
// time, each the ordinary single-pipeline run; pipelines on one vendor key take turns and share its
// rate budget; one summary line per pipeline and a total.
import { stringifyJson } from '@tapline/singer';
import { describePartial } from './commands.js';
import { ExitCode, TaplineError } from './errors.js';
import { exclusiveResources, vendorKeyHash } from './fleet-plan.js';
import type { Logger } from './log.js';
import { loadStoredState, type PipelinePlan, planPipeline, type RunSummary, runPipeline } from './pipeline.js';
import type { Project } from './project.js';
import { formatTable } from './table.js';

export interface FleetOptions {
  log: Logger;
  /** Pipelines run at once (default 1). */
  jobs?: number;
  signal?: AbortSignal;
  killSignal?: AbortSignal;
  fullRefresh?: boolean;
  stateTable?: string;
  /** Each pipeline's summary as it ends (`--summary-json` prints it). */
  onSummary?: (summary: RunSummary) => void;
}

export interface FleetTotal {
  pipelines: number;
  succeeded: number;
  partial: number;
  failed: number;
  interrupted: number;
  seconds: number;
  /** 0; 130 when interrupted; else the exit code of the first failed pipeline (tapline.yml order); else 6 when any was partial. */
  exit_code: ExitCode;
}

export interface FleetResult {
  summaries: RunSummary[];
  total: FleetTotal;
}

interface Member {
  name: string;
  plan?: PipelinePlan;
  /** Why the pipeline could not be planned (a tap not built, a bad setting): it fails alone. */
  planError?: unknown;
  keyHash?: string;
  resources: string[];
}

/** Runs the named pipelines of `project`; never throws for one pipeline's failure. */
export async function runFleet(
  project: Project,
  file: string | undefined,
  names: readonly string[],
  cwd: string,
  options: FleetOptions,
): Promise<FleetResult> {
  const started = Date.now();
  const members = names.map((name) => planMember(project, file, name, cwd, options.stateTable));
  // Pipelines per key over all of tapline.yml: one not selected still spent the key's requests.
  const perKey = new Map<string, number>();
  for (const name of Object.keys(project.pipelines)) {
    const { keyHash } = names.includes(name)
      ? members.find((member) => member.name === name)!
      : planMember(project, file, name, cwd, options.stateTable);
    if (keyHash) perKey.set(keyHash, (perKey.get(keyHash) ?? 0) + 1);
  }
  const budgets = new SharedBudgets(project, file, cwd, options.stateTable);
  const summaries = new Map<string, RunSummary>();
  const finish = (summary: RunSummary): void => {
    summaries.set(summary.pipeline, summary);
    reportPipeline(summary, options.log);
    options.onSummary?.(summary);
  };

  await schedule(members, Math.max(1, options.jobs ?? 1), options.signal, async (member) => {
    finish(await runMember(member, options, budgets, (perKey.get(member.keyHash ?? '') ?? 0) > 1));
  });
  for (const member of members) {
    if (!summaries.has(member.name)) finish(notStarted(member.name, options.signal?.reason));
  }
  const ordered = members.map((member) => summaries.get(member.name)!);
  return { summaries: ordered, total: fleetTotal(ordered, options.signal?.aborted === true, (Date.now() - started) / 1000) };
}

function planMember(project: Project, file: string | undefined, name: string, cwd: string, stateTable: string | undefined): Member {
  try {
    const plan = planPipeline(project, file, { tap: name, stateTable }, cwd);
    const keyHash = vendorKeyHash(project.taps[plan.tap.name]?.type ?? plan.tap.name, plan.tap.name, plan.tap.config);
    return { name, plan, keyHash, resources: exclusiveResources(plan, keyHash) };
  } catch (error) {
    return { name, planError: error, resources: [] };
  }
}

async function runMember(member: Member, options: FleetOptions, budgets: SharedBudgets, sharesKey: boolean): Promise<RunSummary> {
  if (!member.plan) return failed(member.name, member.planError);
  const log = pipelineLogger(options.log, member.name);
  try {
    // Alone on its key, a pipeline's own stored rate_budget is already the key's whole history.
    const rateBudget = sharesKey ? await budgets.before(member.keyHash!, member.plan) : undefined;
    const summary = await runPipeline(member.plan, {
      log,
      signal: options.signal,
      killSignal: options.killSignal,
      fullRefresh: options.fullRefresh,
      ...(rateBudget !== undefined ? { rateBudget } : {}),
    });
    if (sharesKey) budgets.after(member.keyHash!, summary.state);
    return summary;
  } catch (error) {
    return failed(member.name, error);
  }
}

/**
 * Runs `members` up to `jobs` at a time, in order, skipping past one whose resources another holds
 * (it runs as soon as they are free). Once `signal` is aborted, nothing new starts.
 */
async function schedule(
  members: readonly Member[],
  jobs: number,
  signal: AbortSignal | undefined,
  run: (member: Member) => Promise<void>,
): Promise<void> {
  const pending = [...members];
  const held = new Set<string>();
  let running = 0;
  await new Promise<void>((resolve) => {
    const next = (): void => {
      while (running < jobs && !signal?.aborted) {
        const at = pending.findIndex((member) => member.resources.every((resource) => !held.has(resource)));
        if (at === -1) break;
        const [member] = pending.splice(at, 1) as [Member];
        for (const resource of member.resources) held.add(resource);
        running += 1;
        void run(member).finally(() => {
          for (const resource of member.resources) held.delete(resource);
          running -= 1;
          next();
        });
      }
      if (running === 0) resolve();
    };
    next();
  });
}

type BudgetState = { request_times: number[]; blocked_until?: number };

/**
 * The rate budget of each vendor key, shared by the pipelines on it. tap-kit keeps a key's spent
 * requests in each pipeline's state (`rate_budget`); the key's true history is the union of those
 * of every pipeline of tapline.yml on the key, read before its first run here and carried from each
 * run's committed state to the next (the pipelines of one key never run at once).
 */
export class SharedBudgets {
  private readonly byKey = new Map<string, BudgetState | undefined>();
  constructor(
    private readonly project: Project,
    private readonly file: string | undefined,
    private readonly cwd: string,
    private readonly stateTable: string | undefined,
  ) {}

  async before(keyHash: string, plan: PipelinePlan): Promise<BudgetState | undefined> {
    if (!this.byKey.has(keyHash)) this.byKey.set(keyHash, await this.storedBudget(keyHash));
    return mergeBudgets(this.byKey.get(keyHash), budgetOf(await loadStoredState(plan)));
  }

  after(keyHash: string, committed: unknown): void {
    this.byKey.set(keyHash, mergeBudgets(this.byKey.get(keyHash), budgetOf(committed)));
  }

  /** Every stored rate_budget on the key, the pipelines this run did not select included. */
  private async storedBudget(keyHash: string): Promise<BudgetState | undefined> {
    let merged: BudgetState | undefined;
    for (const name of Object.keys(this.project.pipelines)) {
      const member = planMember(this.project, this.file, name, this.cwd, this.stateTable);
      if (member.keyHash !== keyHash || !member.plan) continue;
      // A state that cannot be read here fails that pipeline's own run, with its own message.
      const stored = await loadStoredState(member.plan).catch(() => undefined);
      merged = mergeBudgets(merged, budgetOf(stored));
    }
    return merged;
  }
}

function budgetOf(state: unknown): BudgetState | undefined {
  const budget = (state as { rate_budget?: Partial<BudgetState> } | null | undefined)?.rate_budget;
  if (typeof budget !== 'object' || budget === null || !Array.isArray(budget.request_times)) return undefined;
  const times = budget.request_times.filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  return { request_times: times, ...(typeof budget.blocked_until === 'number' ? { blocked_until: budget.blocked_until } : {}) };
}

/**
 * Two records of one key's requests. A time may be in both (a state that started from the shared
 * budget repeats it): each time counts as often as the record that has it most often.
 */
export function mergeBudgets(a: BudgetState | undefined, b: BudgetState | undefined): BudgetState | undefined {
  if (!a || !b) return a ?? b;
  const count = (times: number[]) => times.reduce((map, t) => map.set(t, (map.get(t) ?? 0) + 1), new Map<number, number>());
  const inA = count(a.request_times);
  const inB = count(b.request_times);
  const times: number[] = [];
  for (const t of new Set([...inA.keys(), ...inB.keys()])) times.push(...Array<number>(Math.max(inA.get(t) ?? 0, inB.get(t) ?? 0)).fill(t));
  times.sort((x, y) => x - y);
  const blocked = Math.max(a.blocked_until ?? 0, b.blocked_until ?? 0);
  return { request_times: times, ...(blocked > 0 ? { blocked_until: blocked } : {}) };
}

/** Child lines of concurrent pipelines, told apart: `[name tap]` in text, a `pipeline` field in JSON. */
export function pipelineLogger(log: Logger, name: string): Logger {
  const each: Logger['log'] = (level, message, fields = {}) => {
    if (log.format === 'json') return log.log(level, message, { ...fields, pipeline: name });
    if (typeof fields.source === 'string') return log.log(level, message, { ...fields, source: `${name} ${fields.source}` });
    log.log(level, message.startsWith(`pipeline ${name}`) ? message : `[${name}] ${message}`, fields);
  };
  return {
    format: log.format,
    log: each,
    debug: (m, f) => each('debug', m, f),
    info: (m, f) => each('info', m, f),
    warn: (m, f) => each('warn', m, f),
    error: (m, f) => each('error', m, f),
    metric: (type, metric, value, tags) => log.metric(type, metric, value, { ...tags, pipeline: name }),
  };
}

function failed(pipeline: string, error: unknown): RunSummary {
  const known = error instanceof TaplineError;
  const message = known ? error.message.split('\n\n')[0]! : `tapline failed unexpectedly: ${(error as Error)?.message ?? String(error)}`;
  return {
    pipeline,
    status: 'failed',
    exit_code: known ? error.exitCode : ExitCode.internal,
    error: message,
    incremental: false,
    seconds: 0,
    streams: [],
    state: null,
  };
}

function notStarted(pipeline: string, reason: unknown): RunSummary {
  const signal = typeof reason === 'string' ? ` (${reason})` : '';
  return {
    pipeline,
    status: 'interrupted',
    exit_code: ExitCode.interrupted,
    error: `not started: tapline was interrupted${signal} before this pipeline's turn`,
    incremental: false,
    seconds: 0,
    streams: [],
    state: null,
  };
}

export function fleetTotal(summaries: readonly RunSummary[], interrupted: boolean, seconds: number): FleetTotal {
  const counted = (status: RunSummary['status']) => summaries.filter((s) => s.status === status).length;
  const firstFailed = summaries.find((s) => s.status === 'failed');
  const exit_code = interrupted
    ? ExitCode.interrupted
    : firstFailed
      ? firstFailed.exit_code
      : counted('partial') > 0
        ? ExitCode.partial
        : ExitCode.ok;
  return {
    pipelines: summaries.length,
    succeeded: counted('succeeded'),
    partial: counted('partial'),
    failed: counted('failed'),
    interrupted: counted('interrupted'),
    seconds: Math.round(seconds * 1000) / 1000,
    exit_code,
  };
}

const rowsOf = (summary: RunSummary): number => summary.streams.reduce((sum, s) => sum + (s.rows_loaded ?? s.rows_read), 0);

/** The one line a pipeline's end gets. */
function reportPipeline(summary: RunSummary, log: Logger): void {
  const head = `pipeline ${summary.pipeline} ${summary.status}`;
  // Text lines say it all; JSON logs carry the figures as fields too.
  const fields = log.format === 'json' ? { pipeline: summary.pipeline, exit_code: summary.exit_code } : {};
  if (summary.status === 'succeeded') log.info(`${head} in ${summary.seconds} s: ${rowsOf(summary)} rows`, fields);
  else if (summary.status === 'partial') log.warn(`${head} in ${summary.seconds} s: ${describePartial(summary.tap_summary)}`, fields);
  else log.error(`${head} (exit ${summary.exit_code}): ${summary.error ?? 'unknown failure'}`, fields);
}

/** The closing report: a table of the pipelines (text logs) and the total line. */
export function reportFleet(result: FleetResult, log: Logger): void {
  const { total } = result;
  if (log.format === 'text') {
    const rows = result.summaries.map((s) => [s.pipeline, s.status, s.exit_code, rowsOf(s), s.seconds]);
    process.stderr.write(`${formatTable(['pipeline', 'status', 'exit', 'rows', 'seconds'], rows)}\n`);
  }
  const counts = (['succeeded', 'partial', 'failed', 'interrupted'] as const).filter((k) => total[k] > 0).map((k) => `${total[k]} ${k}`);
  const line = `fleet: ${total.pipelines} pipelines in ${total.seconds} s: ${counts.join(', ')} (exit ${total.exit_code})`;
  const fields = log.format === 'json' ? { total } : {};
  if (total.exit_code === ExitCode.ok) log.info(line, fields);
  else if (total.exit_code === ExitCode.partial) log.warn(line, fields);
  else log.error(line, fields);
}

/** The `--summary-json` line closing a fleet run, after one line per pipeline. */
export const totalLine = (total: FleetTotal): string => `${stringifyJson({ total })}\n`;
