// `tapline model`: the views exam_results and exams over whichever provider tables exist.
import { normaliseName } from '@tapline/target-kit';
import { ExitCode, TaplineError } from '../errors.js';
import { isProvider, type Provider, type Warehouse } from '../plugins.js';
import type { ExamSettings, ExamSettingsByProvider, TapSettings } from '../project.js';
import { targetLibrary } from '../target-packages.js';
import { type Opened, openWarehouse, quoteIdent, type WarehouseSession } from '../warehouse.js';
import { cbthostModel } from './cbthost.js';
import { classmarkerModel, classmarkerQuestions } from './classmarker.js';
import { Columns, columnTypes } from './columns.js';
import { COLUMN_DOCS, VIEW_DOCS } from './docs.js';
import { MODEL_COLUMNS, type ProviderModel, RESULT_COLUMNS, type ResultSource } from './mapping.js';
import { onlineexammakerModel } from './onlineexammaker.js';
import { testpressModel } from './testpress.js';

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
  /**
   * The schema each provider's tables are in, as one account named after the provider; only these
   * are looked at (default: the accounts of `taps`, and default_target_schema or the provider's name).
   */
  providerSchemas?: Partial<Record<Provider, string>>;
  /** The project's taps: each of a bundled provider is an account, in its schema (accounts.ts, `accountSchema`). */
  taps?: Record<string, Pick<TapSettings, 'type' | 'schema'>>;
  /** Exactly these accounts (default: `candidateAccounts`). */
  accounts?: ModelAccount[];
  /** DuckDB: create the file when it is missing (default true); false makes a missing file an error (a misspelt path). */
  create?: boolean;
  /** The project's `exams` settings: max score and pass mark per exam, used where the vendor sends none. */
  exams?: ExamSettingsByProvider;
}

/** One account of a provider the model reads: the tap's name in tapline.yml, and where its tables are. */
export interface ModelAccount {
  provider: Provider;
  account: string;
  schema: string;
}

export interface BuiltModel {
  /** Providers with at least one results table in the warehouse. */
  providers: Provider[];
  /** Every account with tables in the warehouse, in view order. */
  accounts: ModelAccount[];
  /** The schema the views are in. */
  schema: string;
  /** Every schema looked in for an account's tables. */
  searched: string[];
  exam_results_sql: string;
  exams_sql: string;
  question_results_sql: string;
}

