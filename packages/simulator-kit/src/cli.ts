// Shared CLI for simulator bins: parse `--port N --seed S` (+ extra flags), print one JSON line, serve.
import { parseArgs } from 'node:util';
import { type FaultSpec, parseFaultSpec } from './faults.js';
import type { RunningSimulator } from './server.js';

export interface SimulatorFlag {
  type: 'string' | 'number' | 'boolean';
  description: string;
  default?: string | number | boolean;
}

export type FlagValues = Record<string, string | number | boolean | undefined>;

export interface SimulatorCliArgs {
  port: number;
  host: string;
  seed: string;
  faults: FaultSpec[];
  /** The simulator-specific flags, by their CLI name (e.g. "rate-limit-per-hour"), parsed to their type. */
  flags: FlagValues;
}

export interface SimulatorCliOptions<TConfig> {
  /** The bin name, for help and errors (e.g. "classmarker-simulator"). */
  name: string;
  description?: string;
  flags?: Record<string, SimulatorFlag>;
  start(args: SimulatorCliArgs): Promise<RunningSimulator<TConfig>>;
  argv?: string[];
}

class UsageError extends Error {}

function usage<T>(options: SimulatorCliOptions<T>): string {
  const lines = [
    `usage: ${options.name} [--port N] [--seed S] [--fault JSON]...${Object.keys(options.flags ?? {})
      .map((f) => ` [--${f} ...]`)
      .join('')}`,
    options.description ?? '',
    '  --port N       port on 127.0.0.1 (0 = a free port; default 0)',
    '  --seed S       seed for the generated data (default "tapline")',
    '  --host H       interface to bind (default 127.0.0.1)',
    '  --fault JSON   inject a fault, e.g. {"route":"*","kind":"status","status":503,"times":2} (repeatable)',
    ...Object.entries(options.flags ?? {}).map(
      ([flag, spec]) => `  --${flag}  ${spec.description}${spec.default === undefined ? '' : ` (default ${String(spec.default)})`}`,
    ),
    'Prints one JSON line {"base_url": ..., "config": {...}} on stdout, then serves until SIGINT/SIGTERM.',
  ];
  return lines.filter(Boolean).join('\n');
}

/** Parses argv for a simulator; exported for tests. Throws a readable error on a bad flag. */
export function parseSimulatorArgs<T>(options: SimulatorCliOptions<T>, argv: string[]): SimulatorCliArgs | 'help' {
  const extra = options.flags ?? {};
  const parseSimulatorFlags = () =>
    parseArgs({
      args: argv,
      strict: true,
      options: {
        port: { type: 'string' },
        seed: { type: 'string' },
        host: { type: 'string' },
        fault: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(
          Object.entries(extra).map(([flag, spec]) => [flag, { type: spec.type === 'boolean' ? 'boolean' : 'string' }] as const),
        ),
      },
    });
  let parsed: ReturnType<typeof parseSimulatorFlags>;
  try {
    parsed = parseSimulatorFlags();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) return 'help';

  const toNumber = (flag: string, raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got "${raw}"`);
    return n;
  };
  const port = values.port === undefined ? 0 : toNumber('port', values.port as string);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got ${port}`);

  const flags: FlagValues = {};
  for (const [flag, spec] of Object.entries(extra)) {
    const raw = values[flag] as string | boolean | undefined;
    if (raw === undefined) flags[flag] = spec.default;
    else if (spec.type === 'number') flags[flag] = toNumber(flag, raw as string);
    else flags[flag] = raw;
  }
  const faults = ((values.fault as string[] | undefined) ?? []).map((text) => {
    try {
      return parseFaultSpec(text);
    } catch (error) {
      throw new UsageError(`--fault: ${(error as Error).message}`);
    }
  });
  return {
    port,
    host: (values.host as string | undefined) ?? '127.0.0.1',
    seed: (values.seed as string | undefined) ?? 'tapline',
    faults,
    flags,
  };
}

/** Runs a simulator bin: prints `{"base_url","config"}` as one JSON line, then serves until a signal. */
export async function runSimulatorCli<TConfig>(options: SimulatorCliOptions<TConfig>): Promise<void> {
  let args: SimulatorCliArgs | 'help';
  try {
    args = parseSimulatorArgs(options, options.argv ?? process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${options.name}: ${(error as Error).message}\n${usage(options)}\n`);
    process.exitCode = 2;
    return;
  }
  if (args === 'help') {
    process.stdout.write(`${usage(options)}\n`);
    return;
  }
  let simulator: RunningSimulator<TConfig>;
  try {
    simulator = await options.start(args);
  } catch (error) {
    process.stderr.write(`${options.name}: could not start: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${JSON.stringify({ base_url: simulator.baseUrl, config: simulator.config })}\n`);
  process.stderr.write(`${options.name}: serving on ${simulator.baseUrl} (Ctrl-C to stop)\n`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await simulator.close();
}
