// The tap command line: --config/--state/--catalog/--discover/--about/--test/--version, subcommands,
// exit codes by blame, and a clean stop on the vendor's rate limit.
import type { Writable } from 'node:stream';
import type { HttpClient } from '@tapline/http';
import { exitCodesHelp, parseLogLevel, SingerWriter } from '@tapline/singer';
import { discoverCatalog } from './catalog.js';
import { createApiClient, secretValues } from './client.js';
import { envPrefix, loadTapConfig, readJsonFile, tapSettingsJsonSchema } from './config.js';
import type { StreamContext, TapDefinition } from './declare.js';
import { blameOf, EXIT_CODES, exitCodeFor, isRateLimited, TapError, UsageError } from './errors.js';
import { createLogger, type Logger, type LogLevel, ProgressLine } from './log.js';
import { packageVersion } from './package-version.js';
import { RunSummary } from './run-summary.js';
import { budgetSnapshot, rateBudgetOf, readStateFile } from './state.js';
import { sync } from './sync.js';

/** Where the CLI reads and writes; process streams by default, replaceable in tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Where `.env` is read from; default the working directory. */
  cwd?: string;
  now?: () => Date;
}

interface ParsedArgs {
  configs: string[];
  state?: string;
  catalog?: string;
  catalogFlag?: '--catalog' | '--properties';
  discover: boolean;
  about: boolean;
  format: 'text' | 'json' | 'markdown';
  test: boolean;
  version: boolean;
  help: boolean;
  logLevel?: LogLevel;
  subcommand?: string;
  args: string[];
  flags: Record<string, string>;
}

const VALUE_FLAGS = new Set(['--config', '--state', '--catalog', '--properties', '--format', '--log-level']);
const BOOLEAN_FLAGS = new Set(['--discover', '--about', '--test', '--version', '--help', '-h', '--quiet', '-q']);

