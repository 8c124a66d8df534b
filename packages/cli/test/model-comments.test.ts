// The warehouse carries its data dictionary: the model's views and columns, and the loaded tables, have comments, in PostgreSQL and DuckDB.
import path from 'node:path';
import { classmarkerWebhook } from '@tapline/tap-classmarker/webhooks';
import { testpressWebhook } from '@tapline/tap-testpress/webhooks';
import { undescribedFields } from '@tapline/testing/tap-contract';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { COLUMN_DOCS, VIEW_DOCS } from '../src/model/docs.js';
import { buildModel } from '../src/model/index.js';
import { planPipeline, runPipeline } from '../src/pipeline.js';
import { bundledTap, bundledTarget } from '../src/plugins.js';
import { parseProject } from '../src/project.js';
import { duckdbRows, onlyProvider, PG_URL, pgSchema, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

/** Comments of every table or view and of every column in `schema`, as `{ relation: { '': its comment, column: comment } }`. */
const COMMENTS_SQL = {
  postgres: (schema: string) => `
    SELECT c.relname AS relation, '' AS column_name, obj_description(c.oid, 'pg_class') AS comment
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${schema}' AND c.relkind IN ('r', 'v')
    UNION ALL
    SELECT c.relname, a.attname, col_description(c.oid, a.attnum)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
     WHERE n.nspname = '${schema}' AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped`,
  duckdb: (schema: string) => `
    SELECT table_name AS relation, '' AS column_name, comment FROM duckdb_tables() WHERE schema_name = '${schema}'
    UNION ALL SELECT view_name, '', comment FROM duckdb_views() WHERE schema_name = '${schema}' AND NOT internal
    UNION ALL SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = '${schema}'`,
};

describe.each(['postgres', 'duckdb'] as const)('the data dictionary in %s', (warehouse) => {
  const ready = bundledTap('classmarker') !== undefined && bundledTarget(warehouse) !== undefined;
  it.skipIf(!ready)(
    'comments the model views and each of their columns, and every loaded table and its metadata columns',
    async () => {
      const { startClassMarkerSimulator } = (await import('@tapline/tap-classmarker/simulator' as string)) as {
        startClassMarkerSimulator(o: object): Promise<{ config: Record<string, unknown>; close(): Promise<void> }>;
      };
      const simulator = await startClassMarkerSimulator({ seed: 'comments', groupResults: 5, linkResults: 5 });
      const pgTest = warehouse === 'postgres' ? await pgSchema('cli_comments') : undefined;
      try {
        const viewSchema = pgTest?.schema ?? 'main';
        const providerSchema = pgTest ? `${pgTest.schema}_cm` : 'classmarker';
        const connection = pgTest ? { connection_string: PG_URL } : { path: path.join(dir, 'w.duckdb') };
        const project = parseProject(
          {
            taps: { classmarker: { config: simulator.config } },
            targets: { [warehouse]: { config: { ...connection, default_target_schema: providerSchema } } },
          },
          path.join(dir, 'tapline.yml'),
        );
        const summary = await runPipeline(planPipeline(project, 'tapline.yml', { tap: 'classmarker', target: warehouse }, dir), {
          log: silentLogger,
        });
        expect(summary.status, summary.error).toBe('succeeded');
        await buildModel({
          kind: warehouse,
          config: connection,
          schema: viewSchema,
          cwd: dir,
          providerSchemas: onlyProvider('classmarker', providerSchema),
        });
        const read = async (schema: string) => {
          const sql = COMMENTS_SQL[warehouse](schema);
          const rows = pgTest ? (await pgTest.client.query(sql)).rows : await duckdbRows((connection as { path: string }).path, sql);
          const found: Record<string, Record<string, string | null>> = {};
          for (const row of rows) (found[String(row.relation)] ??= {})[String(row.column_name)] = (row.comment as string | null) ?? null;
          return found;
        };

        const views = await read(viewSchema);
        for (const view of Object.keys(VIEW_DOCS) as (keyof typeof VIEW_DOCS)[]) {
          expect(views[view]?.['']).toBe(VIEW_DOCS[view]);
          const columns = Object.keys(views[view]!).filter((column) => column !== '');
          expect(columns.length).toBeGreaterThan(5);
          for (const column of columns) expect(views[view]![column], `${view}.${column}`).toBe(COLUMN_DOCS[view][column]);
        }

        const tables = await read(providerSchema);
        expect(Object.keys(tables).sort()).toEqual(expect.arrayContaining(['group_results', 'groups', 'link_results', 'links', 'tests']));
        for (const [table, comments] of Object.entries(tables)) {
          if (table.startsWith('_tapline_state')) continue; // tapline's own tables: the state and its account bindings
          // The stream's description, then the owner line.
          expect(comments[''], table).toMatch(/^\S.*\ntapline stream: "/);
          expect(comments._sdc_extracted_at, table).toMatch(/^When the tap read the record/);
          expect(comments._sdc_extra, table).toMatch(/^Fields the vendor sent that the stream does not declare/);
          // Every column has its meaning: the tap describes each field (the tap contract checks the declarations).
          const bare = Object.keys(comments).filter((column) => column !== '' && !comments[column]);
          expect(bare, `${table}: columns without a comment`).toEqual([]);
        }
        expect(tables.link_results?.time_finished).toMatch(/^When the taker finished/);
        expect(tables.groups?.['']).toBe(
          'Groups (registered-user exams) the API key can access, with their assigned test ids.\ntapline stream: "groups"',
        );
      } finally {
        await simulator.close();
        await pgTest?.drop();
      }
    },
    120_000,
  );
});

it('describes every stream and field that webhooks land too (question_responses, category_results, attempt_subject_stats)', () => {
  const gaps = [classmarkerWebhook, testpressWebhook].flatMap((webhook) =>
    webhook.streams.flatMap((stream) => undescribedFields(stream.schema).map((gap) => `${webhook.type} ${stream.name} ${gap}`)),
  );
  expect(gaps).toEqual([]);
});