const EMPTY_RESULTS =
  'SELECT ' +
  [
    `CAST(NULL AS VARCHAR) AS provider`,
    `CAST(NULL AS VARCHAR) AS account`,
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

/** Builds the SQL of both views (`exams` reads `exam_results` in `viewSchema`) over these accounts' tables as they are now. */
export async function modelSql(
  session: WarehouseSession,
  accounts: readonly ModelAccount[],
  viewSchema: string = session.schema,
  examSettings: ExamSettingsByProvider = {},
): Promise<Pick<BuiltModel, 'providers' | 'accounts' | 'exam_results_sql' | 'exams_sql'>> {
  const resultSelects: string[] = [];
  const examSelects: string[] = [];
  const found: ModelAccount[] = [];
  for (const account of accounts) {
    // An account whose tables were found in an earlier schema (default_target_schema before the provider's) is read once.
    if (found.some((a) => a.provider === account.provider && a.account === account.account)) continue;
    const model = PROVIDER_MODELS.find((m) => m.provider === account.provider)!;
    const table = (name: string) => session.qualify(account.schema, name);
    const labels = `'${model.provider}' AS provider, ${sqlText(account.account)} AS account`;
    let hasResults = false;
    for (const source of model.results) {
      const types = await columnTypes(session, account.schema, source.table);
      if (!isSource(types, source)) continue;
      hasResults = true;
      const lookups: Record<string, Columns> = {};
      const joins: string[] = [];
      const r = new Columns(types, 'r');
      for (const lookup of source.lookups ?? []) {
        const lookupTypes = await columnTypes(session, account.schema, lookup.table);
        const l = new Columns(lookupTypes, lookup.alias);
        lookups[lookup.alias] = l;
        if (lookupTypes.size > 0) joins.push(`LEFT JOIN ${table(lookup.table)} AS ${lookup.alias} ON ${lookup.on(r, l)}`);
      }
      const mapped = source.map(r, lookups);
      const columns = [labels, ...RESULT_COLUMNS.map((c) => `${mapped[c]} AS ${c}`)];
      const select = `SELECT ${columns.join(', ')} FROM ${table(source.table)} AS r ${joins.join(' ')}${live(r, 'r')}`.trim();
      resultSelects.push(withExamSettings(select, examSettings[model.provider]));
    }
    for (const source of model.exams) {
      const types = await columnTypes(session, account.schema, source.table);
      if (types.size === 0) continue;
      const e = new Columns(types, 'e');
      const mapped = source.map(e);
      examSelects.push(
        `SELECT ${labels}, ${mapped.exam_id} AS exam_id, ${mapped.exam_title} AS exam_title FROM ${table(source.table)} AS e${live(e, 'e')}`,
      );
    }
    if (hasResults) found.push(account);
  }
  const exam_results_sql = resultSelects.length ? resultSelects.join('\nUNION ALL\n') : EMPTY_RESULTS;
  const target = (name: string) => session.qualify(viewSchema, name);
  const catalog = examSelects.length
    ? examSelects.join('\nUNION ALL\n')
    : 'SELECT CAST(NULL AS VARCHAR) AS provider, CAST(NULL AS VARCHAR) AS account, CAST(NULL AS VARCHAR) AS exam_id, CAST(NULL AS VARCHAR) AS exam_title WHERE 1 = 0';
  // One row per exam of each account: two accounts' exams may share an id and are still two exams.
  // Exams listed by a provider and exams seen only in results both get a row. An exam's title comes
  // from the provider's exam list; without one (CBTHost), from its results: a real title before the
  // exam id standing in for one (CBTHost's mass reads carry none), then the most frequent, then the
  // first alphabetically, so it never depends on the order rows were read in.
  const exams_sql = `
WITH catalog AS (
  SELECT provider, account, exam_id, max(exam_title) AS exam_title FROM (${catalog}) AS c GROUP BY provider, account, exam_id
), attempts AS (
  SELECT provider, account, exam_id, count(*) AS attempts, avg(score) AS mean_score,
         avg(percentage) AS mean_percentage,
         avg(CASE WHEN passed THEN 1.0 WHEN NOT passed THEN 0.0 END) AS pass_rate
  FROM ${target('exam_results')} GROUP BY provider, account, exam_id
), titles AS (
  SELECT provider, account, exam_id, exam_title,
         row_number() OVER (PARTITION BY provider, account, exam_id
                            ORDER BY CASE WHEN exam_title = exam_id THEN 1 ELSE 0 END, count(*) DESC, exam_title) AS choice
  FROM ${target('exam_results')} WHERE exam_title IS NOT NULL GROUP BY provider, account, exam_id, exam_title
), ids AS (
  SELECT provider, account, exam_id FROM catalog UNION SELECT provider, account, exam_id FROM attempts
)
SELECT ids.provider, ids.account, ids.exam_id, COALESCE(catalog.exam_title, titles.exam_title) AS exam_title,
       CAST(COALESCE(attempts.attempts, 0) AS BIGINT) AS attempts,
       CAST(attempts.mean_score AS DOUBLE PRECISION) AS mean_score,
       CAST(attempts.mean_percentage AS DOUBLE PRECISION) AS mean_percentage,
       CAST(attempts.pass_rate AS DOUBLE PRECISION) AS pass_rate
FROM ids
LEFT JOIN catalog ON catalog.provider = ids.provider AND catalog.account = ids.account AND catalog.exam_id = ids.exam_id
LEFT JOIN attempts ON attempts.provider = ids.provider AND attempts.account = ids.account AND attempts.exam_id = ids.exam_id
LEFT JOIN titles ON titles.provider = ids.provider AND titles.account = ids.account AND titles.exam_id = ids.exam_id AND titles.choice = 1`;
  const providers = PROVIDER_MODELS.map((m) => m.provider).filter((p) => found.some((a) => a.provider === p));
  return { providers, accounts: found, exam_results_sql, exams_sql };
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
    'm.account',
    ...RESULT_COLUMNS.map((c) => `${value[c] ?? `m.${c}`} AS ${c}`),
    `CASE WHEN m.max_score IS NOT NULL THEN 'provider' WHEN ${statedMax} IS NOT NULL THEN 'tapline.yml' END AS max_score_source`,
    `CASE WHEN m.passed IS NOT NULL THEN 'provider' WHEN ${statedVerdict} IS NOT NULL THEN 'tapline.yml' END AS passed_source`,
  ];
  return `SELECT ${columns.join(', ')} FROM (${select}) AS m${join}`;
}

