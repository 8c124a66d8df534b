// tapline.yml: the project file (taps, targets, pipelines), `${ENV_VAR}` substitution (typed by the
// setting it fills, with ./.env under the environment) and validation.

import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { isPlainObject, type JsonSchema, settingFromText } from '@tapline/singer';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TaplineError } from './errors.js';
import { isProvider, isWarehouse, PROVIDERS, type Provider, tapPackage } from './plugins.js';
import { receiversSchema } from './serve/config.js';
import { targetLibrary } from './target-packages.js';
import { queueSchema } from './worker/queue-config.js';

const commandSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const configSchema = z.record(z.string(), z.unknown());

const tapSchema = z.strictObject({
  /** Which bundled connector this is (classmarker, testpress, ...); defaults to the tap's name. */
  type: z.string().optional(),
  /** Any Singer tap executable (ours or third-party); without it the bundled tap-<type> runs. */
  command: commandSchema.optional(),
  config: configSchema.default({}),
  /**
   * The schema this account's tables go to on a bundled target (default: the target's
   * default_target_schema, else the tap's name: one schema per account).
   */
  schema: z.string().min(1).optional(),
});

const targetSchema = z.strictObject({
  /** duckdb or postgres: which warehouse holds the state; defaults to the target's name. */
  type: z.enum(['duckdb', 'postgres']).optional(),
  command: commandSchema.optional(),
  config: configSchema.default({}),
});

const pipelineSchema = z.strictObject({
  tap: z.string().min(1),
  target: z.string().min(1),
  /** Labels for `tapline run --tag` (e.g. hourly, region-eu). */
  tags: z.array(z.string().min(1)).default([]),
  /** When `tapline worker` runs it: cron, in UTC (e.g. `0 * * * *`, hourly on the hour). */
  schedule: z.string().min(1).optional(),
});

/** A number, also as the text `${ENV_VAR}` substitution leaves (`"40"`). */
const settingNumber = z.preprocess(
  (value) => (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value),
  z.number().finite(),
);

/** Providers whose API sends no maximum score: a pass percentage can only be applied with one stated here. */
const NO_MAX_SCORE: readonly Provider[] = ['onlineexammaker', 'cbthost'];

/**
 * What the user states about one exam, for the unified model where the vendor sends nothing: the
 * points available, and the pass mark as points or as a percentage (README, "Exam settings").
 */
const examSettingsSchema = z
  .strictObject({
    max_score: settingNumber.pipe(z.number().positive()).optional(),
    pass_score: settingNumber.pipe(z.number().nonnegative()).optional(),
    pass_percentage: settingNumber.pipe(z.number().min(0).max(100)).optional(),
  })
  .refine((exam) => exam.max_score !== undefined || exam.pass_score !== undefined || exam.pass_percentage !== undefined, {
    message: 'state max_score, pass_score or pass_percentage',
  })
  .refine((exam) => exam.pass_score === undefined || exam.pass_percentage === undefined, {
    message: 'state the pass mark once: pass_score (points) or pass_percentage, not both',
  })
  .refine((exam) => exam.pass_score === undefined || exam.max_score === undefined || exam.pass_score <= exam.max_score, {
    message: 'pass_score is more than max_score: nobody could pass',
  });

export type ExamSettings = z.infer<typeof examSettingsSchema>;

/** `exams: {<provider>: {<exam id as the model shows it>: settings}}`. */
const examsSchema = z.partialRecord(z.enum(PROVIDERS), z.record(z.string().min(1), examSettingsSchema)).superRefine((byProvider, ctx) => {
  for (const [provider, exams] of Object.entries(byProvider) as [Provider, Record<string, ExamSettings>][]) {
    if (!NO_MAX_SCORE.includes(provider)) continue;
    for (const [exam, settings] of Object.entries(exams)) {
      if (settings.pass_percentage !== undefined && settings.max_score === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [provider, exam, 'pass_percentage'],
          message: `${provider} sends no maximum score, so a pass percentage needs max_score too (or state pass_score in points)`,
        });
      }
    }
  }
});

