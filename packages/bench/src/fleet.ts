// `pnpm bench:fleet`: `tapline run --all --jobs N` over many simulated accounts (default 50 per
// vendor, 200 pipelines) into PostgreSQL, one schema per account: wall time, CPU seconds per
// pipeline, peak RSS of the whole process tree, and the fixed cost of a pipeline (process start-up).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundledTap, bundledTarget } from '@tapline/cli';
import pg from 'pg';
import { stringify as toYaml } from 'yaml';

const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TAPLINE_BIN = fileURLToPath(new URL('../bin/tapline.js', import.meta.resolve('@tapline/cli')));

interface Simulator {
  config: Record<string, unknown>;
  close(): Promise<void>;
}

type Vendor = 'classmarker' | 'testpress' | 'onlineexammaker' | 'cbthost';

/** One small account per simulator (each its own key, port and seed), as an ed-tech's schools would be. */
async function startAccount(vendor: Vendor, seed: string): Promise<Simulator> {
  switch (vendor) {
    case 'classmarker':
      return (await import('@tapline/tap-classmarker/simulator')).startClassMarkerSimulator({ seed, linkResults: 40, groupResults: 20 });
    case 'testpress':
      return (await import('@tapline/tap-testpress/simulator')).startTestpressSimulator({ seed, exams: 2, users: 8, attemptsPerExam: 5 });
    case 'onlineexammaker':
      return (await import('@tapline/tap-onlineexammaker/simulator')).startOemSimulator({ seed, exams: 2, resultsPerExam: 10 });
    case 'cbthost':
      return (await import('@tapline/tap-cbthost/simulator')).startCbthostSimulator({ seed, tests: 4, studentsPerTest: 10 });
  }
}

/** Summed VmRSS (MB) of `root` and all its descendants, from /proc. */
async function treeRssMb(root: number): Promise<number> {
  const parents = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      parents.set(Number(entry), Number(/PPid:\s+(\d+)/.exec(status)?.[1]));
      rss.set(Number(entry), Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // gone meanwhile
    }
  }
  const inTree = (pid: number): boolean => {
    for (let at: number | undefined = pid, hops = 0; at !== undefined && hops < 10; at = parents.get(at), hops++)
      if (at === root) return true;
    return false;
  };
  let kb = 0;
  for (const [pid, value] of rss) if (inTree(pid)) kb += value;
  return kb / 1024;
}

