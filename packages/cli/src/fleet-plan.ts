// Which pipelines a fleet run takes (`--all`, `--select NAME|GLOB`, `--tag TAG`) and what each holds
// exclusively while it runs: its vendor key (by hash) and its DuckDB file.
import { createHash } from 'node:crypto';
import { ExitCode, TaplineError } from './errors.js';
import type { PipelinePlan } from './pipeline.js';
import { isProvider, type Provider } from './plugins.js';
import type { Project } from './project.js';
import { PLACES } from './warehouse.js';

export interface Selection {
  all?: boolean;
  /** Pipeline names or globs (`*` any text, `?` one character). */
  select?: readonly string[];
  tags?: readonly string[];
}

/**
 * The pipelines of tapline.yml a selection names, in the file's order. Each `--select` and `--tag`
 * adds pipelines; one that matches nothing is a usage error naming it, so a typo never runs less.
 */
export function selectPipelines(project: Project, file: string | undefined, selection: Selection): string[] {
  const names = Object.keys(project.pipelines);
  const where = file ?? 'tapline.yml (none found)';
  if (names.length === 0) throw new TaplineError(`${where} defines no pipelines: a fleet run needs a pipelines: section.`);
  if (selection.all) return names;
  const chosen = new Set<string>();
  for (const pattern of selection.select ?? []) {
    const matches = names.filter((name) => globMatches(pattern, name));
    if (matches.length === 0) {
      throw new TaplineError(`--select ${pattern} matches no pipeline of ${where} (pipelines: ${names.join(', ')}).`, ExitCode.usage);
    }
    for (const name of matches) chosen.add(name);
  }
  for (const tag of selection.tags ?? []) {
    const matches = names.filter((name) => project.pipelines[name]!.tags.includes(tag));
    if (matches.length === 0) {
      const known = [...new Set(names.flatMap((name) => project.pipelines[name]!.tags))];
      throw new TaplineError(
        `--tag ${tag} is on no pipeline of ${where} (tags: ${known.length > 0 ? known.join(', ') : 'none'}).`,
        ExitCode.usage,
      );
    }
    for (const name of matches) chosen.add(name);
  }
  return names.filter((name) => chosen.has(name));
}

/** A shell-style glob: `*` any text, `?` one character; anything else literally. */
export function globMatches(pattern: string, name: string): boolean {
  const source = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.+()[\]{}|]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`).test(name);
}

/**
 * The settings that name one vendor account, per bundled provider: pipelines whose taps agree on
 * them use one key, and so one rate budget (ClassMarker: 30 requests per hour per key, see
 * docs/providers/classmarker.md). CBTHost has no account key: its base URL is the account.
 */
const ACCOUNT_SETTINGS: Record<Provider, readonly string[]> = {
  classmarker: ['base_url', 'api_key'],
  testpress: ['base_url', 'username'],
  onlineexammaker: ['base_url', 'v1_base_url', 'code'],
  cbthost: ['base_url'],
};

/**
 * A hash naming a pipeline's vendor key (never the key itself: a hash is all that is kept or
 * compared). A tap run by `command` is known only by its tap entry and config.
 */
export function vendorKeyHash(tapType: string, tapName: string, config: Record<string, unknown>): string {
  const identity = isProvider(tapType)
    ? [tapType, ...ACCOUNT_SETTINGS[tapType].map((setting) => config[setting] ?? null)]
    : ['command', tapName, config];
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 16);
}

/**
 * What a pipeline holds alone while it runs: its vendor key (so pipelines on one key take turns
 * and pass their rate budget on) and a DuckDB file (DuckDB lets one process write a file at a time).
 */
export function exclusiveResources(plan: PipelinePlan, keyHash: string): string[] {
  const resources = [`key:${keyHash}`];
  // The target package says whether its warehouse has one writer at a time (a DuckDB file).
  const held = plan.target.warehouse && PLACES[plan.target.warehouse].heldAlone(plan.target.config, plan.cwd);
  if (held) resources.push(held);
  return resources;
}
