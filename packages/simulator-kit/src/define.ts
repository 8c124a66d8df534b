// defineSimulator: one declaration per vendor simulator gives both ways to start it, in a test
// (`start(options)`) and as a bin (`runCli()`), with the parts every simulator shares wired once:
// the seed, faults, the vendor's error answers (option, action, CLI flag) and the server itself.
import { type FlagValues, runSimulatorCli, type SimulatorFlag } from './cli.js';
import { type ErrorAnswerSpec, type ErrorAnswers, errorAnswerArgs, errorAnswerFault, parseErrorAnswers } from './error-answers.js';
import type { Seed } from './random.js';
import { type RunningSimulator, type SimulatorDefinition, type StartOptions, startSimulator } from './server.js';

/** The start options every simulator takes, besides its own. */
export interface SimulatorOptions extends StartOptions {
  seed?: Seed;
  /** Error-answer modes from the start (CLI `--error-answer SHAPE[@ROUTE]`); shapes in the simulator's `errorAnswers`. */
  errorAnswers?: readonly ErrorAnswerSpec[];
}

/** What one start of a simulator serves: its routes, tap config, vendor answers and actions, and what it offers tests. */
export interface SimulatorParts<TConfig, TExtra> extends Omit<SimulatorDefinition<TConfig>, 'name'> {
  /** What the running simulator offers besides the kit's (its world, `advance`, ...). */
  extra: TExtra;
}

export interface SimulatorDeclaration<TOptions extends SimulatorOptions, TConfig, TExtra> {
  /** The vendor, e.g. "cbthost"; the bin is `<name>-simulator`. */
  name: string;
  /** The vendor's error answers by shape: served by the `errorAnswers` option, the `error-answer` action and `--error-answer`. */
  errorAnswers: ErrorAnswers;
  /** Builds the world for one start (seeded by `options.seed`) and the parts that serve it. */
  build(options: TOptions): SimulatorParts<TConfig, TExtra>;
  /** The bin: its one-line description, its own flags, and the start options they ask for (throw a sentence for a bad value). */
  cli: {
    description: string;
    flags?: Record<string, SimulatorFlag>;
    options(flags: FlagValues): Omit<TOptions, keyof SimulatorOptions>;
    /** What the bin does once serving, beside serving (e.g. post webhooks); runs in the background. */
    started?(simulator: Simulator<TConfig, TExtra>, flags: FlagValues): void;
  };
}

/** A running simulator: the kit's handle, the simulator's own extras, and its error answers on demand. */
export type Simulator<TConfig, TExtra> = RunningSimulator<TConfig> &
  TExtra & {
    /** Serve one of the vendor's error answers (action `error-answer`); `faults.clear()` ends it. */
    errorAnswer(spec: ErrorAnswerSpec): void;
  };

export interface DefinedSimulator<TOptions extends SimulatorOptions, TConfig, TExtra> {
  readonly name: string;
  start(options?: TOptions): Promise<Simulator<TConfig, TExtra>>;
  /** Runs the `<name>-simulator` bin: parses its flags, prints `{"base_url","config"}`, serves until a signal. */
  runCli(argv?: string[]): Promise<void>;
}

/** Declares a vendor simulator; see SimulatorDeclaration. */
export function defineSimulator<TOptions extends SimulatorOptions, TConfig, TExtra>(
  declaration: SimulatorDeclaration<TOptions, TConfig, TExtra>,
): DefinedSimulator<TOptions, TConfig, TExtra> {
  const { name, errorAnswers } = declaration;
  const start = async (options: TOptions = {} as TOptions): Promise<Simulator<TConfig, TExtra>> => {
    const { extra, actions, ...parts } = declaration.build(options);
    let running: RunningSimulator<TConfig> | undefined;
    const errorAnswer = (spec: ErrorAnswerSpec): void => void running?.faults.inject(errorAnswerFault(errorAnswers, spec));
    const faults = [...(options.faults ?? []), ...(options.errorAnswers ?? []).map((spec) => errorAnswerFault(errorAnswers, spec))];
    running = await startSimulator(
      { name, ...parts, actions: { ...actions, 'error-answer': (args) => errorAnswer(errorAnswerArgs(args)) } },
      { ...options, faults },
    );
    // Assigned onto the handle (not spread) so getters and methods of either keep working.
    return Object.assign(running, extra, { errorAnswer }) as Simulator<TConfig, TExtra>;
  };
  const runCli = (argv?: string[]) =>
    runSimulatorCli({
      name: `${name}-simulator`,
      description: declaration.cli.description,
      flags: {
        ...declaration.cli.flags,
        'error-answer': {
          type: 'string',
          description: `serve an error answer until cleared: SHAPE[@ROUTE][,...]; shapes ${Object.keys(errorAnswers).join(', ')}`,
        },
      },
      ...(argv !== undefined ? { argv } : {}),
      start: async ({ port, host, seed, faults, flags }) => {
        const simulator = await start({
          ...declaration.cli.options(flags),
          port,
          host,
          seed,
          faults,
          // A person or a script drives the bin: a wrong path gets the vendor's answer, and serving goes on.
          unexpected: 'allow',
          errorAnswers: parseErrorAnswers(flags['error-answer'] as string | undefined),
        } as unknown as TOptions);
        declaration.cli.started?.(simulator, flags);
        return simulator;
      },
    });
  return { name, start, runCli };
}