export type ExamSettingsByProvider = Partial<Record<Provider, Record<string, ExamSettings>>>;

export const projectSchema = z.strictObject({
  /** Table (in the target's schema) that holds each pipeline's state; the target writes it. */
  state_table: z.string().min(1).default('_tapline_state'),
  taps: z.record(z.string(), tapSchema).default({}),
  targets: z.record(z.string(), targetSchema).default({}),
  pipelines: z.record(z.string(), pipelineSchema).default({}),
  /** Per exam, what the unified model may not get from the vendor: max score and pass mark. */
  exams: examsSchema.default({}),
  /** Webhook receivers `tapline serve` runs (serve/config.ts). */
  receivers: receiversSchema.default({}),
  /** The job queue of `tapline worker` and `tapline schedule` (worker/queue-config.ts). */
  queue: queueSchema.optional(),
});

export type Project = z.infer<typeof projectSchema>;
export type TapSettings = z.infer<typeof tapSchema>;
export type TargetSettings = z.infer<typeof targetSchema>;

export interface LoadedProject {
  project: Project;
  /** The file it came from, or undefined when there is none (an empty project). */
  file: string | undefined;
}

export const emptyProject = (): Project => projectSchema.parse({});

/**
 * Reads a project file. `file` given: it must exist. Not given: ./tapline.yml (or .yaml) in `cwd`
 * if present, else an empty project (everything comes from the command line). `${NAME}` reads the
 * environment, then `.env` in `cwd`; a whole-value reference in a bundled tap's or target's config
 * takes the type of the setting it fills.
 */
export async function loadProject(file: string | undefined, cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedProject> {
  let resolved: string | undefined;
  if (file) {
    resolved = path.resolve(cwd, file);
    if (!existsSync(resolved)) throw new TaplineError(`Project file ${resolved} does not exist.`);
  } else {
    resolved = ['tapline.yml', 'tapline.yaml'].map((f) => path.join(cwd, f)).find((f) => existsSync(f));
    if (!resolved) return { project: emptyProject(), file: undefined };
  }
  const text = await readFile(resolved, 'utf8');
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new TaplineError(`${resolved} is not valid YAML: ${(error as Error).message}`);
  }
  const variables: NodeJS.ProcessEnv = readDotEnv(cwd);
  for (const [name, value] of Object.entries(env)) if (value !== undefined) variables[name] = value;
  return { project: parseProject(raw ?? {}, resolved, variables, await bundledSettings(raw)), file: resolved };
}

/** The variables of `.env` in `cwd`, or none; they lose to the environment and are never printed. */
export function readDotEnv(cwd: string): Record<string, string> {
  const file = path.join(cwd, '.env');
  try {
    return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') return {};
    throw new TaplineError(`Cannot read ${file}: ${code ?? 'unreadable'}.`);
  }
}

/** Settings by name (their input JSON Schema) of the taps and targets a project names, where known. */
export interface SettingTypes {
  taps: Record<string, Record<string, JsonSchema>>;
  targets: Record<string, Record<string, JsonSchema>>;
}

const WHOLE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/**
 * The declared settings of each bundled tap and target whose config holds a whole-value `${NAME}`
 * (imported only then). A plugin run by `command` declares nothing here: its values stay text.
 */
async function bundledSettings(raw: unknown): Promise<SettingTypes> {
  const types: SettingTypes = { taps: {}, targets: {} };
  const sections = (raw ?? {}) as Record<string, unknown>;
  for (const section of ['taps', 'targets'] as const) {
    for (const [name, entry] of Object.entries((sections[section] ?? {}) as Record<string, unknown>)) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { type = name, command, config } = entry as { type?: unknown; command?: unknown; config?: unknown };
      const references = Object.values((config ?? {}) as Record<string, unknown>).some(
        (v) => typeof v === 'string' && WHOLE_REFERENCE.test(v),
      );
      if (command !== undefined || !references || typeof type !== 'string') continue;
      const schema = section === 'taps' ? await tapConfigSchema(type) : await targetConfigSchema(type);
      if (!schema) continue;
      const settings = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
      types[section][name] = (settings.properties ?? {}) as Record<string, JsonSchema>;
    }
  }
  return types;
}

