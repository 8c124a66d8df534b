// The `tapline` commands (run, state, model, demo) behind one entry point, `main`.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { ExitCode, TaplineError } from './errors.js';
import { createLogger, type LogFormat, type Logger } from './log.js';
import { loadProject, readConfigFile } from './project.js';
import { planPipeline, runPipeline, stateLocation, targetFor, type RunSummary } from './pipeline.js';
import { clearState, readState, writeState, type StateLocation } from './state-store.js';
import { formatTable } from './table.js';
import { buildModel } from './model/index.js';
import { runDemo } from './demo.js';
import { isWarehouse } from './plugins.js';

const USAGE = `Usage:
  tapline run <tap> <target> [options]   run a tap into a target (e.g. tapline run classmarker duckdb)
  tapline run <pipeline> [options]       run a pipeline from tapline.yml
  tapline state get|set|clear <pipeline> inspect or reset a pipeline's state in the warehouse
  tapline model [--target duckdb|postgres] [--target-config FILE]
                                         create the unified views exam_results and exams
  tapline demo                           simulators -> warehouse.duckdb -> model -> summary

Options:
  --project FILE        project file (default ./tapline.yml when present)
  --tap-config FILE     tap settings (JSON), merged over tapline.yml
  --target-config FILE  target settings (JSON), merged over tapline.yml
  --pipeline NAME       pipeline name = state id (default: from tapline.yml, else <tap>-to-<target>)
  --state-table NAME    warehouse table holding state (default _tapline_state)
  --full-refresh        ignore the stored state for this run
  --summary-json        print one JSON line with the run's summary on stdout at the end
  --log-format text|json
  --target NAME         (state, model) which target of tapline.yml holds the warehouse
  --value JSON          (state set) the new state; or --file FILE
See packages/cli/README.md for tapline.yml, exit codes and the unified model.`;

