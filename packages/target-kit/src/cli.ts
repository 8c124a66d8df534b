// The command line every Tapline target shares: `target-x --config config.json [--input file] < messages`.
import { createReadStream, openSync, type ReadStream, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { createLogger, exitCodesHelp, parseLogLevel } from '@tapline/singer';
import { z } from 'zod';
import type { BaseTargetConfig } from './config.js';
import { readConfigFile } from './config.js';
import type { Dialect, Logger } from './dialect.js';
import { classifyError, EXIT_CODES, Interrupted, type StopSignal, TransientError, UsageError } from './errors.js';
import { knobsFromEnvironment } from './knobs.js';
import { runTarget } from './loader.js';

/** What a target package declares; `runTargetCli` does the rest. */
export interface TargetDefinition<C extends BaseTargetConfig> {
  /** Executable name, e.g. `target-postgres`. */
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** The base config schema extended with the dialect's settings; its output must be `C`. */
  readonly configSchema: z.ZodObject;
  readonly dialect: Dialect<C>;
}

/** target-kit's own version: `sdk_version` in `--about`, where the Meltano SDK puts its own. */
const TARGET_KIT_VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** Meltano SDK capability names this target kit supports (`--about`). */
const CAPABILITIES = ['about', 'activate-version', 'hard-delete', 'soft-delete', 'schema-flattening', 'target-schema', 'validate-records'];

const usage = (name: string) =>
  `usage: ${name} --config CONFIG.json [--input MESSAGES.jsonl] [--log-level debug|info|warn|error] [--quiet]\n       ${name} --about [--format json|markdown]\n       ${name} --version\n` +
  `Logs go to stderr at --log-level (default info, or $TAPLINE_LOG_LEVEL); --quiet (-q) logs errors only.`;

/**
 * Run the CLI and set `process.exitCode` from the shared table (`EXIT_CODES`, @tapline/singer
 * README "Exit codes"). Errors go to stderr as one `CRITICAL` line (a stack only for bugs); state
 * values go to stdout.
 */
export async function runTargetCli<C extends BaseTargetConfig>(
  definition: TargetDefinition<C>,
  argv: readonly string[] = process.argv.slice(2),
): Promise<number> {
  const code = await main(definition, argv).catch((error: unknown) => {
    const { code, message, showStack } = classifyError(error);
    process.stderr.write(`CRITICAL ${message}\n`);
    if (showStack && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return code;
  });
  process.exitCode = code;
  return code;
}

async function main<C extends BaseTargetConfig>(definition: TargetDefinition<C>, argv: readonly string[]): Promise<number> {
  let values: {
    config?: string;
    input?: string;
    about?: boolean;
    format?: string;
    version?: boolean;
    help?: boolean;
    'log-level'?: string;
    quiet?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string' },
        input: { type: 'string' },
        about: { type: 'boolean' },
        format: { type: 'string' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        'log-level': { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage(definition.name)}`);
  }
  if (values.help) {
    process.stdout.write(`${definition.description}\n\n${usage(definition.name)}\n\n${exitCodesHelp('target')}`);
    return EXIT_CODES.ok;
  }
  if (values.version) {
    process.stdout.write(`${definition.name} v${definition.version}\n`);
    return EXIT_CODES.ok;
  }
  if (values.about) {
    process.stdout.write(about(definition, values.format ?? 'text'));
    return EXIT_CODES.ok;
  }
  const level = values.quiet ? 'error' : parseLogLevel(values['log-level']);
  if (values['log-level'] !== undefined && level === undefined) {
    throw new UsageError(`--log-level must be debug, info, warn or error, not "${values['log-level']}"\n${usage(definition.name)}`);
  }
  if (values.config === undefined) throw new UsageError(`--config is required\n${usage(definition.name)}`);
  const log = createLogger(level === undefined ? {} : { level });
  const config = (await readConfigFile(definition.configSchema, values.config, (message) => log.warn(message))) as C;
  const input = values.input === undefined ? process.stdin : inputFile(values.input);
  const summary = await stoppingGracefully(input, log, () =>
    runTarget({ dialect: definition.dialect, config, input, log, knobs: knobsFromEnvironment() }),
  );
  const counts = Object.entries(summary.records).map(([stream, count]) => `${stream}: ${count}`);
  log.info(`done: ${counts.length === 0 ? 'no records' : `records ${counts.join(', ')}`}; ${summary.statesEmitted} state(s) emitted`);
  return EXIT_CODES.ok;
}

/** The `--input` file, opened now: a path that is missing, unreadable or a folder is a usage error naming it. */
function inputFile(path: string): ReadStream {
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`--input ${path}: is a directory, not a file of messages`);
    return createReadStream(path, { fd: openSync(path, 'r') });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const { code, message } = error as NodeJS.ErrnoException;
    throw new UsageError(`--input ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : message}`);
  }
}

const STOP_SIGNALS: readonly StopSignal[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * Run `load` so that a stop signal ends it the way bad input does: reading stops (the input is
 * destroyed with `Interrupted`, which the loader meets at its next read), what the last STATE
 * covers is committed and echoed, the rest is rolled back, the session is closed (DuckDB's spool
 * files removed), and the run fails with exit 128 + the signal's number. A second signal exits at
 * once (the database rolls back the open transaction when the connection goes). A signal that
 * comes after the input ended lets the run finish its last commit (stopping it there would only
 * throw away rows a state may already cover), then fails with the same exit code: the
 * orchestrator asked for a stop and sees the code it expects.
 *
 * stdout closed by its reader (EPIPE: the orchestrator that takes the states is gone) stops the
 * load too, as a LoadError: states can no longer be delivered, so nothing more is committed.
 */
async function stoppingGracefully<T>(
  input: NodeJS.ReadableStream & { destroy(error?: Error): unknown; readableEnded?: boolean },
  log: Logger,
  load: () => Promise<T>,
): Promise<T> {
  let stopping: Interrupted | null = null;
  let inputEnded = false;
  const onInputEnd = () => (inputEnded = true);
  const onSignal = (signal: StopSignal) => {
    if (stopping !== null) {
      log.warn(`${signal} again: exiting now, without committing`);
      process.exit(new Interrupted(signal).exitCode);
    }
    if (inputEnded || input.readableEnded === true) {
      stopping = new Interrupted(signal, true);
      log.warn(`${signal} after the end of input: finishing the last commit, then stopping`);
      return;
    }
    stopping = new Interrupted(signal);
    log.warn(`${signal}: stopping; committing what the last STATE covers`);
    input.destroy(stopping);
  };
  let outputClosed: TransientError | null = null;
  const onOutputError = (error: NodeJS.ErrnoException) => {
    if (outputClosed !== null) return; // each later state write fails alike
    outputClosed = new TransientError(
      `stdout was closed by its reader (${error.code ?? error.message}), so states can no longer be delivered: the load stopped; what was committed stays (state_table, when set, holds its state), the rest was rolled back`,
    );
    input.destroy(outputClosed);
  };
  // The loader meets input errors through its reads; one that comes after it stopped reading (the
  // input destroyed once fully read) must not become an unhandled 'error' event.
  const ignoreLateInputError = () => {};
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  process.stdout.on('error', onOutputError);
  input.on('end', onInputEnd);
  input.on('error', ignoreLateInputError);
  try {
    const result = await load();
    // The last state could not be delivered, though the input had ended: not a clean run.
    if (outputClosed !== null) throw outputClosed;
    // A signal that came once everything was read: the run finished, and still reports the stop.
    if (stopping !== null)
      throw (stopping as Interrupted).afterEndOfInput ? stopping : new Interrupted((stopping as Interrupted).signal, true);
    return result;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    process.stdout.off('error', onOutputError);
    input.off('end', onInputEnd);
  }
}

function about<C extends BaseTargetConfig>(definition: TargetDefinition<C>, format: string): string {
  const settings = z.toJSONSchema(definition.configSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { type?: unknown; description?: string; default?: unknown }>;
  };
  const info = {
    name: definition.name,
    description: definition.description,
    version: definition.version,
    sdk_version: TARGET_KIT_VERSION,
    supported_python_versions: null,
    capabilities: CAPABILITIES,
    settings,
  };
  if (format === 'json') return `${JSON.stringify(info, null, 2)}\n`;
  const rows = Object.entries(settings.properties ?? {}).map(
    ([key, spec]) =>
      `| ${key} | ${Array.isArray(spec.type) ? spec.type.join(', ') : String(spec.type ?? 'any')} | ${spec.default === undefined ? '' : JSON.stringify(spec.default)} | ${spec.description ?? ''} |`,
  );
  const table = ['| setting | type | default | description |', '|---|---|---|---|', ...rows].join('\n');
  if (format === 'markdown') {
    return `# ${definition.name}\n\n${definition.description}\n\nVersion ${definition.version}. Capabilities: ${CAPABILITIES.join(', ')}.\n\n${table}\n`;
  }
  return `${definition.name} ${definition.version}\n${definition.description}\ncapabilities: ${CAPABILITIES.join(', ')}\n\n${table}\n`;
}