async function tapConfigSchema(type: string): Promise<z.ZodType | undefined> {
  if (!isProvider(type)) return undefined;
  try {
    const module = (await import(tapPackage(type))) as { tap?: { config?: z.ZodType } };
    return module.tap?.config;
  } catch {
    return undefined; // not built: the run reports that itself
  }
}

async function targetConfigSchema(type: string): Promise<z.ZodType | undefined> {
  if (!isWarehouse(type)) return undefined;
  try {
    return (await targetLibrary(type)).configSchema;
  } catch {
    return undefined; // not built: the run reports that itself
  }
}

/** Validates a parsed project document; errors name the file and the key. */
export function parseProject(
  raw: unknown,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  settings: SettingTypes = { taps: {}, targets: {} },
): Project {
  const settingAt = (at: readonly (string | number)[]): JsonSchema | undefined => {
    const [section, name, config, key] = at;
    if ((section !== 'taps' && section !== 'targets') || config !== 'config' || at.length !== 4) return undefined;
    return settings[section][String(name)]?.[String(key)];
  };
  // Receivers' `${NAME}`s are read by `tapline serve` alone (serve/index.ts): a run never needs a webhook secret.
  const { receivers, ...others } = isPlainObject(raw) ? raw : { receivers: undefined };
  const substituted = isPlainObject(raw)
    ? { ...(substituteEnv(others, [], file, env, settingAt) as object), ...(receivers === undefined ? {} : { receivers }) }
    : substituteEnv(raw, [], file, env, settingAt);
  const result = projectSchema.safeParse(substituted);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
    throw new TaplineError(`${file} is not a valid tapline project:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** Reads a JSON config file given on the command line (`--tap-config`, `--target-config`). */
export async function readConfigFile(file: string, cwd: string, flag: string): Promise<Record<string, unknown>> {
  const resolved = path.resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(resolved, 'utf8');
  } catch {
    throw new TaplineError(`${flag}: cannot read ${resolved}.`);
  }
  let value: unknown;
  const json = resolved.endsWith('.json');
  try {
    // JSON is YAML, so a YAML config file works too.
    value = json ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new TaplineError(`${flag}: ${resolved} is not valid ${json ? 'JSON' : 'YAML (or JSON)'}: ${reason}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TaplineError(`${flag}: ${resolved} must hold a JSON object.`);
  }
  return value as Record<string, unknown>;
}

const ENV_REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` (and `${NAME:-default}`) in every string; `$$` is a literal `$`. A value that is
 * one whole reference to a setting `settingAt` knows takes that setting's type ("50" -> 50 for an
 * integer, "true" -> true, JSON for an array); other values stay text.
 */
export function substituteEnv(
  value: unknown,
  at: (string | number)[],
  file: string,
  env: NodeJS.ProcessEnv,
  settingAt: (at: readonly (string | number)[]) => JsonSchema | undefined = () => undefined,
): unknown {
  if (typeof value === 'string') {
    const text = value.replace(ENV_REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      const found = env[name!];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      throw new TaplineError(`${file}: ${formatPath(at)}: environment variable ${name} is not set (referenced as ${match}).`);
    });
    const setting = WHOLE_REFERENCE.test(value) ? settingAt(at) : undefined;
    if (!setting) return text;
    const typed = settingFromText(text, setting);
    if (typed.ok) return typed.value;
    // Never the value: it may be a secret put in the wrong variable.
    throw new TaplineError(`${file}: ${formatPath(at)}: ${value} must be ${typed.expected} for this setting.`);
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, [...at, i], file, env, settingAt));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, [...at, k], file, env, settingAt)]));
  }
  return value;
}

function formatPath(at: readonly PropertyKey[]): string {
  if (at.length === 0) return '(top level)';
  return at.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}