const options = {
  project: { type: 'string' },
  'tap-config': { type: 'string' },
  'target-config': { type: 'string' },
  pipeline: { type: 'string' },
  'state-table': { type: 'string' },
  'full-refresh': { type: 'boolean' },
  'summary-json': { type: 'boolean' },
  'log-format': { type: 'string' },
  target: { type: 'string' },
  value: { type: 'string' },
  file: { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

type Flags = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

export async function main(argv: string[], cwd = process.cwd()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return ExitCode.usage;
  }
  const { values: flags, positionals } = parsed;
  const format = (flags['log-format'] ?? 'text') as LogFormat;
  if (format !== 'text' && format !== 'json') {
    process.stderr.write(`--log-format must be text or json, not "${format}".\n`);
    return ExitCode.usage;
  }
  const log = createLogger(format);
  if (flags.version) {
    const manifest = createRequire(import.meta.url)('../package.json') as { version: string };
    process.stdout.write(`${manifest.version}\n`);
    return ExitCode.ok;
  }
  const [command, ...rest] = positionals;
  if (flags.help || !command) {
    process.stdout.write(USAGE + '\n');
    return flags.help ? ExitCode.ok : ExitCode.usage;
  }
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, flags, cwd, log);
      case 'state':
        return await stateCommand(rest, flags, cwd);
      case 'model':
        return await modelCommand(flags, cwd, log);
      case 'demo':
        return await runDemo({ cwd: process.env.INIT_CWD ?? cwd, log, seed: flags.seed });
      default:
        throw new TaplineError(`Unknown command "${command}".\n\n${USAGE}`);
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

async function runCommand(args: string[], flags: Flags, cwd: string, log: Logger): Promise<number> {
  if (args.length < 1 || args.length > 2) throw new TaplineError(`tapline run takes <tap> <target> or <pipeline>.\n\n${USAGE}`);
  const { project, file } = await loadProject(flags.project, cwd);
  const plan = planPipeline(
    project,
    file,
    {
      tap: args[0]!,
      target: args[1],
      tapConfig: flags['tap-config'] ? await readConfigFile(flags['tap-config'], cwd, '--tap-config') : undefined,
      targetConfig: flags['target-config'] ? await readConfigFile(flags['target-config'], cwd, '--target-config') : undefined,
      pipeline: flags.pipeline,
      stateTable: flags['state-table'],
    },
    cwd,
  );
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await runPipeline(plan, { log, signal: abort.signal, fullRefresh: flags['full-refresh'] });
    reportRun(summary, log);
    if (flags['summary-json']) process.stdout.write(JSON.stringify(summary) + '\n');
    return summary.exit_code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function reportRun(summary: RunSummary, log: Logger): void {
  const rows = summary.streams.map((s) => [s.stream, s.rows_read, s.rows_loaded, s.seconds]);
  if (summary.status === 'succeeded') {
    log.info(`pipeline ${summary.pipeline} succeeded in ${summary.seconds} s${summary.incremental ? ' (incremental)' : ''}`);
  } else {
    log.error(`pipeline ${summary.pipeline} ${summary.status}: ${summary.error ?? 'unknown failure'}`, {
      exit_code: summary.exit_code,
    });
  }
  if (log.format === 'text' && rows.length > 0) {
    process.stderr.write(formatTable(['stream', 'rows read', 'rows loaded', 'seconds'], rows) + '\n');
  }
}

/** The warehouse holding a pipeline's state: from tapline.yml, or from --target / --target-config. */
async function locateState(pipelineName: string, flags: Flags, cwd: string): Promise<StateLocation> {
  const { project, file } = await loadProject(flags.project, cwd);
  const pipeline = project.pipelines[pipelineName];
  const targetName = flags.target ?? pipeline?.target;
  if (!targetName) {
    throw new TaplineError(
      `No pipeline named "${pipelineName}" in ${file ?? 'tapline.yml (none found)'}; say which warehouse with --target duckdb|postgres.`,
    );
  }
  const override = flags['target-config'] ? await readConfigFile(flags['target-config'], cwd, '--target-config') : undefined;
  const tapType = pipeline ? (project.taps[pipeline.tap]?.type ?? pipeline.tap) : pipelineName.split('-to-')[0];
  const { warehouse, config } = targetFor(project, targetName, tapType, override);
  if (!warehouse) throw new TaplineError(`Target "${targetName}" is not a warehouse (duckdb or postgres): its state is in .tapline/state/.`);
  return { kind: warehouse, config, cwd, stateTable: flags['state-table'] ?? project.state_table };
}

async function stateCommand(args: string[], flags: Flags, cwd: string): Promise<number> {
  const [action, pipeline] = args;
  if (!action || !pipeline || !['get', 'set', 'clear'].includes(action) || args.length > 2) {
    throw new TaplineError(`tapline state takes get|set|clear <pipeline>.\n\n${USAGE}`);
  }
  const location = await locateState(pipeline, flags, cwd);
  if (action === 'get') {
    const value = await readState(location, pipeline);
    if (value === undefined) {
      process.stderr.write(`No state stored for pipeline ${pipeline}: its next run is a full sync.\n`);
      return ExitCode.ok;
    }
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  } else if (action === 'set') {
    const text = flags.value ?? (flags.file ? await readFile(flags.file, 'utf8') : undefined);
    if (text === undefined) throw new TaplineError('tapline state set needs the new state: --value JSON or --file FILE.');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new TaplineError(`The new state is not valid JSON: ${(error as Error).message}`);
    }
    await writeState(location, pipeline, value);
    process.stderr.write(`State of pipeline ${pipeline} replaced.\n`);
  } else {
    const existed = await clearState(location, pipeline);
    process.stderr.write(existed ? `State of pipeline ${pipeline} cleared: its next run is a full sync.\n` : `No state stored for pipeline ${pipeline}.\n`);
  }
  return ExitCode.ok;
}

async function modelCommand(flags: Flags, cwd: string, log: Logger): Promise<number> {
  const { project } = await loadProject(flags.project, cwd);
  const targetName = flags.target ?? 'duckdb';
  const override = flags['target-config'] ? await readConfigFile(flags['target-config'], cwd, '--target-config') : undefined;
  const { warehouse, config } = targetFor(project, targetName, undefined, override);
  if (!warehouse || !isWarehouse(warehouse)) throw new TaplineError(`--target must name a duckdb or postgres target, not "${targetName}".`);
  const built = await buildModel({ kind: warehouse, config, cwd });
  log.info(`model built from ${built.providers.length ? built.providers.join(', ') : 'no provider tables (empty views)'}`, {
    views: ['exam_results', 'exams'],
  });
  return ExitCode.ok;
}
