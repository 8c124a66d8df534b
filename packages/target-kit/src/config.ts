// The config every target accepts (zod), and reading a config file with errors that name the key.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/** Settings shared by every Tapline target; a dialect extends this with its connection settings. */
export const baseConfigSchema = z.object({
  default_target_schema: z
    .string()
    .min(1)
    .optional()
    .describe("Schema every stream lands in (default: the database's own); when set, stream `a-b` lands in it as table `b`"),
  load_method: z
    .enum(['upsert', 'append-only', 'overwrite'])
    .default('upsert')
    .describe(
      'upsert: keyed streams upsert by key_properties, keyless streams append; append-only: insert every record; overwrite: the first SCHEMA of a stream in a run replaces its table, in the transaction of the new rows',
    ),
  add_record_metadata: z.boolean().default(true).describe('Add the _sdc_* metadata columns'),
  add_metadata_columns: z.boolean().optional().describe("pipelinewise's spelling of add_record_metadata; wins when set"),
  hard_delete: z
    .boolean()
    .default(false)
    .describe('ACTIVATE_VERSION deletes old rows instead of setting _sdc_deleted_at; records carrying _sdc_deleted_at are deleted'),
  validate_records: z.boolean().default(true).describe("Validate each record against its stream's JSON Schema"),
  batch_size_rows: z
    .number()
    .int()
    .positive()
    .default(50_000)
    .describe('Rows buffered per stream before a bulk write; a commit happens at the next STATE after this many rows'),
  state_table: z
    .string()
    .min(1)
    .optional()
    .describe('Also store each state in this table (`name` or `schema.name`), in the transaction of the rows it covers'),
  state_id: z.string().min(1).default('default').describe('The row of state_table this pipeline uses'),
  // A runner reads the stored state before it starts the tap; another run of the pipeline may commit
  // in between (it held the lock then), and loading from the older state would load rows twice.
  expected_state: z
    .string()
    .nullable()
    .optional()
    .describe(
      'The state_table value this run resumes from, as JSON text (null: none stored), as the runner read it before starting the tap; once the pipeline is locked, a stored state that differs (another run committed since) stops the run before anything is loaded',
    ),
  // A runner that owns end-of-input sets false, so an EOF it did not mean (the runner was killed)
  // never commits rows that no stored state covers.
  commit_uncovered_rows: z
    .boolean()
    .default(true)
    .describe('At a clean end of input, also commit the rows after the last STATE (false: discard them)'),
  sanitize_null_characters: z
    .boolean()
    .default(false)
    .describe('Remove U+0000 from strings where the database cannot store it, instead of stopping'),
  replace_unpaired_surrogates: z
    .boolean()
    .default(false)
    .describe('Store U+FFFD in place of an unpaired UTF-16 surrogate (JSON "\\ud800"), instead of stopping'),
  load_undeclared_properties: z
    .boolean()
    .default(true)
    .describe('Load record properties the schema does not declare into columns typed from their values (false: drop them with a warning)'),
  worker_threads: z
    .number()
    .int()
    .min(0)
    .max(64)
    .optional()
    .describe(
      "Threads that parse, validate and encode records beside the main thread, past the input's first 8 MB (default: cores minus two, at most 4)",
    ),
  interpret_content_encoding: z
    .boolean()
    .default(false)
    .describe('Store strings whose schema says contentEncoding: base16 as bytes (PostgreSQL bytea, DuckDB BLOB)'),
  data_flattening_max_level: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Flatten object properties into parent__child columns this many levels deep (0: objects are JSON columns)'),
  flattening_enabled: z.boolean().optional().describe("The Meltano SDK's spelling of flattening: on, flattening_max_depth levels deep"),
  flattening_max_depth: z.number().int().min(0).optional().describe('How many levels deep flattening_enabled flattens'),
  process_activate_version_messages: z.boolean().default(true).describe('Set false to ignore ACTIVATE_VERSION messages'),
  activate_version: z
    .boolean()
    .optional()
    .describe("MeltanoLabs target-postgres's spelling of process_activate_version_messages; wins when set"),
});

export type BaseTargetConfig = z.infer<typeof baseConfigSchema>;

/** Whether rows get the `_sdc_*` metadata columns, from either spelling of the setting. */
export function recordsMetadata(config: Pick<BaseTargetConfig, 'add_record_metadata' | 'add_metadata_columns'>): boolean {
  return config.add_metadata_columns ?? config.add_record_metadata;
}

/** How many levels deep objects are flattened, from either spelling of the setting (0: not at all). */
export function flatteningLevel(
  config: Pick<BaseTargetConfig, 'data_flattening_max_level' | 'flattening_enabled' | 'flattening_max_depth'>,
): number {
  if (config.flattening_enabled !== true) return config.data_flattening_max_level;
  if (config.flattening_max_depth === undefined) {
    throw new ConfigError(
      'config key "flattening_max_depth" is missing: flattening_enabled is true, and it says how many levels deep to flatten',
    );
  }
  return config.flattening_max_depth;
}

/** Validate a parsed config object; an error names the first wrong key. Unknown keys are reported to `warn` and ignored. */
export function parseConfig<S extends z.ZodObject>(
  schema: S,
  raw: unknown,
  source = 'config',
  warn: (message: string) => void = () => {},
): z.infer<S> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue && issue.path.length > 0 ? issue.path.join('.') : undefined;
    const what = key === undefined ? `${source} is invalid` : `${source} key "${key}" is invalid`;
    throw new ConfigError(`${what}: ${issue?.message ?? result.error.message}`);
  }
  if (raw !== null && typeof raw === 'object') {
    const known = new Set(Object.keys(schema.shape));
    for (const key of Object.keys(raw)) {
      if (!known.has(key)) warn(`${source} key "${key}" is not a setting of this target; ignored`);
    }
  }
  return result.data;
}

/** Read and parse a JSON config file. */
export async function readConfigFile<S extends z.ZodObject>(
  schema: S,
  path: string,
  warn?: (message: string) => void,
): Promise<z.infer<S>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(schema, raw, `config file ${path}`, warn);
}
