// Running tap-classmarker in-process against a simulator (through @tapline/testing), and reading what it wrote.
import { jsonFile, lastState, recordsOf, runTap as runTapCli, type TapRun as SingerRun } from '@tapline/testing/landing';
import type { ClassMarkerSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

export interface TapRun extends SingerRun {
  records(stream: string): Array<Record<string, any>>;
  /** The value of the last STATE message. */
  state: unknown;
}

/** Runs `tap-classmarker` with the simulator's config (plus overrides) and optional state/catalog. */
export async function runTap(
  sim: Pick<ClassMarkerSimulator, 'config'>,
  options: { config?: Record<string, unknown>; state?: unknown; catalog?: unknown; args?: string[] } = {},
): Promise<TapRun> {
  // A subcommand must come first: `tap-classmarker access-codes add --config c.json ...`.
  const argv = [...(options.args ?? []), '--config', jsonFile({ ...sim.config, ...options.config })];
  if (options.state !== undefined) argv.push('--state', jsonFile(options.state));
  if (options.catalog !== undefined) argv.push('--catalog', jsonFile(options.catalog));
  const run = await runTapCli(tap, argv);
  return { ...run, records: (stream) => recordsOf(run, stream), state: lastState(run) };
}

/** ISO form of UNIX seconds, as the tap emits time_finished. */
export const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');

export const groupKey = (r: { [field: string]: any }) =>
  `${String(r.user_id)}/${String(r.test_id)}/${String(r.group_id)}/${typeof r.time_started === 'number' ? iso(r.time_started) : String(r.time_started)}`;