/** The columns of `question_results`: one row per question of an attempt, where a vendor sends them. */
export const QUESTION_COLUMNS = [
  'source_key',
  'exam_id',
  'question_id',
  'position',
  'question_type',
  'category_id',
  'question',
  'response',
  'result',
  'score',
  'max_score',
] as const;
const QUESTION_NUMBERS = new Set(['position', 'score', 'max_score']);

/** Sources of per-question rows: only ClassMarker's webhooks deliver them (docs/providers/classmarker.md, "Webhooks"). */
const QUESTION_SOURCES = [{ provider: 'classmarker' as Provider, table: 'question_responses', map: classmarkerQuestions }];

async function questionResultsSql(session: WarehouseSession, accounts: readonly ModelAccount[]): Promise<string> {
  const selects: string[] = [];
  const read = new Set<string>();
  for (const account of accounts) {
    const source = QUESTION_SOURCES.find((s) => s.provider === account.provider);
    // An account is read once, from the first schema holding its questions (as modelSql reads results).
    if (source === undefined || read.has(`${account.provider}\0${account.account}`)) continue;
    const types = await columnTypes(session, account.schema, source.table);
    if (!types.has('result_id') || !types.has('question_id')) continue;
    read.add(`${account.provider}\0${account.account}`);
    const q = new Columns(types, 'q');
    const mapped = source.map(q);
    const columns = [
      `'${source.provider}' AS provider`,
      `${sqlText(account.account)} AS account`,
      ...QUESTION_COLUMNS.map((c) => `${mapped[c]} AS ${c}`),
    ];
    selects.push(`SELECT ${columns.join(', ')} FROM ${session.qualify(account.schema, source.table)} AS q${live(q, 'q')}`);
  }
  if (selects.length > 0) return selects.join('\nUNION ALL\n');
  const empty = QUESTION_COLUMNS.map((c) => `CAST(NULL AS ${QUESTION_NUMBERS.has(c) ? 'DOUBLE PRECISION' : 'VARCHAR'}) AS ${c}`);
  return `SELECT CAST(NULL AS VARCHAR) AS provider, CAST(NULL AS VARCHAR) AS account, ${empty.join(', ')} WHERE 1 = 0`;
}

