// `tapline model`: the views exam_results and exams over whichever provider tables exist.
import { ExitCode, TaplineError } from '../errors.js';
import type { Provider, Warehouse } from '../plugins.js';
import { defaultSchema, duckdbPath, openWarehouse, quoteIdent, type WarehouseSession } from '../warehouse.js';
import { columnTypes, Columns } from './columns.js';
import { MODEL_COLUMNS, RESULT_COLUMNS, type ProviderModel, type ResultSource } from './mapping.js';
import type { ExamSettings, ExamSettingsByProvider } from '../project.js';
import { classmarkerModel } from './classmarker.js';
import { testpressModel } from './testpress.js';
import { onlineexammakerModel } from './onlineexammaker.js';
import { cbthostModel } from './cbthost.js';

/** One mapping per provider; a provider whose tables are absent is left out of the union. */
export const PROVIDER_MODELS: ProviderModel[] = [classmarkerModel, testpressModel, onlineexammakerModel, cbthostModel];

/** Whether a table with these columns is the provider's `source` (it exists, with the source's key columns). */
const isSource = (types: ReadonlyMap<string, string>, source: ResultSource): boolean =>
  types.size > 0 && source.key.every((column) => types.has(column));

/** Rows the target soft-deleted (removed upstream, ACTIVATE_VERSION) are not current attempts or exams. */
const live = (columns: Columns, alias: string): string =>
  columns.has('_sdc_deleted_at') ? ` WHERE ${alias}.${quoteIdent('_sdc_deleted_at')} IS NULL` : '';

export interface ModelOptions {
  kind: Warehouse;
  /**
   * The target config: where the warehouse is. When it sets default_target_schema, `tapline run`
   * loaded every provider into that schema: the model looks for their tables there first.
   */
  config: Record<string, unknown>;
  cwd: string;
  /**
   * Where the views go: the database's default schema (`main` / `public`) unless given, never
   * default_target_schema, where provider tables land (`exams` is a provider table's name too).
   */
  schema?: string | undefined;
  /** The schema each provider's tables are in (default: default_target_schema if they are there, else the provider's name). */
  providerSchemas?: Partial<Record<Provider, string>>;
  /** DuckDB: create the file when it is missing (default true); false makes a missing file an error (a misspelt path). */
  create?: boolean;
  /** The project's `exams` settings: max score and pass mark per exam, used where the vendor sends none. */
  exams?: ExamSettingsByProvider;
}

export interface BuiltModel {
  /** Providers with at least one results table in the warehouse. */
  providers: Provider[];
  /** The schema the views are in. */
  schema: string;
  /** Where each provider's tables were looked for. */
  providerSchemas: Record<Provider, string>;
  exam_results_sql: string;
  exams_sql: string;
}

const EMPTY_RESULTS =
  'SELECT ' +
  [
    `CAST(NULL AS VARCHAR) AS provider`,
    ...MODEL_COLUMNS.map((c) => {
      const type =
        c === 'score' || c === 'max_score' || c === 'percentage' || c === 'duration_seconds'
          ? 'DOUBLE PRECISION'
          : c === 'passed'
            ? 'BOOLEAN'
            : c === 'started_at' || c === 'finished_at'
              ? 'TIMESTAMPTZ'
              : 'VARCHAR';
      return `CAST(NULL AS ${type}) AS ${c}`;
    }),
  ].join(', ') +
  ' WHERE 1 = 0';

