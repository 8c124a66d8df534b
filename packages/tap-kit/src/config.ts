// Loading a tap's config: --config files merged in order, TAP_<NAME>_<KEY> variables, zod errors naming the key.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TapError } from './errors.js';
import type { JsonSchema } from './json-schema.js';

/** 'tap-classmarker' -> 'TAP_CLASSMARKER_'. */
export function envPrefix(tapName: string): string {
  const base = tapName.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  return `${base.startsWith('TAP_') ? base : `TAP_${base}`}_`;
}

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
    .describe('Seconds one HTTP request may take in all, from connecting to the last byte of the answer; then it is retried, and the run fails after the last attempt.'),
  max_response_mb: z.coerce
    .number({ error: 'is invalid: expected a number of MB' })
    .positive()
    .max(4096)
    .default(64)
    .describe('Largest answer read, in MB (2^20 bytes); a larger page fails the run (exit 3) instead of filling memory.'),
});

export type SharedSettings = z.output<typeof sharedSettings>;

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

/** Values from TAP_<NAME>_<KEY> variables, cast by the setting's declared JSON type. */
export function configFromEnv(tapName: string, config: z.ZodType, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const prefix = envPrefix(tapName);
  const properties = (tapSettingsJsonSchema(config).properties ?? {}) as Record<string, JsonSchema>;
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(prefix) || raw === undefined) continue;
    const key = name.slice(prefix.length).toLowerCase();
    const types = ([] as unknown[]).concat(properties[key]?.type ?? 'string');
    if (types.includes('string') || !properties[key]) out[key] = raw;
    else if (types.includes('boolean')) out[key] = ['true', '1', 'yes'].includes(raw.toLowerCase());
    else if (types.includes('integer') || types.includes('number')) out[key] = Number(raw);
    else {
      try {
        out[key] = JSON.parse(raw);
      } catch {
        throw new TapError(`Environment variable ${name} must be JSON for the setting "${key}".`, 'config');
      }
    }
  }
  return out;
}

interface ConfigSources<TConfig> {
  tapName: string;
  schema: z.ZodType<TConfig>;
  files: readonly string[];
  env: NodeJS.ProcessEnv;
}

/** The tap's config and the shared settings, read from one set of sources (see `loadConfig`). */
export function loadTapConfig<TConfig>(options: ConfigSources<TConfig>): { config: TConfig; settings: SharedSettings } {
  const merged = mergeConfigSources(options);
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

/**
 * Merges config sources (environment first, then each --config file in order: later wins) and
 * validates the result. Errors name every offending key, never its value.
 */
export function loadConfig<TConfig>(options: ConfigSources<TConfig>): TConfig {
  return loadTapConfig(options).config;
}

function mergeConfigSources<TConfig>(options: ConfigSources<TConfig>): Record<string, unknown> {
  const merged: Record<string, unknown> = configFromEnv(options.tapName, options.schema, options.env);
  for (const file of options.files) {
    const content = readJsonFile(file, 'config');
    if (typeof content !== 'object' || content === null || Array.isArray(content)) {
      throw new TapError(`The config file ${file} must hold a JSON object.`, 'config');
    }
    Object.assign(merged, content);
  }
  return merged;
}

/** One problem of the config, naming its key and never its value. */
function configProblem(issue: z.core.$ZodIssue, merged: Record<string, unknown>, tapName: string): string {
  const key = issue.path.map(String).join('.') || '(config)';
  const value = issue.path.reduce<unknown>((node, part) => (node as Record<PropertyKey, unknown> | undefined)?.[part as PropertyKey], merged);
  if (value === undefined && issue.path.length === 1) {
    return `"${key}" is missing (set it in a --config file or ${envPrefix(tapName)}${key.toUpperCase()})`;
  }
  return `"${key}" ${issue.message.replace(/^Invalid input: /, 'is invalid: ')}`;
}
