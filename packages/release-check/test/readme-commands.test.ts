// Every shell block of the READMEs a new user follows runs as written. Each block runs under
// `bash -e -o pipefail` (so any failing command fails it) in a fresh folder that looks like a
// checkout of this repository after `pnpm install && pnpm build` (its top-level entries linked to
// this workspace, so nothing is rebuilt), and whatever it writes stays in that folder. `pnpm demo`
// builds with turbo, which refuses workspace packages reached through links: it runs in this
// checkout itself, where it writes ./warehouse.duckdb; a warehouse already there is moved aside
// first and put back after, and the demo's is moved to a fresh folder. A block that cannot run here carries `<!-- not-run: reason -->` on the line before
// its fence; each one is listed as a skipped test naming its reason, so nothing is left out silently.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createPgTestSchema } from '@tapline/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { exitOf, firstLineOf } from './processes.js';

const repo = new URL('../../..', import.meta.url).pathname;
/** The root README, the quick starts of each connector and target, and the Meltano and orchestrator guides. */
const READMES = [
  'README.md',
  'connectors/tap-classmarker/README.md',
  'connectors/tap-testpress/README.md',
  'connectors/tap-onlineexammaker/README.md',
  'connectors/tap-cbthost/README.md',
  'packages/target-postgres/README.md',
  'packages/target-duckdb/README.md',
  'docs/meltano/README.md',
  'docs/orchestrators/README.md',
];
/** Blocks run in this checkout (by first line): they build with turbo. What they write in it. */
const IN_CHECKOUT: Record<string, string[]> = {
  'pnpm demo': ['warehouse.duckdb', 'warehouse.duckdb.wal', 'warehouse.snapshot.duckdb'],
};

/** Moves each of `names` that exists from one folder to another. */
function moveAll(names: string[], from: string, to: string): void {
  for (const name of names) if (existsSync(join(from, name))) renameSync(join(from, name), join(to, name));
}
/** What a checkout holds after `pnpm install && pnpm build`, linked into each block's folder. */
const CHECKOUT = [
  'package.json',
  'pnpm-workspace.yaml',
  'pnpm-lock.yaml',
  'turbo.json',
  'tsconfig.base.json',
  'node_modules',
  'packages',
  'connectors',
  'scripts',
];

/** The SQL a Python block runs (`con.sql("...")`), and the file it connects to. */
function pythonSql(file: string): { line: number; database: string; statements: string[] }[] {
  const text = readFileSync(join(repo, file), 'utf8');
  return [...text.matchAll(/^```python\n([\s\S]*?)^```/gm)].map((match) => ({
    line: text.slice(0, match.index).split('\n').length,
    database: /duckdb\.connect\("([^"]+)"/.exec(match[1] ?? '')?.[1] ?? '',
    statements: [...(match[1] ?? '').matchAll(/con\.sql\("((?:[^"\\]|\\.)*)"\)/g)].map((sql) => sql[1] ?? ''),
  }));
}

/** Where the `pnpm demo` block wrote its warehouse, for the notebook snippets that read it. */
let demoFolder: string | undefined;

interface ShellBlock {
  /** Line of the opening fence, 1-based. */
  line: number;
  script: string;
  notRun?: string;
}

function shellBlocks(file: string): ShellBlock[] {
  const lines = readFileSync(join(repo, file), 'utf8').split('\n');
  const blocks: ShellBlock[] = [];
  for (let at = 0; at < lines.length; at++) {
    const fence = /^```(\w*)\s*$/.exec(lines[at] ?? '');
    if (!fence) continue;
    const end = lines.findIndex((line, index) => index > at && line.startsWith('```'));
    if (['sh', 'bash', 'shell'].includes(fence[1] ?? '')) {
      const notRun = /^<!-- not-run: (.+) -->$/.exec(lines[at - 1] ?? '')?.[1];
      blocks.push({ line: at + 1, script: lines.slice(at + 1, end).join('\n'), ...(notRun ? { notRun } : {}) });
    }
    at = end;
  }
  return blocks;
}

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A fresh folder that looks like a built checkout of the repository. */
function checkout(): string {
  const folder = mkdtempSync(join(tmpdir(), 'tapline-readme-'));
  folders.push(folder);
  for (const entry of CHECKOUT) symlinkSync(join(repo, entry), join(folder, entry));
  return folder;
}

/** What a block needs that the README tells the reader to have: returns the environment to add and a cleanup. */
type Setup = (folder: string) => Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }>;

