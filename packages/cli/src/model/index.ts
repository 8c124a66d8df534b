// `tapline model`: the views exam_results and exams over whichever provider tables exist.
import { ExitCode, TaplineError } from '../errors.js';
import type { Provider, Warehouse } from '../plugins.js';
import { defaultSchema, openWarehouse, quoteIdent, type WarehouseSession } from '../warehouse.js';
import { columnTypes, Columns } from './columns.js';
import { RESULT_COLUMNS, type ProviderModel } from './mapping.js';
import { classmarkerModel } from './classmarker.js';
import { testpressModel } from './testpress.js';
import { onlineexammakerModel } from './onlineexammaker.js';
import { cbthostModel } from './cbthost.js';

/** One mapping per provider; a provider whose tables are absent is left out of the union. */
export const PROVIDER_MODELS: ProviderModel[] = [classmarkerModel, testpressModel, onlineexammakerModel, cbthostModel];

/** Rows the target soft-deleted (removed upstream, ACTIVATE_VERSION) are not current attempts or exams. */
const live = (columns: Columns, alias: string): string =>
  columns.has('_sdc_deleted_at') ? ` WHERE ${alias}.${quoteIdent('_sdc_deleted_at')} IS NULL` : '';

export interface ModelOptions {
  kind: Warehouse;
  /** The target config: where the warehouse is; views go into its default_target_schema. */
  config: Record<string, unknown>;
  cwd: string;
  /** The schema each provider's tables are in (default: the provider's name, as `tapline run` loads them). */
  providerSchemas?: Partial<Record<Provider, string>>;
}

export interface BuiltModel {
  /** Providers with at least one results table in the warehouse. */
  providers: Provider[];
  exam_results_sql: string;
  exams_sql: string;
}

const EMPTY_RESULTS =
  'SELECT ' +
  [
    `CAST(NULL AS VARCHAR) AS provider`,
    ...RESULT_COLUMNS.map((c) => {
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

/** Builds the SQL of both views for what exists in the warehouse now. */
export async function modelSql(
  session: WarehouseSession,
  providerSchemas: Partial<Record<Provider, string>> = {},
): Promise<Omit<BuiltModel, 'providers'> & { providers: Provider[] }> {
  const resultSelects: string[] = [];
  const examSelects: string[] = [];
  const providers: Provider[] = [];
  for (const model of PROVIDER_MODELS) {
    const schema = providerSchemas[model.provider] ?? model.provider;
    const table = (name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;
    let found = false;
    for (const source of model.results) {
      const types = await columnTypes(session, schema, source.table);
      if (types.size === 0) continue;
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
      resultSelects.push(`SELECT ${columns.join(', ')} FROM ${table(source.table)} AS r ${joins.join(' ')}${live(r, 'r')}`.trim());
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
  const target = (name: string) => `${quoteIdent(session.schema)}.${quoteIdent(name)}`;
  const catalog = examSelects.length
    ? examSelects.join('\nUNION ALL\n')
    : 'SELECT CAST(NULL AS VARCHAR) AS provider, CAST(NULL AS VARCHAR) AS exam_id, CAST(NULL AS VARCHAR) AS exam_title WHERE 1 = 0';
  // Exams listed by a provider and exams seen only in results both get a row.
  const exams_sql = `
WITH catalog AS (
  SELECT provider, exam_id, max(exam_title) AS exam_title FROM (${catalog}) AS c GROUP BY provider, exam_id
), attempts AS (
  SELECT provider, exam_id, max(exam_title) AS exam_title, count(*) AS attempts, avg(score) AS mean_score,
         avg(percentage) AS mean_percentage,
         avg(CASE WHEN passed THEN 1.0 WHEN NOT passed THEN 0.0 END) AS pass_rate
  FROM ${target('exam_results')} GROUP BY provider, exam_id
), ids AS (
  SELECT provider, exam_id FROM catalog UNION SELECT provider, exam_id FROM attempts
)
SELECT ids.provider, ids.exam_id, COALESCE(catalog.exam_title, attempts.exam_title) AS exam_title,
       CAST(COALESCE(attempts.attempts, 0) AS BIGINT) AS attempts,
       CAST(attempts.mean_score AS DOUBLE PRECISION) AS mean_score,
       CAST(attempts.mean_percentage AS DOUBLE PRECISION) AS mean_percentage,
       CAST(attempts.pass_rate AS DOUBLE PRECISION) AS pass_rate
FROM ids
LEFT JOIN catalog ON catalog.provider = ids.provider AND catalog.exam_id = ids.exam_id
LEFT JOIN attempts ON attempts.provider = ids.provider AND attempts.exam_id = ids.exam_id`;
  return { providers, exam_results_sql, exams_sql };
}

/** Creates (or replaces) both views in the warehouse's default schema. */
export async function buildModel(options: ModelOptions): Promise<BuiltModel> {
  let session: WarehouseSession | undefined;
  try {
    session = await openWarehouse(options.kind, options.config, options.cwd);
  } catch (error) {
    throw new TaplineError(`Cannot open the ${options.kind} warehouse: ${(error as Error).message}`, ExitCode.stateFailed);
  }
  try {
    const built = await modelSql(session!, options.providerSchemas);
    const schema = quoteIdent(defaultSchema(options.kind, options.config));
    // Drop and create (not CREATE OR REPLACE): PostgreSQL refuses to change a view column's type.
    await session!.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await session!.query(`DROP VIEW IF EXISTS ${schema}.exams`);
    await session!.query(`DROP VIEW IF EXISTS ${schema}.exam_results`);
    await session!.query(`CREATE VIEW ${schema}.exam_results AS ${built.exam_results_sql}`);
    await session!.query(`CREATE VIEW ${schema}.exams AS ${built.exams_sql}`);
    return built;
  } finally {
    await session!.close();
  }
}
