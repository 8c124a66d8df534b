// Loading a tap's config: --config files merged in order, TAP_<NAME>_<KEY> variables (and .env), unknown keys refused, zod errors naming the key.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { settingFromText, settingTypes } from '@tapline/singer';
import { z } from 'zod';
import { TapError } from './errors.js';
import type { JsonSchema } from './json-schema.js';

/**
 * Settings every Tapline tap accepts besides its own: the HTTP client's limits, so that every
 * request ends and no page is buffered past a bound, whatever the connector.
 */
export const sharedSettings = z.object({
  // Coerced: a number written as text (a YAML or ${ENV} interpolation) is taken, "abc" is refused.
  request_timeout: z.coerce
    .number({ error: 'is invalid: expected a number of seconds' })
    .positive()
    .max(86_400)
    .default(300)
    .describe(
      'Seconds one HTTP request may take in all, from connecting to the last byte of the answer; then it is retried, and the run fails after the last attempt.',
    ),
  max_response_mb: z.coerce
    .number({ error: 'is invalid: expected a number of MB' })
    .positive()
    .max(4096)
    .default(64)
    .describe('Largest answer read, in MB (2^20 bytes); a larger page fails the run (exit 3) instead of filling memory.'),
});

export type SharedSettings = z.output<typeof sharedSettings>;

/** 'tap-classmarker' -> 'TAP_CLASSMARKER_'. */
export function envPrefix(tapName: string): string {
  const base = tapName.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  return `${base.startsWith('TAP_') ? base : `TAP_${base}`}_`;
}

/** The config's JSON Schema as `--about` shows it (the input side: what the user writes). */
export function settingsJsonSchema(config: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(config, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return schema;
}

/** A tap's settings as `--about` lists them: its own, then the shared ones it does not declare itself. */
export function tapSettingsJsonSchema(config: z.ZodType): JsonSchema {
  const own = settingsJsonSchema(config);
  const shared = (settingsJsonSchema(sharedSettings).properties ?? {}) as Record<string, JsonSchema>;
  const properties: Record<string, JsonSchema> = { ...((own.properties ?? {}) as Record<string, JsonSchema>) };
  for (const [name, schema] of Object.entries(shared)) if (!(name in properties)) properties[name] = schema;
  return { ...own, properties };
}

/** Reads a JSON file given on the command line; a missing or malformed file is the user's to fix. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TapError(`Cannot read the ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}.`, 'config');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TapError(`The ${what} file ${path} is not valid JSON (${(error as Error).message}).`, 'config');
  }
}

/** The variable a value came from, for errors: `TAP_X_KEY`, or `TAP_X_KEY in .env`. */
const describeVariable = (name: string, env: NodeJS.ProcessEnv) => (env[name] === undefined ? `${name} in .env` : name);

/**
 * The variables of `.env` in `cwd` (none when there is no such file). Parsed with Node's own dotenv
 * reader; its values are never printed.
 */
export function readDotEnv(cwd: string): Record<string, string> {
  const file = join(cwd, '.env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') return {};
    throw new TapError(`Cannot read ${file}: ${code ?? 'unreadable'}.`, 'config');
  }
  return parseEnv(text) as Record<string, string>;
}

/**
 * Values from TAP_<NAME>_<KEY> variables, typed by the setting's JSON Schema (numbers, booleans,
 * arrays and objects as JSON). The environment wins over `.env`. A variable whose key is a
 * misspelling of a setting is an error; others under the prefix are left alone, since the
 * environment is shared: `TAP_<NAME>__SELECT` and the like are Meltano's extras, and
 * `TAP_<NAME>_<ALIAS>_<SETTING>` belongs to a Meltano plugin that inherits from this tap.
 */
export function configFromEnv(
  tapName: string,
  config: z.ZodType,
  env: NodeJS.ProcessEnv,
  dotenv: Record<string, string> = {},
): Record<string, unknown> {
  const prefix = envPrefix(tapName);
  const properties = settingProperties(config);
  const names = Object.keys(properties);
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  const variables: Record<string, string> = { ...dotenv };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) variables[name] = value;
  for (const [name, raw] of Object.entries(variables)) {
    if (!name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length).toLowerCase();
    if (!Object.hasOwn(properties, key)) {
      const closest = closestName(key, names);
      if (closest !== undefined && !key.startsWith('_') && !names.some((setting) => key.endsWith(`_${setting}`))) {
        problems.push(`unknown setting "${key}" from ${describeVariable(name, env)} (did you mean ${prefix}${closest.toUpperCase()}?)`);
      }
      continue;
    }
    // An empty variable is an unset one, except for a text setting.
    if (raw === '' && !settingTypes(properties[key]).includes('string')) continue;
    const read = settingFromText(raw, properties[key]);
    if (read.ok) out[key] = read.value;
    else problems.push(`setting "${key}" from ${describeVariable(name, env)} must be ${read.expected}`);
  }
  if (problems.length > 0) throw new TapError(`config: ${problems.join('; ')}.`, 'config');
  return out;
}

/** The top-level settings of a config schema, by name. */
function settingProperties(config: z.ZodType): Record<string, JsonSchema> {
  return (tapSettingsJsonSchema(config).properties ?? {}) as Record<string, JsonSchema>;
}