/** Builds the SQL of both views (`exams` reads `exam_results` in `viewSchema`) for what exists in the warehouse now. */
export async function modelSql(
  session: WarehouseSession,
  providerSchemas: Partial<Record<Provider, string>> = {},
  viewSchema: string = session.schema,
  examSettings: ExamSettingsByProvider = {},
): Promise<Pick<BuiltModel, 'providers' | 'exam_results_sql' | 'exams_sql'>> {
  const resultSelects: string[] = [];
  const examSelects: string[] = [];
  const providers: Provider[] = [];
  for (const model of PROVIDER_MODELS) {
    const schema = providerSchemas[model.provider] ?? model.provider;
    const table = (name: string) => session.qualify(schema, name);
    let found = false;
    for (const source of model.results) {
      const types = await columnTypes(session, schema, source.table);
      if (!isSource(types, source)) continue;
      found = true;
      const lookups: Record<string, Columns> = {};
      const joins: string[] = [];
      const r = new Columns(types, 'r');
      for (const lookup of source.lookups ?? []) {
        const lookupTypes = await columnTypes(session, schema, lookup.table);
        const l = new Columns(lookupTypes, lookup.alias);
        lookups[lookup.alias] = l;
        if (lookupTypes.size > 0) joins.push(`LEFT JOIN ${table(lookup.table)} AS ${lookup.alias} ON ${lookup.on(r, l)}`);
      }
      const mapped = source.map(r, lookups);
      const columns = [`'${model.provider}' AS provider`, ...RESULT_COLUMNS.map((c) => `${mapped[c]} AS ${c}`)];
      const select = `SELECT ${columns.join(', ')} FROM ${table(source.table)} AS r ${joins.join(' ')}${live(r, 'r')}`.trim();
      resultSelects.push(withExamSettings(select, examSettings[model.provider]));
    }
    for (const source of model.exams) {
      const types = await columnTypes(session, schema, source.table);
      if (types.size === 0) continue;
      const e = new Columns(types, 'e');
      const mapped = source.map(e);
      examSelects.push(
        `SELECT '${model.provider}' AS provider, ${mapped.exam_id} AS exam_id, ${mapped.exam_title} AS exam_title FROM ${table(source.table)} AS e${live(e, 'e')}`,
      );
    }
    if (found) providers.push(model.provider);
  }
  const exam_results_sql = resultSelects.length ? resultSelects.join('\nUNION ALL\n') : EMPTY_RESULTS;
  const target = (name: string) => session.qualify(viewSchema, name);
  const catalog = examSelects.length
    ? examSelects.join('\nUNION ALL\n')
    : 'SELECT CAST(NULL AS VARCHAR) AS provider, CAST(NULL AS VARCHAR) AS exam_id, CAST(NULL AS VARCHAR) AS exam_title WHERE 1 = 0';
  // Exams listed by a provider and exams seen only in results both get a row. An exam's title comes
  // from the provider's exam list; without one (CBTHost), from its results: a real title before the
  // exam id standing in for one (CBTHost's mass reads carry none), then the most frequent, then the
  // first alphabetically, so it never depends on the order rows were read in.
  const exams_sql = `
WITH catalog AS (
  SELECT provider, exam_id, max(exam_title) AS exam_title FROM (${catalog}) AS c GROUP BY provider, exam_id
), attempts AS (
  SELECT provider, exam_id, count(*) AS attempts, avg(score) AS mean_score,
         avg(percentage) AS mean_percentage,
         avg(CASE WHEN passed THEN 1.0 WHEN NOT passed THEN 0.0 END) AS pass_rate
  FROM ${target('exam_results')} GROUP BY provider, exam_id
), titles AS (
  SELECT provider, exam_id, exam_title,
         row_number() OVER (PARTITION BY provider, exam_id
                            ORDER BY CASE WHEN exam_title = exam_id THEN 1 ELSE 0 END, count(*) DESC, exam_title) AS choice
  FROM ${target('exam_results')} WHERE exam_title IS NOT NULL GROUP BY provider, exam_id, exam_title
), ids AS (
  SELECT provider, exam_id FROM catalog UNION SELECT provider, exam_id FROM attempts
)
SELECT ids.provider, ids.exam_id, COALESCE(catalog.exam_title, titles.exam_title) AS exam_title,
       CAST(COALESCE(attempts.attempts, 0) AS BIGINT) AS attempts,
       CAST(attempts.mean_score AS DOUBLE PRECISION) AS mean_score,
       CAST(attempts.mean_percentage AS DOUBLE PRECISION) AS mean_percentage,
       CAST(attempts.pass_rate AS DOUBLE PRECISION) AS pass_rate
FROM ids
LEFT JOIN catalog ON catalog.provider = ids.provider AND catalog.exam_id = ids.exam_id
LEFT JOIN attempts ON attempts.provider = ids.provider AND attempts.exam_id = ids.exam_id
LEFT JOIN titles ON titles.provider = ids.provider AND titles.exam_id = ids.exam_id AND titles.choice = 1`;
  return { providers, exam_results_sql, exams_sql };
}

const sqlText = (text: string) => `'${text.replace(/'/g, "''")}'`;
const sqlNumber = (value: number | undefined) => `CAST(${value ?? 'NULL'} AS DOUBLE PRECISION)`;

/**
 * One provider's mapped rows (`select`) with the user's exam settings applied only where the vendor
 * sent nothing: `max_score`, then `percentage` from it, and `passed` from the pass mark (never for an
 * attempt in progress). `max_score_source` and `passed_source` say which values came from where.
 */
