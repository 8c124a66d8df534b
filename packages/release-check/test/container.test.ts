// The container image, without Docker: the Dockerfile's build stage ends in
// scripts/container/build-app.sh, which this test runs into a temp folder, then uses that folder
// the way the image does (its node_modules/.bin first on a PATH that reaches nothing of the
// repository, no NODE_PATH, a working folder outside the repository). The image build itself runs
// only where a Docker daemon answers.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitOf, firstLineOf } from './processes.js';

const repo = new URL('../../..', import.meta.url).pathname;
// Our development tools. Not listed: `@types/*` and `typescript`, which graphile-worker (the job
// queue of `tapline worker`) brings as its own dependencies and cosmiconfig's optional peer.
const DEV_ONLY = ['vitest', 'turbo', '@biomejs', '@tapline+testing', '@tapline+bench', '@tapline+release-check'];

let scratch: string;
let app: string;
let work: string;
let built: { code: number | null; output: string };

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'tapline-container-'));
  app = join(scratch, 'app');
  work = join(scratch, 'work');
  mkdirSync(work);
  // --offline: the workspace's install already put every package in pnpm's store.
  const run = await exitOf(spawn(join(repo, 'scripts/container/build-app.sh'), [app, '--offline'], { cwd: repo }));
  built = { code: run.code, output: `${run.stdout}${run.stderr}` };
}, 180_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The image's environment: its .bin, then this Node and the system's folders; nothing else. */
function imageEnv(): NodeJS.ProcessEnv {
  const { NODE_PATH: _nodePath, PATH: _path, ...rest } = process.env;
  const path = [join(app, 'node_modules/.bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':');
  return { ...rest, PATH: path, NODE_ENV: 'production' };
}

function inImage(command: string, args: string[]) {
  return spawn(command, args, { cwd: work, env: imageEnv() });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

describe('the Dockerfile', () => {
  const dockerfile = readFileSync(join(repo, 'Dockerfile'), 'utf8');

  it('builds on Node 24 in two stages and runs tapline as the unprivileged node user, with a HEALTHCHECK', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-/m);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toContain('scripts/container/build-app.sh /app');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["tapline"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*healthcheck\.mjs/m);
    expect(readFileSync(join(repo, '.dockerignore'), 'utf8')).toMatch(/^\*\*\/node_modules$/m);
  });
});

describe("the image's application folder (scripts/container/build-app.sh)", () => {
  it('is built, and holds production dependencies only', () => {
    expect(built.code, built.output).toBe(0);
    const installed = readdirSync(join(app, 'node_modules/.pnpm'));
    expect(installed.filter((name) => DEV_ONLY.some((dev) => name.startsWith(dev)))).toEqual([]);
  });

  it('puts tapline and every tap, target and simulator on PATH', () => {
    const bins = readdirSync(join(app, 'node_modules/.bin'));
    for (const provider of ['classmarker', 'testpress', 'onlineexammaker', 'cbthost']) {
      expect(bins).toContain(`tap-${provider}`);
      expect(bins).toContain(`${provider}-simulator`);
    }
    expect(bins).toEqual(expect.arrayContaining(['tapline', 'target-duckdb', 'target-postgres']));
  });

  it('runs `tapline --version` from PATH, outside the repository', async () => {
    const run = await exitOf(inImage('tapline', ['--version']));
    const { version } = JSON.parse(readFileSync(join(repo, 'packages/cli/package.json'), 'utf8')) as { version: string };
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(version);
  });

  it('runs a tap into a target: tapline run classmarker duckdb against the installed simulator', async () => {
    const simulator = inImage('classmarker-simulator', ['--port', '0', '--seed', '1']);
    try {
      const { config } = JSON.parse(await firstLineOf(simulator, 'classmarker-simulator')) as { config: object };
      writeFileSync(join(work, 'classmarker.json'), JSON.stringify(config));
      writeFileSync(join(work, 'duckdb.json'), JSON.stringify({ path: 'warehouse.duckdb' }));
      const run = await exitOf(
        inImage('tapline', [
          'run',
          'classmarker',
          'duckdb',
          '--tap-config',
          'classmarker.json',
          '--target-config',
          'duckdb.json',
          '--summary-json',
        ]),
      );
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
        status: string;
        streams: { stream: string; rows_loaded: number }[];
      };
      expect(summary.status).toBe('succeeded');
      expect(summary.streams.find((s) => s.stream === 'link_results')?.rows_loaded).toBeGreaterThan(0);
      expect(existsSync(join(work, 'warehouse.duckdb'))).toBe(true);
    } finally {
      simulator.kill('SIGTERM');
    }
  }, 120_000);
});

describe("the image's HEALTHCHECK (scripts/container/healthcheck.mjs)", () => {
  const healthcheck = (pid: number) =>
    exitOf(spawn(process.execPath, [join(repo, 'scripts/container/healthcheck.mjs'), String(pid)], { env: imageEnv() }));

  it('passes while a batch command (tapline run, a tap) runs: it listens on nothing', async () => {
    const batch = inImage('node', ['-e', 'setTimeout(() => {}, 30000)', 'run', '--all']);
    try {
      expect((await healthcheck(batch.pid ?? 0)).code).toBe(0);
    } finally {
      batch.kill();
    }
  });

  it('follows /readyz of `tapline serve --port N`: 200 while it serves, a failure when nothing answers', async () => {
    const port = await freePort();
    writeFileSync(
      join(work, 'tapline.yml'),
      [
        'targets:',
        '  warehouse: { type: duckdb, config: { path: hooks.duckdb } }',
        'receivers:',
        '  cm: { type: classmarker, secret: not-a-real-secret, target: warehouse }',
      ].join('\n'),
    );
    const serve = inImage('tapline', ['serve', '--port', String(port)]);
    try {
      await firstLineOf(serve, 'tapline serve');
      expect((await healthcheck(serve.pid ?? 0)).code).toBe(0);
      serve.kill('SIGTERM');
      await exitOf(serve);
      const silent = inImage('node', ['-e', 'setTimeout(() => {}, 30000)', 'serve', '--port', String(port)]);
      expect((await healthcheck(silent.pid ?? 0)).code).toBe(1);
      silent.kill();
    } finally {
      serve.kill('SIGKILL');
    }
  }, 60_000);
});

describe('the image itself', () => {
  const daemon = spawn('docker', ['info'], { stdio: 'ignore' });
  const answers = new Promise<boolean>((resolve) => {
    daemon.on('error', () => resolve(false));
    daemon.on('close', (code) => resolve(code === 0));
  });

  it('builds with `docker build` and prints its version (only where a Docker daemon answers; none on this CI machine)', async (context) => {
    if (!(await answers)) return context.skip();
    const tag = `tapline-release-check:${process.pid}`;
    const build = await exitOf(spawn('docker', ['build', '-t', tag, '.'], { cwd: repo }));
    expect(build.code, build.stderr).toBe(0);
    try {
      const run = await exitOf(spawn('docker', ['run', '--rm', tag, '--version']));
      expect(run.code, run.stderr).toBe(0);
    } finally {
      await exitOf(spawn('docker', ['rmi', tag]));
    }
  }, 1_200_000);
});
