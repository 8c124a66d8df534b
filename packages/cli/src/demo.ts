// `tapline demo` (`pnpm demo`): simulators → warehouse.duckdb → unified model → summary and example queries.
import path from 'node:path';
import { ExitCode } from './errors.js';
import type { Logger } from './log.js';
import { silentLogger } from './log.js';
import { buildModel } from './model/index.js';
import { planPipeline, type RunSummary, runPipeline } from './pipeline.js';
import { bundledSimulator, bundledTap, bundledTarget, PROVIDERS, type Provider } from './plugins.js';
import { emptyProject, type Project } from './project.js';
import { startSimulator } from './simulator.js';
import { formatTable } from './table.js';
import { openWarehouse } from './warehouse.js';

export interface DemoOptions {
  /** Where warehouse.duckdb goes: the folder `pnpm demo` was started from (INIT_CWD). */
  cwd: string;
  log: Logger;
  seed?: string | undefined;
  /** Output for the summary (default stdout). */
  write?: (text: string) => void;
  /** Aborting stops the running pipeline (SIGINT/SIGTERM) and ends the demo with 130; `killSignal` kills it at once. */
  signal?: AbortSignal;
  killSignal?: AbortSignal;
  /** Only these providers (tests); default every built one. */
  providers?: readonly Provider[];
  /** Extra simulator flags per provider (tests: smaller data). */
  simulatorFlags?: Partial<Record<Provider, string[]>>;
}

/** Simulators that take `--anchor` (UNIX seconds): the moment their seeded data is generated around. */
const ANCHORED: readonly Provider[] = ['classmarker', 'testpress', 'onlineexammaker'];

/**
 * The moment the demo's simulated data ends at, kept in the warehouse (`main._tapline_demo`) by the
 * first demo run: a later run serves the same data, so it loads nothing new (else every result
 * would move by the time between the runs, and come back as a new attempt).
 */
async function demoAnchor(warehouse: string, cwd: string): Promise<number> {
  const { session } = await openWarehouse('duckdb', { path: warehouse }, cwd);
  try {
    await session!.query('CREATE TABLE IF NOT EXISTS main._tapline_demo (anchor BIGINT NOT NULL)');
    const [row] = await session!.query('SELECT CAST(anchor AS VARCHAR) AS anchor FROM main._tapline_demo LIMIT 1');
    if (row) return Number(row.anchor);
    const anchor = Math.floor(Date.now() / 1000);
    await session!.query('INSERT INTO main._tapline_demo VALUES ($1)', [anchor]);
    return anchor;
  } finally {
    await session!.close();
  }
}

/** Three questions an analyst asks first, answered from the unified views (the same as packages/cli/README.md's, run on both warehouses by test/model.test.ts). */
export const EXAMPLE_QUERIES: { title: string; sql: string }[] = [
  {
    title: 'Attempts, average percentage and pass rate per provider',
    sql: `SELECT provider, count(*) AS attempts, round(CAST(avg(percentage) AS NUMERIC), 1) AS avg_percentage,
       round(CAST(100 * avg(CASE WHEN passed THEN 1 WHEN NOT passed THEN 0 END) AS NUMERIC), 1) AS pass_rate_pct
FROM exam_results GROUP BY provider ORDER BY provider`,
  },
  {
    title: 'The five most-taken exams across providers',
    sql: `SELECT provider, exam_title, attempts, round(CAST(mean_score AS NUMERIC), 1) AS mean_score,
       round(CAST(100 * pass_rate AS NUMERIC), 1) AS pass_rate_pct
FROM exams ORDER BY attempts DESC, provider, exam_title LIMIT 5`,
  },
  {
    title: 'Finished attempts per week, last six weeks',
    sql: `SELECT CAST(date_trunc('week', finished_at) AS DATE) AS week, count(*) AS attempts,
       round(CAST(avg(duration_seconds) / 60 AS NUMERIC), 1) AS avg_minutes
FROM exam_results WHERE finished_at >= now() - INTERVAL '42 days' GROUP BY 1 ORDER BY 1`,
  },
];