function withExamSettings(select: string, settings: Record<string, ExamSettings> | undefined): string {
  const stated = Object.entries(settings ?? {});
  const setting = (name: keyof ExamSettings) => (stated.length > 0 ? `s.${name}` : sqlNumber(undefined));
  const join = stated.length
    ? ` LEFT JOIN (VALUES ${stated
        .map(([exam, s]) => `(${sqlText(exam)}, ${sqlNumber(s.max_score)}, ${sqlNumber(s.pass_score)}, ${sqlNumber(s.pass_percentage)})`)
        .join(', ')}) AS s(exam_id, max_score, pass_score, pass_percentage) ON s.exam_id = m.exam_id`
    : '';
  const statedMax = `CASE WHEN m.max_score IS NULL THEN ${setting('max_score')} END`;
  const maxScore = `COALESCE(m.max_score, ${statedMax})`;
  const percentage = `COALESCE(m.percentage, CASE WHEN ${statedMax} > 0 THEN 100 * m.score / ${statedMax} END)`;
  const statedVerdict =
    `CASE WHEN m.status = 'in_progress' THEN NULL ` +
    `WHEN ${setting('pass_score')} IS NOT NULL THEN m.score >= ${setting('pass_score')} ` +
    `WHEN ${setting('pass_percentage')} IS NOT NULL THEN ${percentage} >= ${setting('pass_percentage')} END`;
  const value: Partial<Record<(typeof RESULT_COLUMNS)[number], string>> = {
    max_score: maxScore,
    percentage,
    passed: `COALESCE(m.passed, ${statedVerdict})`,
  };
  const columns = [
    'm.provider',
    ...RESULT_COLUMNS.map((c) => `${value[c] ?? `m.${c}`} AS ${c}`),
    `CASE WHEN m.max_score IS NOT NULL THEN 'provider' WHEN ${statedMax} IS NOT NULL THEN 'tapline.yml' END AS max_score_source`,
    `CASE WHEN m.passed IS NOT NULL THEN 'provider' WHEN ${statedVerdict} IS NOT NULL THEN 'tapline.yml' END AS passed_source`,
  ];
  return `SELECT ${columns.join(', ')} FROM (${select}) AS m${join}`;
}

/** Creates (or replaces) both views, in `options.schema` (default: the database's default schema). */
export async function buildModel(options: ModelOptions): Promise<BuiltModel> {
  let session: WarehouseSession | undefined;
  try {
    session = await openWarehouse(options.kind, options.config, options.cwd, { create: options.create ?? true });
  } catch (error) {
    throw new TaplineError(`Cannot open the ${options.kind} warehouse: ${(error as Error).message}`, ExitCode.stateFailed);
  }
  if (!session) {
    throw new TaplineError(
      `There is no DuckDB file at ${duckdbPath(options.config, options.cwd)}: the model is built over a warehouse a pipeline has loaded (check path).`,
    );
  }
  try {
    const schema = options.schema ?? defaultSchema(options.kind, {});
    const providerSchemas = await findProviderSchemas(session, options);
    const built = await modelSql(session, providerSchemas, schema, options.exams);
    const q = session.qualify(schema);
    // A provider's table of that name (exams) loaded into this schema: say so rather than fail on it.
    const clashes = await session.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('exam_results', 'exams') AND table_type <> 'VIEW'`,
      [schema],
    );
    if (clashes.length > 0) {
      throw new TaplineError(
        `${schema}.${String(clashes[0]!.table_name)} is a table, not the model's view (a provider loaded into ${schema}?): ` +
          `put the views elsewhere with --schema NAME.`,
      );
    }
    // Drop and create (not CREATE OR REPLACE): PostgreSQL refuses to change a view column's type.
    await session.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    await session.query(`DROP VIEW IF EXISTS ${q}.exams`);
    await session.query(`DROP VIEW IF EXISTS ${q}.exam_results`);
    await session.query(`CREATE VIEW ${q}.exam_results AS ${built.exam_results_sql}`);
    await session.query(`CREATE VIEW ${q}.exams AS ${built.exams_sql}`);
    return { ...built, schema, providerSchemas };
  } finally {
    await session.close();
  }
}

/**
 * Where each provider's tables are: as given, else default_target_schema when the target config sets
 * one and the provider's tables are there (`tapline run` loaded them there), else the provider's own.
 */
async function findProviderSchemas(session: WarehouseSession, options: ModelOptions): Promise<Record<Provider, string>> {
  const shared = options.config.default_target_schema;
  const found = {} as Record<Provider, string>;
  for (const model of PROVIDER_MODELS) {
    const given = options.providerSchemas?.[model.provider];
    let schema = given ?? model.provider;
    if (given === undefined && typeof shared === 'string' && shared !== '') {
      for (const source of model.results) {
        if (isSource(await columnTypes(session, shared, source.table), source)) schema = shared;
      }
    }
    found[model.provider] = schema;
  }
  return found;
}