/** CPU seconds (user + system) of one short command, via GNU time: a process's start-up cost. */
async function startupCpu(args: string[], dir: string, runs = 5): Promise<number> {
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = join(dir, `startup-${i}.txt`);
    const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', out, process.execPath, ...args], { stdio: 'ignore' });
    await once(child, 'close');
    const [user, system] = (await readFile(out, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
    seconds.push(user! + system!);
  }
  return seconds.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** One simulator and one pipeline (tap, PostgreSQL target in a schema of its own) per account. */
async function writeFleetProject(
  vendors: readonly Vendor[],
  perVendor: number,
  prefix: string,
  dir: string,
  simulators: Simulator[],
): Promise<void> {
  const project = {
    taps: {} as Record<string, unknown>,
    targets: {} as Record<string, unknown>,
    pipelines: {} as Record<string, unknown>,
  };
  for (const vendor of vendors) {
    for (let n = 1; n <= perVendor; n++) {
      const name = `${vendor}-${String(n).padStart(3, '0')}`;
      const simulator = await startAccount(vendor, name);
      simulators.push(simulator);
      project.taps[name] = { type: vendor, config: simulator.config };
      project.targets[name] = {
        type: 'postgres',
        config: { connection_string: PG_URL, default_target_schema: `${prefix}_${name.replace(/-/g, '_')}` },
      };
      project.pipelines[name] = { tap: name, target: name };
    }
  }
  await writeFile(join(dir, 'tapline.yml'), toYaml(project));
}

interface FleetRun {
  code: number | null;
  wall: number;
  /** User + system CPU seconds of tapline and every process it waited for. */
  cpu: number;
  /** The largest single process's peak RSS, from GNU time. */
  maxKb: number;
  /** The peak of the process tree's summed RSS, polled every 250 ms. */
  peakTreeMb: number;
  stdout: string;
}

/** `tapline run --all` under GNU time, with the process tree's RSS polled beside it. */
async function timeFleetRun(dir: string, jobs: number): Promise<FleetRun> {
  const timing = join(dir, 'time.txt');
  const started = performance.now();
  const args = [TAPLINE_BIN, 'run', '--all', '--jobs', String(jobs), '--summary-json', '--log-format', 'json'];
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timing, process.execPath, ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  let peakTreeMb = 0;
  let polling = false;
  const poll = setInterval(() => {
    if (polling || child.pid === undefined) return;
    polling = true;
    void treeRssMb(child.pid).then((mb) => {
      peakTreeMb = Math.max(peakTreeMb, mb);
      polling = false;
    });
  }, 250);
  const [code] = (await once(child, 'close')) as [number | null];
  clearInterval(poll);
  const wall = (performance.now() - started) / 1000;
  const [user, system, maxKb] = (await readFile(timing, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
  return { code, wall, cpu: user! + system!, maxKb: maxKb!, peakTreeMb, stdout };
}

interface PipelineLine {
  pipeline?: string;
  status?: string;
  error?: string;
  seconds?: number;
  streams?: { rows_loaded: number }[];
  total?: Record<string, number>;
}

/** The run's table, then a pipeline's fixed cost: the CPU of starting a tap and a target. */
async function reportFleetRun(run: FleetRun, jobs: number, dir: string): Promise<void> {
  const lines = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as PipelineLine);
  const total = lines.at(-1)?.total;
  const runs = lines.filter((line) => line.pipeline !== undefined);
  const rows = runs.reduce((sum, one) => sum + (one.streams ?? []).reduce((s, stream) => s + (stream.rows_loaded ?? 0), 0), 0);
  const seconds = runs.map((one) => one.seconds ?? 0).sort((a, b) => a - b);
  const { cpu } = run;

  const tapCpu = await startupCpu([...bundledTap('classmarker')!.args, '--about'], dir);
  const targetCpu = await startupCpu([...bundledTarget('postgres')!.args, '--about'], dir);
  const nodeCpu = await startupCpu(['-e', '0'], dir);

  console.log(`exit ${run.code}; ${JSON.stringify(total)}`);
  for (const one of runs.filter((r) => r.status !== 'succeeded')) console.log(`  ${one.pipeline} ${one.status}: ${one.error ?? ''}`);
  console.log('');
  console.log(
    '| pipelines | jobs | wall | CPU (tapline + taps + targets) | CPU per pipeline | pipeline wall (median / p90) | rows | peak RSS (tree) | peak RSS (one process) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  console.log(
    `| ${runs.length} | ${jobs} | ${run.wall.toFixed(0)} s | ${cpu.toFixed(0)} s | ${(cpu / runs.length).toFixed(2)} s | ` +
      `${seconds[Math.floor(seconds.length / 2)]?.toFixed(1)} s / ${seconds[Math.floor(seconds.length * 0.9)]?.toFixed(1)} s | ${rows} | ${run.peakTreeMb.toFixed(0)} MB | ${(run.maxKb / 1024).toFixed(0)} MB |`,
  );
  console.log('');
  console.log(
    `Start-up CPU (median of 5, \`--about\`): node -e 0 ${nodeCpu.toFixed(2)} s, tap-classmarker ${tapCpu.toFixed(2)} s, target-postgres ${targetCpu.toFixed(2)} s`,
  );
  console.log(
    `Fixed cost of a pipeline (tap + target start-up): ${(tapCpu + targetCpu).toFixed(2)} CPU s of ${(cpu / runs.length).toFixed(2)} per pipeline`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { accounts: { type: 'string' }, jobs: { type: 'string' } } });
  const perVendor = Number(values.accounts ?? 50);
  const jobs = Number(values.jobs ?? 2);
  const vendors: Vendor[] = ['classmarker', 'testpress', 'onlineexammaker', 'cbthost'];
  const dir = await mkdtemp(join(tmpdir(), 'tapline-fleet-bench-'));
  const prefix = `bench_fleet_${process.pid}`;
  const simulators: Simulator[] = [];
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await writeFleetProject(vendors, perVendor, prefix, dir, simulators);
    console.log(
      `${vendors.length * perVendor} pipelines (${perVendor} per vendor), --jobs ${jobs}, into PostgreSQL; ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}`,
    );
    await reportFleetRun(await timeFleetRun(dir, jobs), jobs, dir);
  } finally {
    await Promise.all(simulators.map((simulator) => simulator.close()));
    const schemas = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${prefix}_%`]);
    for (const { nspname } of schemas.rows) await client.query(`DROP SCHEMA "${nspname}" CASCADE`);
    await client.end();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
