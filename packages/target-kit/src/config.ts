// The config every target accepts (zod), and reading a config file with errors that name the key.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/** Settings shared by every Tapline target; a dialect extends this with its connection settings. */
export const baseConfigSchema = z.object({
  /** Where streams land; when set explicitly, stream `a-b` goes to this schema as table `b`. */
  default_target_schema: z.string().min(1).optional(),
  /**
   * `upsert` (default): keyed streams upsert by key_properties, keyless streams append.
   * `append-only`: every record is inserted, keys or not. `overwrite`: the first SCHEMA of a
   * stream in a run replaces its table (in the same transaction as the new rows).
   */
  load_method: z.enum(['upsert', 'append-only', 'overwrite']).default('upsert'),
  add_record_metadata: z.boolean().default(true),
  /** pipelinewise's spelling of add_record_metadata; wins when set (`recordsMetadata`). */
  add_metadata_columns: z.boolean().optional(),
  hard_delete: z.boolean().default(false),
  validate_records: z.boolean().default(true),
  /** Rows buffered per stream before a bulk write; commits happen at the next STATE after this many rows. */
  batch_size_rows: z.number().int().positive().default(50_000),
  /** Also store each state in this table (`name` or `schema.name`), in the transaction of its rows. */
  state_table: z.string().min(1).optional(),
  state_id: z.string().min(1).default('default'),
  /**
   * At a clean end of input, also commit rows after the last STATE (plain Singer: a finished tap's
   * tail is loaded). A runner that owns end-of-input sets false, so an EOF it did not mean (the
   * runner was killed) never commits rows that no stored state covers.
   */
  commit_uncovered_rows: z.boolean().default(true),
  /** Remove U+0000 from strings where the destination cannot store it, instead of failing. */
  sanitize_null_characters: z.boolean().default(false),
  /**
   * Store U+FFFD in place of an unpaired UTF-16 surrogate (JSON can spell `"\ud800"`; UTF-8
   * cannot hold it), instead of failing.
   */
  replace_unpaired_surrogates: z.boolean().default(false),
  /**
   * Load record properties the schema does not declare (unless it says `additionalProperties:
   * false`) into columns typed from their values. false: drop them with one warning each.
   */
  load_undeclared_properties: z.boolean().default(true),
  /**
   * Threads that parse, validate and encode records beside the main thread, for inputs past the
   * first 8 MB (default: the machine's cores minus two, at most 4; 0: the main thread only).
   */
  worker_threads: z.number().int().min(0).max(64).optional(),
  /**
   * Store strings whose schema says `contentEncoding: base16` as bytes (PostgreSQL bytea, DuckDB
   * BLOB) rather than as their hex text; a value that is not hex stops the load, naming it.
   */
  interpret_content_encoding: z.boolean().default(false),
  /**
   * Flatten object properties into `parent__child` columns, this many levels deep (0: objects are
   * JSON columns). The pipelinewise and jwills/target-duckdb spelling.
   */
  data_flattening_max_level: z.number().int().min(0).default(0),
  /** The Meltano SDK's spelling of flattening: on, to `flattening_max_depth` levels (which it then needs). */
  flattening_enabled: z.boolean().optional(),
  flattening_max_depth: z.number().int().min(0).optional(),
  /** Set false to ignore ACTIVATE_VERSION messages. */
  process_activate_version_messages: z.boolean().default(true),
  /** MeltanoLabs target-postgres's spelling of process_activate_version_messages; wins when set. */
  activate_version: z.boolean().optional(),
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
    throw new ConfigError('config key "flattening_max_depth" is missing: flattening_enabled is true, and it says how many levels deep to flatten');
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
