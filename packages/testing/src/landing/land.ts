// A tap's sync piped into a warehouse's target, once or twice (full, then incremental from the state).
import type { TapDefinition } from '@tapline/tap-kit';
import { jsonFile, runTap, spawnTap, type TapRun, type TapUnderTest } from '../run-tap.js';
import type { TargetRun } from '../target-contract/harness.js';
import type { Warehouse } from './warehouse.js';

export interface Landed {
  tap: TapRun;
  target: TargetRun;
}

export interface LandOptions {
  /** The tap's config (a simulator's `config`). */
  config: unknown;
  /** The state to start from; none for a first run. */
  state?: unknown;
  /** Target config added to the warehouse's (e.g. `{ hard_delete: true }`). */
  targetConfig?: Record<string, unknown>;
}

/**
 * Runs one sync and loads its output into the warehouse through the real target CLI: a tap given
 * as `{ bin }` is a process piped straight into the target's (`tap | target`); a definition runs
 * in-process and its output is fed to the target afterwards.
 */
export async function landSync(tap: TapDefinition | TapUnderTest, warehouse: Warehouse, options: LandOptions): Promise<Landed> {
  const argv = ['--config', jsonFile(options.config)];
  if (options.state !== undefined) argv.push('--state', jsonFile(options.state));
  if ('bin' in tap) {
    const spawned = spawnTap(tap.bin, argv);
    const [run, target] = await Promise.all([spawned.done, warehouse.load(spawned.stdout, options.targetConfig)]);
    return { tap: run, target };
  }
  const run = await runTap(tap, argv);
  return { tap: run, target: await warehouse.load(run.stdout, options.targetConfig) };
}

/**
 * What an hourly orchestrator does: a first sync, then `between()` (the vendor's data changes),
 * then a second sync from the state the target released after the first (what a runner keeps:
 * the state covering only what is durable), both loaded into the same warehouse.
 */
export async function landTwoSyncs(
  tap: TapDefinition | TapUnderTest,
  warehouse: Warehouse,
  options: Omit<LandOptions, 'state'> & { between?: () => unknown },
): Promise<[Landed, Landed]> {
  const first = await landSync(tap, warehouse, options);
  await options.between?.();
  const released = first.target.states.at(-1);
  if (released === undefined) throw new Error(`the target released no state after the first sync:\n${first.target.stderr.slice(-2000)}`);
  const second = await landSync(tap, warehouse, { ...options, state: released });
  return [first, second];
}
