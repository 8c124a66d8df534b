// The packages as npm ships them: packed with `pnpm pack`, checked with publint and
// arethetypeswrong, then a tap and a target installed from their tarballs into an empty npm
// project outside the repository and run against the tap's simulator, as a user would.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgTestSchema } from '@tapline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitOf, firstLineOf } from './processes.js';

const repo = new URL('../../..', import.meta.url).pathname;
const DATABASE_DRIVERS = ['pg', 'pg-copy-streams', '@duckdb/node-api', '@duckdb/node-bindings'];
const TAP = ['tap-classmarker', 'tap-kit', 'http', 'singer', 'simulator-kit'];
const TARGET = ['target-postgres', 'target-kit'];
const TEST_KIT = ['testing', 'tap-cbthost', 'tap-kit', 'http', 'singer', 'simulator-kit'];
/** A tap's test in a user's project: the shared contract suite against the tap and its simulator. */
const CONTRACT_TEST = `import { tap } from '@tapline/tap-cbthost';
import { startCbthostSimulator } from '@tapline/tap-cbthost/simulator';
import { defineTapContract } from '@tapline/testing/tap-contract';

defineTapContract({ tap, startSimulator: () => startCbthostSimulator({ seed: 1 }) });
`;

let scratch: string;
let tarballs: string;
let project: string;
let check: { code: number | null; output: string };

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'tapline-release-check-'));
  tarballs = join(scratch, 'tarballs');
  project = join(scratch, 'project');
  const run = await exitOf(spawn(process.execPath, [join(repo, 'scripts/check-packages.mjs'), '--keep', tarballs], { cwd: repo }));
  check = { code: run.code, output: `${run.stdout}${run.stderr}` };
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'tapline-user', private: true }));
}, 300_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function tarball(name: string): string {
  const file = readdirSync(tarballs).find((f) => f.startsWith(`tapline-${name}-`) && /^\d/.test(f.slice(`tapline-${name}-`.length)));
  if (!file) throw new Error(`no tarball for @tapline/${name} in ${tarballs}`);
  return join(tarballs, file);
}

/** npm install of local tarballs; third-party packages come from npm's cache when it has them. */
async function npmInstall(names: string[], into = project): Promise<void> {
  const run = await exitOf(spawn('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...names.map(tarball)], { cwd: into }));
  if (run.code !== 0) throw new Error(`npm install of ${names.join(', ')} failed: ${run.stderr}`);
}

/** Every package name installed under node_modules, however deep. */
function installedPackages(dir: string = join(project, 'node_modules')): string[] {
  return readdirSync(dir).flatMap((entry) => {
    if (entry.startsWith('.')) return [];
    if (entry.startsWith('@')) return readdirSync(join(dir, entry)).flatMap((sub) => packageAndNested(join(dir, entry, sub)));
    return packageAndNested(join(dir, entry));
  });
}

function packageAndNested(dir: string): string[] {
  const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
  const nested = join(dir, 'node_modules');
  return [name, ...(readdirSync(dir).includes('node_modules') ? installedPackages(nested) : [])];
}

function bytesUnder(dir: string): number {
  return readdirSync(dir).reduce((sum, entry) => {
    const stat = statSync(join(dir, entry), { throwIfNoEntry: false });
    if (!stat) return sum;
    return sum + (stat.isDirectory() ? bytesUnder(join(dir, entry)) : stat.size);
  }, 0);
}

describe('the packages as npm ships them', () => {
  it('every publishable package passes publint, arethetypeswrong and the tarball checks (LICENSE, metadata, source maps)', () => {
    expect(check.code, check.output).toBe(0);
  });

  it('a tap installs alone from its tarballs with no database driver and no web server, well under 40 MB', async () => {
    await npmInstall(TAP);
    const installed = installedPackages();
    expect(installed).toContain('@tapline/tap-classmarker');
    expect(installed.filter((name) => DATABASE_DRIVERS.includes(name))).toEqual([]);
    // The webhook receivers are the subpath @tapline/tap-classmarker/webhooks, whose kit is an optional peer.
    expect(installed.filter((name) => name === 'fastify' || name === '@tapline/webhooks')).toEqual([]);
    expect(bytesUnder(join(project, 'node_modules'))).toBeLessThan(40 * 1024 * 1024);
  }, 180_000);

  it('the installed tap, its simulator and the installed target-postgres run a real sync outside the repository', async () => {
    await npmInstall(TARGET);
    const bin = (name: string) => join(project, 'node_modules', '.bin', name);
    const simulator = spawn(bin('classmarker-simulator'), ['--port', '0', '--seed', '1'], { cwd: project });
    const pg = await createPgTestSchema();
    try {
      const firstLine = await firstLineOf(simulator, 'classmarker-simulator');
      const { config } = JSON.parse(firstLine) as { config: object };
      writeFileSync(join(project, 'tap.json'), JSON.stringify(config));
      writeFileSync(join(project, 'target.json'), JSON.stringify({ connection_string: pg.url, default_target_schema: pg.schema }));

      const tap = spawn(bin('tap-classmarker'), ['--config', 'tap.json'], { cwd: project });
      const target = spawn(bin('target-postgres'), ['--config', 'target.json'], { cwd: project });
      tap.stdout.pipe(target.stdin);
      const [tapRun, targetRun] = await Promise.all([exitOf(tap), exitOf(target)]);
      expect(tapRun.code, tapRun.stderr).toBe(0);
      expect(targetRun.code, targetRun.stderr).toBe(0);
      expect(targetRun.stdout).toContain('"bookmarks"');

      const tables = await pg.client.query<{ table_name: string; rows: string }>(
        `SELECT table_name, (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text AS rows
           FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
        [pg.schema],
      );
      const rowsIn = Object.fromEntries(tables.rows.map((t) => [t.table_name, Number(t.rows)]));
      expect(rowsIn.tests, JSON.stringify(rowsIn)).toBeGreaterThan(0);
      expect(rowsIn.link_results, JSON.stringify(rowsIn)).toBeGreaterThan(0);
    } finally {
      simulator.kill('SIGTERM');
      await pg.drop();
    }
  }, 180_000);

  it('@tapline/testing installs in a user project with vitest as its peer, and its tap contract passes against an installed tap', async () => {
    const tester = join(scratch, 'tester');
    mkdirSync(tester);
    writeFileSync(join(tester, 'package.json'), JSON.stringify({ name: 'tapline-tap-author', private: true, type: 'module' }));
    await npmInstall(TEST_KIT, tester); // vitest is not named: npm installs it as the declared peer
    expect(installedPackages(join(tester, 'node_modules'))).toContain('vitest');

    writeFileSync(join(tester, 'contract.test.js'), CONTRACT_TEST);
    // The child vitest must not think it is a worker of this one.
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST'))), NO_COLOR: '1' };
    const run = await exitOf(spawn(join(tester, 'node_modules/.bin/vitest'), ['run', '--reporter=dot'], { cwd: tester, env }));
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    expect(run.stdout.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/Tests\s+\d+ passed \(\d+\)/);
  }, 300_000);
});