/** The `tapline` block: a project whose tapline.yml reads one ClassMarker account (the simulator) into DuckDB and PostgreSQL. */
const taplineProject: Setup = async (folder) => {
  const simulator = spawn(process.execPath, [
    join(repo, 'connectors/tap-classmarker/bin/classmarker-simulator.js'),
    '--port',
    '0',
    '--seed',
    '1',
    '--group-results',
    '20',
    '--link-results',
    '20',
  ]);
  const pg = await createPgTestSchema();
  const database = pg.schema; // a database of its own: `tapline model` puts its views in its public schema
  await pg.client.query(`CREATE DATABASE "${database}"`);
  const databaseUrl = Object.assign(new URL(pg.url), { pathname: `/${database}` }).toString();
  try {
    const { config } = JSON.parse(await firstLineOf(simulator, 'classmarker-simulator')) as { config: Record<string, string> };
    writeFileSync(join(folder, 'cm.json'), JSON.stringify(config));
    writeFileSync(join(folder, 'pg.json'), JSON.stringify({ connection_string: databaseUrl }));
    writeFileSync(
      join(folder, 'tapline.yml'),
      [
        'taps:',
        '  classmarker: { type: classmarker, config: { api_key: "${CM_KEY}", api_secret: "${CM_SECRET}", base_url: "${CM_URL}" } }',
        'targets:',
        '  duckdb: { type: duckdb, config: { path: warehouse.duckdb } }',
        '  postgres: { type: postgres, config: { connection_string: "${DATABASE_URL}" } }',
        'pipelines:',
        '  classmarker-to-duckdb: { tap: classmarker, target: duckdb }',
        '  cm-postgres: { tap: classmarker, target: postgres, tags: [hourly] }',
      ].join('\n'),
    );
    const env = {
      CM_KEY: config['api_key'] ?? '',
      CM_SECRET: config['api_secret'] ?? '',
      CM_URL: config['base_url'] ?? '',
      DATABASE_URL: databaseUrl,
    };
    return { env, cleanup: () => stop(simulator, pg, database) };
  } catch (error) {
    await stop(simulator, pg, database);
    throw error;
  }
};

async function stop(simulator: ChildProcess, pg: Awaited<ReturnType<typeof createPgTestSchema>>, database: string): Promise<void> {
  simulator.kill('SIGTERM');
  await pg.client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await pg.drop();
}

/** Blocks that need a setup, by their first line. */
const SETUPS: Record<string, Setup> = {
  'pnpm exec tapline run classmarker duckdb': taplineProject,
};

/** This process's environment without what `pnpm test` and vitest add to it: a reader's shell has none of it. */
function freshShellEnv(): NodeJS.ProcessEnv {
  const added = /^(INIT_CWD$|VITEST|npm_lifecycle_|npm_package_|PNPM_SCRIPT_SRC_DIR$|TAPLINE_)/;
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !added.test(key)));
}

const setupOf = (block: ShellBlock): Setup | undefined =>
  Object.entries(SETUPS).find(([firstLine]) => block.script.startsWith(firstLine))?.[1];

for (const file of READMES) {
  describe(file, () => {
    const blocks = shellBlocks(file);
    if (blocks.length === 0) it('has no shell block (its synopses are plain ``` blocks, not commands to run)', () => {});
    for (const block of blocks) {
      if (block.notRun) {
        it.skip(`the block at line ${block.line} is not run: ${block.notRun}`, () => {});
        continue;
      }
      it(`the block at line ${block.line} runs as written`, async () => {
        const writes = IN_CHECKOUT[block.script.split('\n')[0] ?? ''];
        const folder = writes ? mkdtempSync(join(tmpdir(), 'tapline-readme-')) : checkout();
        if (writes) folders.push(folder);
        const aside = join(folder, 'aside');
        mkdirSync(aside);
        if (writes) moveAll(writes, repo, aside);
        const setup = await setupOf(block)?.(folder);
        try {
          const env = { ...freshShellEnv(), ...setup?.env };
          const run = await exitOf(spawn('bash', ['-e', '-o', 'pipefail', '-c', block.script], { cwd: writes ? repo : folder, env }));
          expect(run.code, `${file}:${block.line} exited ${run.code}:\n${run.stderr.split('\n').slice(-15).join('\n')}`).toBe(0);
          if (block.script.startsWith('pnpm demo')) demoFolder = folder;
        } finally {
          if (writes) {
            moveAll(writes, repo, folder);
            moveAll(writes, aside, repo);
          }
          await setup?.cleanup();
        }
      }, 300_000);
    }
  });
}

describe("the Python notebook snippets (Python's duckdb is not installable here, no PyPI: their SQL runs through DuckDB's Node client)", () => {
  for (const file of READMES) {
    for (const snippet of pythonSql(file)) {
      it(`${file}:${snippet.line}: every con.sql() runs on the demo's ${snippet.database}, read-only`, async () => {
        expect(demoFolder, 'the pnpm demo block ran first').toBeDefined();
        expect(snippet.statements.length).toBeGreaterThan(0);
        const db = await DuckDBInstance.create(join(demoFolder ?? '', snippet.database), { access_mode: 'READ_ONLY' });
        const connection = await db.connect();
        try {
          for (const sql of snippet.statements) {
            const reader = await connection.runAndReadAll(sql);
            if (/^\s*select/i.test(sql)) expect(reader.currentRowCount, sql).toBeGreaterThan(0);
          }
        } finally {
          connection.closeSync();
          db.closeSync();
        }
      });
    }
  }
});
