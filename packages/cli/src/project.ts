// tapline.yml: the project file (taps, targets, pipelines), `${ENV_VAR}` substitution and validation.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TaplineError } from './errors.js';
import { PROVIDERS, type Provider } from './plugins.js';

const commandSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const configSchema = z.record(z.string(), z.unknown());

const tapSchema = z.strictObject({
  /** Which bundled connector this is (classmarker, testpress, ...); defaults to the tap's name. */
  type: z.string().optional(),
  /** Any Singer tap executable (ours or third-party); without it the bundled tap-<type> runs. */
  command: commandSchema.optional(),
  config: configSchema.default({}),
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
const examsSchema = z
  .partialRecord(z.enum(PROVIDERS), z.record(z.string().min(1), examSettingsSchema))
  .superRefine((byProvider, ctx) => {
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
 * if present, else an empty project (everything comes from the command line).
 */
export async function loadProject(
  file: string | undefined,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedProject> {
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
  return { project: parseProject(raw ?? {}, resolved, env), file: resolved };
}

/** Validates a parsed project document; errors name the file and the key. */
export function parseProject(raw: unknown, file: string, env: NodeJS.ProcessEnv = process.env): Project {
  const substituted = substituteEnv(raw, [], file, env);
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

/** Replaces `${NAME}` (and `${NAME:-default}`) in every string; `$$` is a literal `$`. */
export function substituteEnv(
  value: unknown,
  at: (string | number)[],
  file: string,
  env: NodeJS.ProcessEnv,
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      const found = env[name!];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      throw new TaplineError(
        `${file}: ${formatPath(at)}: environment variable ${name} is not set (referenced as ${match}).`,
      );
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, [...at, i], file, env));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, [...at, k], file, env)]),
    );
  }
  return value;
}

function formatPath(at: readonly PropertyKey[]): string {
  if (at.length === 0) return '(top level)';
  return at.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}