/** Creates (or replaces) both views, in `options.schema` (default: the database's default schema). */
export async function buildModel(options: ModelOptions): Promise<BuiltModel> {
  let opened: Opened;
  try {
    opened = await openWarehouse(options.kind, options.config, options.cwd, { create: options.create ?? true });
  } catch (error) {
    if (error instanceof TaplineError) throw error;
    throw new TaplineError(`Cannot open the ${options.kind} warehouse: ${(error as Error).message}`, ExitCode.stateFailed);
  }
  if (opened.missing !== undefined) {
    throw new TaplineError(`There is no ${opened.missing}: the model is built over a warehouse a pipeline has loaded (check path).`);
  }
  const session = opened.session;
  try {
    const schema = options.schema ?? (await targetLibrary(options.kind)).dialect.capabilities.defaultSchema;
    const candidates = options.accounts ?? candidateAccounts(options);
    const built = await modelSql(session, candidates, schema, options.exams);
    const q = session.qualify(schema);
    // A provider's table of that name (exams) loaded into this schema: say so rather than fail on it.
    const clashes = await session.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('exam_results', 'exams', 'question_results') AND table_type <> 'VIEW'`,
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
    const question_results_sql = await questionResultsSql(session, candidates);
    await session.query(`DROP VIEW IF EXISTS ${q}.question_results`);
    await session.query(`DROP VIEW IF EXISTS ${q}.exams`);
    await session.query(`DROP VIEW IF EXISTS ${q}.exam_results`);
    await session.query(`CREATE VIEW ${q}.exam_results AS ${built.exam_results_sql}`);
    await session.query(`CREATE VIEW ${q}.exams AS ${built.exams_sql}`);
    await session.query(`CREATE VIEW ${q}.question_results AS ${question_results_sql}`);
    await commentViews(session, schema);
    try {
      await session.publishSnapshot();
    } catch (error) {
      throw new TaplineError(`${(error as Error).message.replace(/^c/, 'C')}.`, ExitCode.stateFailed);
    }
    return { ...built, question_results_sql, schema, searched: [...new Set(candidates.map((a) => a.schema))] };
  } finally {
    await session.close();
  }
}

/**
 * The model's data dictionary on the views (docs.ts): COMMENT ON VIEW and COMMENT ON COLUMN read
 * the same in PostgreSQL and DuckDB. Only columns the view has are commented.
 */
async function commentViews(session: WarehouseSession, schema: string): Promise<void> {
  for (const [view, doc] of Object.entries(VIEW_DOCS) as [keyof typeof VIEW_DOCS, string][]) {
    const name = session.qualify(schema, view);
    await session.query(`COMMENT ON VIEW ${name} IS ${sqlText(doc)}`);
    const columns = await session.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`, [
      schema,
      view,
    ]);
    for (const { column_name } of columns) {
      const text = COLUMN_DOCS[view][String(column_name)];
      if (text !== undefined) await session.query(`COMMENT ON COLUMN ${name}.${quoteIdent(String(column_name))} IS ${sqlText(text)}`);
    }
  }
}

/**
 * The accounts the model reads, in view order: each tap of the project of a bundled provider, in the
 * schema `tapline run` loads it into (its `schema`, else default_target_schema, else its name); then
 * each provider under its own name, in default_target_schema and in the provider's schema (what
 * `tapline run <provider> <target>` loads without a tapline.yml). A schema is read once per provider,
 * and an account once (modelSql: the first schema holding its results).
 * `providerSchemas` replaces all of this with one account per provider, in the given schema.
 */
export function candidateAccounts(options: Pick<ModelOptions, 'config' | 'providerSchemas' | 'taps'>): ModelAccount[] {
  const shared =
    typeof options.config.default_target_schema === 'string' && options.config.default_target_schema !== ''
      ? options.config.default_target_schema
      : undefined;
  const wanted: ModelAccount[] = [];
  if (options.providerSchemas) {
    for (const model of PROVIDER_MODELS)
      wanted.push({ provider: model.provider, account: model.provider, schema: options.providerSchemas[model.provider] ?? model.provider });
  } else {
    for (const [name, tap] of Object.entries(options.taps ?? {})) {
      const provider = tap.type ?? name;
      if (isProvider(provider)) wanted.push({ provider, account: name, schema: tap.schema ?? shared ?? name });
    }
    for (const model of PROVIDER_MODELS) {
      if (shared) wanted.push({ provider: model.provider, account: model.provider, schema: shared });
      wanted.push({ provider: model.provider, account: model.provider, schema: model.provider });
    }
  }
  const accounts: ModelAccount[] = [];
  for (const candidate of wanted) {
    const schema = normaliseName(candidate.schema, 63);
    const taken = accounts.some((a) => a.provider === candidate.provider && a.schema === schema);
    if (!taken) accounts.push({ ...candidate, schema });
  }
  return accounts;
}