function parseArgs(argv: readonly string[], subcommands: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = {
    configs: [],
    discover: false,
    about: false,
    format: 'text',
    test: false,
    version: false,
    help: false,
    args: [],
    flags: {},
  };
  let rest = [...argv];
  if (rest[0] !== undefined && !rest[0].startsWith('-')) {
    if (!subcommands.includes(rest[0])) throw new UsageError(`Unknown command "${rest[0]}".`);
    parsed.subcommand = rest[0];
    rest = rest.slice(1);
  }
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    const [flag, inline] =
      token.startsWith('--') && token.includes('=')
        ? [token.slice(0, token.indexOf('=')), token.slice(token.indexOf('=') + 1)]
        : [token, undefined];
    const takeValue = () => {
      const value = inline ?? rest[++i];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${flag} needs a value.`);
      return value;
    };
    if (VALUE_FLAGS.has(flag)) {
      const value = takeValue();
      if (flag === '--config') parsed.configs.push(value);
      else if (flag === '--state') parsed.state = value;
      else if (flag === '--catalog' || flag === '--properties') {
        parsed.catalog = value;
        parsed.catalogFlag = flag;
      } else if (flag === '--format') {
        if (value !== 'json' && value !== 'markdown' && value !== 'text') throw new UsageError(`--format must be json, markdown or text.`);
        parsed.format = value;
      } else {
        const level = parseLogLevel(value);
        if (level === undefined) throw new UsageError(`--log-level must be debug, info, warn or error.`);
        parsed.logLevel = level;
      }
    } else if (BOOLEAN_FLAGS.has(flag)) {
      if (flag === '--discover') parsed.discover = true;
      else if (flag === '--about') parsed.about = true;
      else if (flag === '--test') parsed.test = true;
      else if (flag === '--version') parsed.version = true;
      else if (flag === '--quiet' || flag === '-q') parsed.logLevel = 'error';
      else parsed.help = true;
    } else if (parsed.subcommand && flag.startsWith('--')) {
      const next = rest[i + 1];
      const takesNext = inline === undefined && next !== undefined && !next.startsWith('--');
      parsed.flags[flag.slice(2)] = inline ?? (takesNext ? next : 'true');
      if (takesNext) i++;
    } else if (parsed.subcommand && !flag.startsWith('-')) {
      parsed.args.push(flag);
    } else {
      throw new UsageError(`Unknown option ${flag}.`);
    }
  }
  return parsed;
}

function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('[REDACTED]'), text);
}

function helpText(tap: TapDefinition): string {
  const lines = [
    `${tap.name} ${tap.version}: ${tap.description}`,
    '',
    'Usage:',
    `  ${tap.name} --config FILE [--config FILE ...] [--state FILE] [--catalog FILE]   sync to stdout`,
    `  ${tap.name} --discover [--config FILE]      print the catalog`,
    `  ${tap.name} --about [--format json|markdown] print name, version, capabilities and settings`,
    `  ${tap.name} --test --config FILE [--state FILE]   check the credentials with one cheap request`,
    `  ${tap.name} --version | --help`,
  ];
  for (const [name, sub] of Object.entries(tap.subcommands ?? {}))
    lines.push(`${`  ${tap.name} ${name} ${sub.usage ?? ''}`.trimEnd()}   ${sub.description}`);
  lines.push(
    '',
    'Options:',
    '  --config FILE      JSON config; repeatable, later files win. Settings also come from',
    `                     ${envPrefix(tap.name)}<KEY> environment variables and ./.env (files win over`,
    '                     them, the environment over .env); a key that names no setting is an error.',
    '  --state FILE       the last STATE value (or a whole STATE message), to resume incrementally',
    '  --catalog FILE     select streams and fields (--properties is accepted as an alias)',
    '  --log-level LEVEL  debug, info (default; or $TAPLINE_LOG_LEVEL), warn or error; logs go to stderr',
    '  --quiet, -q        errors only (--log-level error); the last SUMMARY line is still written',
    '',
    'Every tap also accepts the settings request_timeout (seconds per HTTP request, 300)',
    'and max_response_mb (largest answer read, 64); --about lists them.',
    '',
  );
  return `${lines.join('\n')}\n${exitCodesHelp('tap')}`;
}

/** tap-kit's own version: `sdk_version` in `--about`, where the Meltano SDK puts its own. */
const TAP_KIT_VERSION = packageVersion(import.meta.url, '@tapline/tap-kit');

// `properties` is left out although --properties is still read: Meltano's SDK lists it as
// deprecated in favour of `catalog`, and Meltano then passes --catalog.
function aboutOf(tap: TapDefinition) {
  const capabilities = ['about', 'catalog', 'discover', 'state'];
  if (tap.api.test) capabilities.push('test');
  if (tap.streams.some((s) => s.activateVersion)) capabilities.push('activate-version');
  return {
    name: tap.name,
    description: tap.description,
    version: tap.version,
    sdk_version: TAP_KIT_VERSION,
    supported_python_versions: null,
    capabilities,
    settings: tapSettingsJsonSchema(tap.config),
  };
}

function aboutMarkdown(about: ReturnType<typeof aboutOf>): string {
  const properties = (about.settings.properties ?? {}) as Record<string, { type?: unknown; description?: string; default?: unknown }>;
  const required = new Set((about.settings.required as string[] | undefined) ?? []);
  const rows = Object.entries(properties).map(
    ([name, p]) =>
      `| ${name} | ${required.has(name) ? 'yes' : 'no'} | ${p.default === undefined ? '' : JSON.stringify(p.default)} | ${p.description ?? ''} |`,
  );
  return [
    `# ${about.name}`,
    '',
    about.description,
    '',
    `Version ${about.version}. Capabilities: ${about.capabilities.join(', ')}.`,
    '',
    '| Setting | Required | Default | Description |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/**
 * What one run writes to stderr besides Singer's stdout: the log, the live progress line on a
 * terminal, and the closing summary, each with the config's secrets redacted. The secrets are
 * known only once the config is loaded, so redaction reads them late.
 */
class RunOutput {
  secrets: string[] = [];
  readonly summary = new RunSummary();
  readonly progress: ProgressLine | undefined;
  log: Logger;

  constructor(private readonly io: CliIo) {
    this.progress = io.stderr.isTTY ? new ProgressLine(io.stderr as NodeJS.WriteStream) : undefined;
    this.log = this.makeLog(undefined);
  }

  /** The log at the level --log-level/--quiet chose (the default level until they are parsed). */
  useLevel(level: LogLevel | undefined): void {
    this.log = this.makeLog(level);
  }

  redact(text: string): string {
    return redact(text, this.secrets);
  }

  /** Ends a sync: the summary as the last stderr line, and the exit code it means. */
  finish(): number {
    this.io.stderr.write(`${this.redact(this.summary.line())}\n`);
    return this.summary.status === 'partial' ? EXIT_CODES.partial : EXIT_CODES.ok;
  }

  private makeLog(level: LogLevel | undefined): Logger {
    return createLogger({
      ...(level !== undefined ? { level } : {}),
      env: this.io.env,
      write: (line) => void this.io.stderr.write(line),
      redact: (line) => this.redact(line),
      beforeLine: () => this.progress?.clear(),
    });
  }
}

/** Runs the tap CLI and returns the exit code (never calls process.exit, so tests can call it). */
export async function runTapCli<TConfig>(tap: TapDefinition<TConfig>, argv: readonly string[], io: CliIo): Promise<number> {
  const out = new RunOutput(io);
  try {
    const args = parseArgs(argv, Object.keys(tap.subcommands ?? {}));
    out.useLevel(args.logLevel);
    if (writeDescription(tap, args, io.stdout)) return EXIT_CODES.ok;
    const session = openSession(tap, args, io, out);
    try {
      if (args.subcommand) {
        const subcommand = tap.subcommands![args.subcommand]!;
        await subcommand.run({
          args: args.args,
          flags: args.flags,
          config: session.config,
          http: session.http,
          log: out.log,
          stdout: io.stdout,
        });
        return EXIT_CODES.ok;
      }
      if (args.test) return await testConnection(tap, args, session, io, out.log);
      return await syncToStdout(tap, args, session, io, out);
    } finally {
      out.progress?.stop();
      await session.http.close?.();
    }
  } catch (error) {
    return exitCodeAfter(error, tap.name, io, out);
  }
}

/**
 * The modes that describe the tap and need no config: --help, --version, --about, --discover.
 * Writes the description and answers true when one of them was asked for.
 */
function writeDescription(tap: TapDefinition, args: ParsedArgs, stdout: NodeJS.WritableStream): boolean {
  if (args.help) stdout.write(helpText(tap));
  else if (args.version) stdout.write(`${tap.name} ${tap.version}\n`);
  else if (args.about) stdout.write(aboutText(aboutOf(tap), args.format));
  else if (args.discover) stdout.write(`${JSON.stringify(discoverCatalog(tap.streams), null, 2)}\n`);
  else return false;
  return true;
}

function aboutText(about: ReturnType<typeof aboutOf>, format: ParsedArgs['format']): string {
  if (format === 'json') return `${JSON.stringify(about, null, 2)}\n`;
  if (format === 'markdown') return aboutMarkdown(about);
  const settings = Object.keys((about.settings.properties ?? {}) as object).join(', ');
  return `${about.name} ${about.version}: ${about.description}\nCapabilities: ${about.capabilities.join(', ')}\nSettings: ${settings}\n`;
}

/** What the modes that talk to the API share: the loaded config, the given state, the HTTP client. */
interface TapSession<TConfig> {
  config: TConfig;
  state: unknown;
  http: HttpClient;
}

/** Loads the config (files, environment, .env), reads --state, and opens the API's client. */
function openSession<TConfig>(tap: TapDefinition<TConfig>, args: ParsedArgs, io: CliIo, out: RunOutput): TapSession<TConfig> {
  const { config, settings } = loadTapConfig({
    tapName: tap.name,
    schema: tap.config,
    files: args.configs,
    env: io.env,
    ...(io.cwd !== undefined ? { cwd: io.cwd } : {}),
  });
  out.secrets = secretValues(config);
  // Read before the client exists: the state carries the rate budget's recent requests.
  const state = args.state ? readStateFile(args.state, out.log) : undefined;
  const http = createApiClient(tap.api, config, out.log, { budgetState: rateBudgetOf(state), settings });
  return { config, state, http };
}

/** --test: one cheap request the API must accept, counted against the rate budget like any other. */
async function testConnection<TConfig>(
  tap: TapDefinition<TConfig>,
  args: ParsedArgs,
  { config, state, http }: TapSession<TConfig>,
  io: CliIo,
  log: Logger,
): Promise<number> {
  const test = tap.api.test;
  if (!test) throw new TapError(`${tap.name} does not declare a connection test.`, 'system');
  // None is spent when the budget (restored from --state) is used up, and the one spent is handed
  // back in a STATE.
  const budget = http.budget;
  if (budget && budget.availableAt() > Date.now()) {
    throw new TapError(
      `Connection test not run: the request budget for ${budget.describe()} is used up${args.state ? ` (per ${args.state})` : ''}; run --test again after ${new Date(budget.availableAt()).toISOString()}.`,
      'transient',
    );
  }
  const ctx: StreamContext<TConfig> = {
    stream: '(test)',
    config,
    http,
    log,
    context: {},
    start: undefined,
    signal: new AbortController().signal,
  };
  if (typeof test === 'function') await test(ctx);
  else await http.request({ method: 'GET', path: test.path, query: { ...(test.query ?? {}) }, headers: {} });
  log.info('Connection test passed: the API accepted the credentials.');
  if (budget) {
    const given =
      typeof state === 'object' && state !== null && !Array.isArray(state) ? (state as Record<string, unknown>) : { bookmarks: {} };
    const writer = new SingerWriter(io.stdout as Writable);
    await writer.write({ type: 'STATE', value: { ...given, rate_budget: budgetSnapshot(budget) } });
    await writer.end();
    log.info('The STATE line on stdout is the given state with this request counted: pass it as the next --state.');
  }
  return EXIT_CODES.ok;
}

/** The default mode: the selected streams as Singer messages on stdout, the summary last on stderr. */
async function syncToStdout<TConfig>(
  tap: TapDefinition<TConfig>,
  args: ParsedArgs,
  { config, state, http }: TapSession<TConfig>,
  io: CliIo,
  out: RunOutput,
): Promise<number> {
  const catalog = args.catalog ? readJsonFile(args.catalog, args.catalogFlag === '--properties' ? 'properties' : 'catalog') : undefined;
  const writer = new SingerWriter(io.stdout as Writable);
  out.progress?.start();
  await sync({
    tap,
    config,
    state,
    catalog,
    http,
    log: out.log,
    write: (message) => writer.write(message),
    ...(io.now ? { now: io.now } : {}),
    ...(args.state !== undefined ? { stateFile: args.state } : {}),
    onRecords: (stream, count) => out.progress?.count(stream, count),
    summary: out.summary,
  });
  await writer.end();
  return out.finish();
}

/**
 * The exit code a failure means, by its blame, and what stderr says about it: a rate-limit stop is
 * a clean end with the state saved; a known failure is one sentence; an unclassified bug adds its
 * stack trace.
 */
function exitCodeAfter(error: unknown, tapName: string, io: CliIo, out: RunOutput): number {
  if (isRateLimited(error)) {
    out.log.info(`Stopped on the API's rate limit with the state saved; run again after ${error.retryAt.toISOString()}.`);
    return out.finish();
  }
  if (isBrokenPipe(error)) {
    // The reader of stdout went away (an orphaned tap, a target that died): nothing more can be
    // delivered, and it is not our bug, so one sentence and the transient code, no stack trace.
    io.stderr.write(
      'CRITICAL stdout was closed by its reader (broken pipe); stopping. The next run resumes from the last state the reader committed.\n',
    );
    return EXIT_CODES.transient;
  }
  const message = out.redact(error instanceof Error ? error.message : String(error));
  if (error instanceof UsageError) {
    io.stderr.write(`CRITICAL ${message} Run ${tapName} --help for usage.\n`);
  } else {
    io.stderr.write(`CRITICAL ${message}\n`);
    // A bug nobody classified deserves its stack trace; known failures are one sentence.
    if (!(error instanceof TapError) && blameOf(error) === 'system' && error instanceof Error && error.stack) {
      io.stderr.write(`${out.redact(error.stack)}\n`);
    }
  }
  return exitCodeFor(error);
}

function isBrokenPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/** The entry point a connector's cli.ts calls: `runTap(tap)`. */
export async function runTap(tap: TapDefinition): Promise<void> {
  process.exitCode = await runTapCli(tap, process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
}