/** A key of a config file that names no setting: where it is, and what could have been meant. */
export interface UnknownSetting {
  /** `api_secert`, `group_tests[1].tset_id`. */
  path: string;
  /** The closest valid name at that place, when one is near enough. */
  closest: string | undefined;
  /** Every valid name at that place. */
  valid: string[];
}

/**
 * Keys of a config file that name no setting, at every depth the settings schema declares (the keys
 * of a list of {group_id, test_id} pairs too). Keys starting with `_` are left for tools (notes,
 * Meltano's extras) and never read.
 */
export function unknownSettings(value: unknown, schema: JsonSchema, at = ''): UnknownSetting[] {
  if (typeof value !== 'object' || value === null) return [];
  if (Array.isArray(value)) {
    const items = schema.items as JsonSchema | undefined;
    return items && typeof items === 'object' ? value.flatMap((item, i) => unknownSettings(item, items, `${at}[${i}]`)) : [];
  }
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  // An object without declared properties, or one open to any key (a map), takes any key.
  if (!properties || (schema.additionalProperties !== undefined && schema.additionalProperties !== false)) return [];
  const valid = Object.keys(properties);
  return Object.entries(value).flatMap(([key, child]) => {
    const path = at === '' ? key : `${at}.${key}`;
    if (Object.hasOwn(properties, key)) return unknownSettings(child, properties[key]!, path);
    if (key.startsWith('_')) return [];
    const closest = closestName(key, valid);
    return [{ path, closest: closest === undefined ? undefined : at === '' ? closest : `${at}.${closest}`, valid }];
  });
}

function describeUnknown(unknown: UnknownSetting, file: string): string {
  const hint = unknown.closest !== undefined ? `did you mean "${unknown.closest}"?` : `the settings here are ${unknown.valid.join(', ')}`;
  return `unknown setting "${unknown.path}" in ${file} (${hint})`;
}

/** The valid name nearest to a misspelt one, if near enough to be what was meant. */
export function closestName(name: string, valid: readonly string[]): string | undefined {
  const wanted = name.toLowerCase().replace(/-/g, '_');
  let best: { name: string; distance: number } | undefined;
  for (const candidate of valid) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name: candidate, distance };
  }
  if (!best) return undefined;
  // One edit in four characters (at least one): api_secert, startdate, PAGE_SIZE, base-url.
  return best.distance <= Math.max(1, Math.floor(best.name.length / 4)) ? best.name : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

interface ConfigSources<TConfig> {
  tapName: string;
  schema: z.ZodType<TConfig>;
  files: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Where `.env` is read from; default the working directory. */
  cwd?: string;
}

/**
 * The tap's config and the shared settings, from one set of sources: environment and `.env` first,
 * then each --config file in order (later wins). A key that names no setting (the tap's own or the
 * shared ones) is an error naming the closest one. Errors name every offending key, never its value.
 */
export function loadTapConfig<TConfig>(options: ConfigSources<TConfig>): { config: TConfig; settings: SharedSettings } {
  const dotenv = readDotEnv(options.cwd ?? process.cwd());
  const merged: Record<string, unknown> = configFromEnv(options.tapName, options.schema, options.env, dotenv);
  const settings = tapSettingsJsonSchema(options.schema);
  const unknown: string[] = [];
  for (const file of options.files) {
    const content = readJsonFile(file, 'config');
    if (typeof content !== 'object' || content === null || Array.isArray(content)) {
      throw new TapError(`The config file ${file} must hold a JSON object.`, 'config');
    }
    unknown.push(...unknownSettings(content, settings).map((found) => describeUnknown(found, file)));
    Object.assign(merged, content);
  }
  if (unknown.length > 0) throw new TapError(`config: ${unknown.join('; ')}.`, 'config');
  const parsed = options.schema.safeParse(merged);
  const shared = sharedSettings.safeParse(merged);
  // A connector declaring a shared name itself validates it; the shared check is not repeated.
  const ownProperties = (settingsJsonSchema(options.schema).properties ?? {}) as Record<string, unknown>;
  const sharedIssues = shared.success ? [] : shared.error.issues.filter((issue) => !(String(issue.path[0]) in ownProperties));
  if (parsed.success && sharedIssues.length === 0) {
    return { config: parsed.data, settings: shared.success ? shared.data : sharedSettings.parse({}) };
  }
  const issues = [...(parsed.success ? [] : parsed.error.issues), ...sharedIssues];
  throw new TapError(`Invalid config: ${issues.map((issue) => configProblem(issue, merged, options.tapName)).join('; ')}.`, 'config');
}

/** The tap's own config (see `loadTapConfig`). */
export function loadConfig<TConfig>(options: ConfigSources<TConfig>): TConfig {
  return loadTapConfig(options).config;
}

/** One problem of the config, naming its key and never its value. */
function configProblem(issue: z.core.$ZodIssue, merged: Record<string, unknown>, tapName: string): string {
  const key = issue.path.map(String).join('.') || '(config)';
  const value = issue.path.reduce<unknown>(
    (node, part) => (node as Record<PropertyKey, unknown> | undefined)?.[part as PropertyKey],
    merged,
  );
  if (value === undefined && issue.path.length === 1) {
    return `"${key}" is missing (set it in a --config file or ${envPrefix(tapName)}${key.toUpperCase()})`;
  }
  return `"${key}" ${issue.message.replace(/^Invalid input: /, 'is invalid: ')}`;
}
