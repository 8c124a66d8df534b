// `pnpm --filter @tapline/bench startup`: the fixed CPU cost of each bin (process start-up and a
// tiny piece of work), the part of a pipeline that does not shrink with the data.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundledTap, bundledTarget } from '@tapline/cli';
import { startCbthostSimulator } from '@tapline/tap-cbthost/simulator';
import { startClassMarkerSimulator } from '@tapline/tap-classmarker/simulator';
import pg from 'pg';
import { stringify as toYaml } from 'yaml';

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TAPLINE_BIN = fileURLToPath(new URL('../bin/tapline.js', import.meta.resolve('@tapline/cli')));

/** One measured command: node arguments, the working directory, and a file for stdin when it reads one. */
interface Case {
  name: string;
  args: string[];
  cwd: string;
  stdin?: string;
}

/** CPU seconds (user + system, waited-for children included) of each run, via GNU time. */
async function cpuSeconds(run: Case, dir: string, runs: number): Promise<number[]> {
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = join(dir, 'time.txt');
    const stdin = run.stdin === undefined ? 'ignore' : openSync(run.stdin, 'r');
    const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', out, process.execPath, ...run.args], {
      cwd: run.cwd,
      stdio: [stdin, 'ignore', process.env.STARTUP_BENCH_STDERR ? 'inherit' : 'ignore'],
    });
    const [code] = (await once(child, 'close')) as [number | null];
    if (typeof stdin === 'number') closeSync(stdin);
    const last = (await readFile(out, 'utf8')).trim().split('\n').at(-1)!;
    if (code !== 0) throw new Error(`${run.name} exited ${code} (${last})`);
    const [user, system] = last.split(' ').map(Number);
    seconds.push(user! + system!);
  }
  return seconds.sort((a, b) => a - b);
}

const TINY_INPUT = [
  { type: 'SCHEMA', stream: 'results', key_properties: ['id'], schema: { type: 'object', properties: { id: { type: 'integer' } } } },
  { type: 'RECORD', stream: 'results', record: { id: 1 } },
  { type: 'STATE', value: { done: true } },
]
  .map((message) => JSON.stringify(message))
  .join('\n');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' } } });
  const runs = Number(values.runs ?? 7);
  const dir = await mkdtemp(join(tmpdir(), 'tapline-startup-bench-'));
  const schema = `bench_startup_${process.pid}`;
  // Few results, and no hourly limit on either side: the same account is read again and again.
  const simulator = await startClassMarkerSimulator({ seed: 'startup', groupResults: 5, linkResults: 5, rateLimitPerHour: 1_000_000 });
  // tapline keeps ClassMarker's hourly budget (30 requests) in the warehouse between runs: its runs read CBTHost.
  const cbthost = await startCbthostSimulator({ seed: 'startup', tests: 4, studentsPerTest: 10 });
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await writeFile(join(dir, 'tap.json'), JSON.stringify(simulator.config));
    await writeFile(join(dir, 'postgres.json'), JSON.stringify({ connection_string: PG_URL, default_target_schema: schema }));
    await writeFile(join(dir, 'duckdb.json'), JSON.stringify({ path: join(dir, 'tiny.duckdb') }));
    await writeFile(join(dir, 'tiny.singer'), `${TINY_INPUT}\n`);
    const project = {
      taps: { cbthost: { config: cbthost.config } },
      targets: { postgres: { config: { connection_string: PG_URL, default_target_schema: `${schema}_run` } } },
    };
    await writeFile(join(dir, 'tapline.yml'), toYaml(project));
    const tap = bundledTap('classmarker')!.args;
    const cases: Case[] = [
      { name: '`node -e 0` (Node itself)', args: ['-e', '0'], cwd: dir },
      { name: '`tap-classmarker --help`', args: [...tap, '--help'], cwd: dir },
      { name: '`tap-classmarker --config` (a sync of 10 results from the simulator)', args: [...tap, '--config', 'tap.json'], cwd: dir },
      {
        name: '`target-postgres` (one record)',
        args: [...bundledTarget('postgres')!.args, '--config', 'postgres.json'],
        cwd: dir,
        stdin: join(dir, 'tiny.singer'),
      },
      {
        name: '`target-duckdb` (one record)',
        args: [...bundledTarget('duckdb')!.args, '--config', 'duckdb.json'],
        cwd: dir,
        stdin: join(dir, 'tiny.singer'),
      },
      { name: '`tapline --help`', args: [TAPLINE_BIN, '--help'], cwd: dir },
      {
        name: '`tapline run cbthost postgres` (tapline + tap + target; 17 results)',
        args: [TAPLINE_BIN, 'run', 'cbthost', 'postgres'],
        cwd: dir,
      },
    ];
    console.log(
      `Start-up CPU, ${runs} runs each; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}, Node ${process.version}`,
    );
    console.log('');
    console.log('| command | CPU median | CPU min–max |');
    console.log('|---|---:|---:|');
    for (const run of cases) {
      const seconds = await cpuSeconds(run, dir, runs);
      const median = seconds[Math.floor(seconds.length / 2)]!;
      console.log(`| ${run.name} | ${median.toFixed(2)} s | ${seconds[0]!.toFixed(2)}–${seconds.at(-1)!.toFixed(2)} s |`);
    }
    console.log('');
    console.log(`load average after: ${loadavg()[0]!.toFixed(1)}`);
  } finally {
    await simulator.close();
    await cbthost.close();
    for (const name of [schema, `${schema}_run`]) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await client.end();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
