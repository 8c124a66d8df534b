// `tapline run --all | --select NAME|GLOB | --tag TAG [--jobs N]`: the command line of a fleet run.

import { stringifyJson } from '@tapline/singer';
import { ExitCode, TaplineError } from './errors.js';
import { fleetTotal, reportFleet, runFleet, totalLine } from './fleet.js';
import { selectPipelines } from './fleet-plan.js';
import type { Interrupts } from './interrupts.js';
import type { Logger } from './log.js';
import { loadProject } from './project.js';

export interface FleetFlags {
  project?: string | undefined;
  all?: boolean | undefined;
  select?: string[] | undefined;
  tag?: string[] | undefined;
  jobs?: string | undefined;
  'state-table'?: string | undefined;
  'full-refresh'?: boolean | undefined;
  'summary-json'?: boolean | undefined;
  'tap-config'?: string | undefined;
  'target-config'?: string | undefined;
  pipeline?: string | undefined;
}

/** Whether a `tapline run` command line asks for a fleet run. */
export const isFleetRun = (flags: FleetFlags): boolean =>
  flags.all === true || (flags.select?.length ?? 0) > 0 || (flags.tag?.length ?? 0) > 0 || flags.jobs !== undefined;

export async function fleetCommand(
  args: string[],
  flags: FleetFlags,
  cwd: string,
  log: Logger,
  interrupts: Interrupts,
  usage: string,
): Promise<number> {
  const summaryJson = flags['summary-json'] === true;
  if (summaryJson) interrupts.lastWords = () => totalLine(fleetTotal([], true, 0));
  try {
    checkFleetFlags(args, flags, usage);
    const jobs = parseJobs(flags.jobs);
    const { project, file } = await loadProject(flags.project, cwd);
    const names = selectPipelines(project, file, { all: flags.all, select: flags.select, tags: flags.tag });
    // From here a signal stops the running pipelines (both sides of each) and starts no new one.
    const { signal, killSignal } = interrupts.handle();
    log.info(`fleet: ${names.length} pipeline${names.length === 1 ? '' : 's'}, ${jobs} at a time: ${names.join(', ')}`);
    const result = await runFleet(project, file, names, cwd, {
      log,
      jobs,
      signal,
      killSignal,
      fullRefresh: flags['full-refresh'],
      stateTable: flags['state-table'],
      onSummary: summaryJson ? (summary) => void process.stdout.write(`${stringifyJson(summary)}\n`) : undefined,
    });
    reportFleet(result, log);
    if (summaryJson) process.stdout.write(totalLine(result.total));
    return result.total.exit_code;
  } catch (error) {
    // Nothing ran (a usage error, an invalid tapline.yml): the total line says so all the same.
    if (summaryJson) {
      const exitCode = error instanceof TaplineError ? error.exitCode : ExitCode.internal;
      process.stdout.write(
        stringifyJson({ total: { ...fleetTotal([], false, 0), exit_code: exitCode, error: (error as Error).message.split('\n\n')[0] } }) +
          '\n',
      );
    }
    throw error;
  }
}

function checkFleetFlags(args: string[], flags: FleetFlags, usage: string): void {
  if (!flags.all && !flags.select?.length && !flags.tag?.length) {
    throw new TaplineError(
      `--jobs runs several pipelines: choose them with --all, --select NAME|GLOB or --tag TAG.\n\n${usage}`,
      ExitCode.usage,
    );
  }
  if (args.length > 0) {
    throw new TaplineError(
      `tapline run --all/--select/--tag takes no <tap> <target> or <pipeline> (got ${args.join(' ')}): name pipelines with --select.\n\n${usage}`,
      ExitCode.usage,
    );
  }
  for (const flag of ['tap-config', 'target-config', 'pipeline'] as const) {
    if (flags[flag] !== undefined)
      throw new TaplineError(`--${flag} applies to one pipeline, not to a fleet run: put the settings in tapline.yml.`, ExitCode.usage);
  }
}

function parseJobs(jobs: string | undefined): number {
  if (jobs === undefined) return 1;
  if (!/^\d+$/.test(jobs.trim()) || Number(jobs) < 1)
    throw new TaplineError(`--jobs must be a whole number of 1 or more, not "${jobs}".`, ExitCode.usage);
  return Number(jobs);
}