type Write = (text: string) => void;

export async function runDemo(options: DemoOptions): Promise<number> {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const warehouse = path.join(options.cwd, 'warehouse.duckdb');
  const available = builtProviders(options);
  if (typeof available === 'number') return available;
  write(`Tapline demo: ${available.join(', ')} → ${warehouse}\n\n`);

  const loads = await loadProviders(available, warehouse, write, options);
  if (loads === 'interrupted') return ExitCode.interrupted;
  writeRunKind(loads.runs, write);
  writeThroughput(loads.runs, write);
  await writeExampleQueries(warehouse, options.cwd, write);
  // The DuckDB CLI is not among Tapline's dependencies: say so, and where the snippets that need nothing more are.
  write(
    `\nOpen it yourself with the DuckDB CLI (installed separately: https://duckdb.org/docs/installation/): duckdb ${path.relative(options.cwd, warehouse)} -c "SELECT * FROM exams"\n` +
      'or from Node or Python: README.md, "Notebooks".\n',
  );
  return loads.failure ?? ExitCode.ok;
}

/** The wanted providers whose tap and simulator are built, or the exit code when the demo cannot run. */
function builtProviders(options: DemoOptions): Provider[] | ExitCode {
  const { log } = options;
  const wanted = options.providers ?? PROVIDERS;
  const available = wanted.filter((p) => bundledSimulator(p) && bundledTap(p));
  const missing = wanted.filter((p) => !available.includes(p));
  if (!bundledTarget('duckdb')) {
    log.error('@tapline/target-duckdb is not built: run `pnpm install && pnpm build` first.');
    return ExitCode.usage;
  }
  if (available.length === 0) {
    log.error('No connector with a simulator is built yet: run `pnpm install && pnpm build` first.');
    return ExitCode.usage;
  }
  if (missing.length) log.warn(`not built, skipped: ${missing.join(', ')}`);
  return available;
}

interface ProviderRun {
  provider: Provider;
  summary: RunSummary;
}

/** Each provider's pipeline into the warehouse, one after another: the runs that succeeded, and the first failure's exit code. */
async function loadProviders(
  providers: Provider[],
  warehouse: string,
  write: Write,
  options: DemoOptions,
): Promise<{ runs: ProviderRun[]; failure: ExitCode | undefined } | 'interrupted'> {
  const project: Project = emptyProject();
  project.targets.duckdb = { config: { path: warehouse } };
  const anchor = await demoAnchor(warehouse, options.cwd);
  const runs: ProviderRun[] = [];
  let failure: ExitCode | undefined;
  for (const provider of providers) {
    if (options.signal?.aborted) return 'interrupted';
    const summary = await loadProvider(provider, { project, anchor, write, options });
    if (summary.status === 'interrupted') return 'interrupted';
    // One provider failing does not hide the others: it was reported, carry on, exit non-zero at the end.
    if (summary.status !== 'succeeded') failure ??= summary.exit_code;
    else runs.push({ provider, summary });
  }
  return { runs, failure };
}

/** One provider's simulator, started for the length of its pipeline run, which is reported as it ends. */
async function loadProvider(
  provider: Provider,
  { project, anchor, write, options }: { project: Project; anchor: number; write: Write; options: DemoOptions },
): Promise<RunSummary> {
  const seed = Number(options.seed ?? 42);
  const tty = process.stderr.isTTY === true;
  const flags = [...(ANCHORED.includes(provider) ? ['--anchor', String(anchor)] : []), ...(options.simulatorFlags?.[provider] ?? [])];
  const simulator = await startSimulator(bundledSimulator(provider)!, seed, flags);
  try {
    project.taps[provider] = { config: simulator.config };
    const plan = planPipeline(project, undefined, { tap: provider, target: 'duckdb' }, options.cwd);
    const started = Date.now();
    const summary = await runPipeline(plan, {
      // Child logs stay quiet in the demo unless something fails (then the summary says what).
      log: silentLogger,
      signal: options.signal,
      killSignal: options.killSignal,
      onProgress: tty
        ? (streams) => {
            const parts = [...streams].map(([name, c]) => `${name} ${c.records}`).join(', ');
            const seconds = ((Date.now() - started) / 1000).toFixed(1);
            process.stderr.write(`\r\x1b[K  ${provider}: ${parts || 'starting'} (${seconds} s)`);
          }
        : undefined,
    });
    if (tty) process.stderr.write('\r\x1b[K');
    reportLoad(provider, summary, write, options.log);
    return summary;
  } finally {
    await simulator.stop();
  }
}

