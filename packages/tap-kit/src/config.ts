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

/** The config's JSON Schema as `--about` shows it (the input side: what the user writes). */
export function settingsJsonSchema(config: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(config, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return schema;
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
  const properties = (settingsJsonSchema(config).properties ?? {}) as Record<string, JsonSchema>;
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

/**
 * Merges config sources (environment first, then each --config file in order: later wins) and
 * validates the result. Errors name every offending key, never its value.
 */
export function loadConfig<TConfig>(options: {
  tapName: string;
  schema: z.ZodType<TConfig>;
  files: readonly string[];
  env: NodeJS.ProcessEnv;
}): TConfig {
  const merged: Record<string, unknown> = configFromEnv(options.tapName, options.schema, options.env);
  for (const file of options.files) {
    const content = readJsonFile(file, 'config');
    if (typeof content !== 'object' || content === null || Array.isArray(content)) {
      throw new TapError(`The config file ${file} must hold a JSON object.`, 'config');
    }
    Object.assign(merged, content);
  }
  const parsed = options.schema.safeParse(merged);
  if (parsed.success) return parsed.data;
  const prefix = envPrefix(options.tapName);
  const problems = parsed.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.') || '(config)';
    const value = issue.path.reduce<unknown>((node, part) => (node as Record<PropertyKey, unknown> | undefined)?.[part as PropertyKey], merged);
    if (value === undefined && issue.path.length === 1) {
      return `"${key}" is missing (set it in a --config file or ${prefix}${key.toUpperCase()})`;
    }
    return `"${key}" ${issue.message.replace(/^Invalid input: /, 'is invalid: ')}`;
  });
  throw new TapError(`Invalid config: ${problems.join('; ')}.`, 'config');
}