function reportLoad(provider: Provider, summary: RunSummary, write: Write, log: Logger): void {
  if (summary.status === 'interrupted') {
    write(`  ${provider}: interrupted\n`);
    return;
  }
  const rows = summary.streams.reduce((n, s) => n + s.rows_read, 0);
  write(
    `  ${provider}: ${summary.status === 'succeeded' ? 'done' : summary.status}, ${rows} rows in ${summary.seconds} s` +
      (summary.incremental ? ' (incremental: resumed from the state stored in the warehouse)' : ' (full sync)') +
      '\n',
  );
  if (summary.status !== 'succeeded') log.error(`${provider}: ${summary.error ?? 'failed'}`);
}

/** Whether this demo run was a first sync or an incremental one, per provider. */
function writeRunKind(runs: ProviderRun[], write: Write): void {
  const resumed = runs.filter((r) => r.summary.incremental).map((r) => r.provider);
  const fresh = runs.filter((r) => !r.summary.incremental).map((r) => r.provider);
  if (fresh.length === 0 && resumed.length > 0) {
    // Honest about full-table streams (exam lists, CBTHost results): they have no cursor and are read whole.
    write(
      '\nThis run was incremental: every pipeline resumed from its state in warehouse.duckdb; incremental streams' +
        ' read only what changed, full-table streams (exam lists, CBTHost results) were read whole and merged by key.\n',
    );
  } else if (resumed.length > 0) {
    write(`\nIncremental for ${resumed.join(', ')}; first (full) sync for ${fresh.join(', ')}.\n`);
  } else {
    write('\nFirst run: full sync. Run `pnpm demo` again for an incremental run.\n');
  }
}

/** Rows and rows per second per stream. */
function writeThroughput(runs: ProviderRun[], write: Write): void {
  write(
    `\n${formatTable(
      ['provider', 'stream', 'rows', 'seconds', 'rows/s'],
      runs.flatMap(({ provider, summary }) =>
        summary.streams.map((s) => {
          const seconds = s.seconds > 0.01 ? s.seconds : summary.seconds;
          return [provider, s.stream, s.rows_read, seconds, seconds > 0 ? Math.round(s.rows_read / seconds) : null];
        }),
      ),
    )}\n`,
  );
}

/** Builds the unified model over what was loaded, then runs the example queries on it, each with its result. */
async function writeExampleQueries(warehouse: string, cwd: string, write: Write): Promise<void> {
  const model = await buildModel({ kind: 'duckdb', config: { path: warehouse }, cwd });
  write(`\nUnified model: views exam_results and exams over ${model.providers.join(', ') || 'no provider tables'}.\n`);
  const session = (await openWarehouse('duckdb', { path: warehouse }, cwd)).session!;
  try {
    for (const query of EXAMPLE_QUERIES) {
      const rows = await session.query(query.sql);
      write(`\n-- ${query.title}\n${query.sql};\n\n`);
      const headers = rows[0] ? Object.keys(rows[0]) : [];
      write(
        `${
          rows.length
            ? formatTable(
                headers,
                rows.map((r) => headers.map((h) => numberish(r[h]))),
              )
            : '(no rows)'
        }\n`,
      );
    }
  } finally {
    await session.close();
  }
}

/** DuckDB's JSON rows carry BIGINT and DECIMAL as strings: show them as numbers. */
function numberish(value: unknown): unknown {
  return typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}
