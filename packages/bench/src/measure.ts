// Runs a target CLI on an input file and measures it: wall time, CPU seconds, peak RSS (shared by the bench scripts).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface Measured {
  readonly seconds: number;
  /** User + system CPU seconds (all threads): on a shared machine, steadier than wall time. */
  readonly cpuSeconds?: number;
  readonly peakRssMb?: number;
}

/** utime + stime of a live process in seconds, from /proc/<pid>/stat (clock ticks of 1/100 s on Linux). */
export function procCpuSeconds(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Run a target CLI with the Singer file on stdin (`target < file`: the child reads the file itself,
 * so no bench-side pipe competes for the two cores); wall time and peak RSS (VmHWM, from /proc).
 */
export async function runTarget(bin: string, config: object, input: string, dir: string): Promise<Measured> {
  const configPath = join(dir, `config-${Date.now()}.json`);
  await writeFile(configPath, JSON.stringify(config));
  const started = performance.now();
  const stdin = openSync(input, 'r');
  const child = spawn(process.execPath, [bin, '--config', configPath], { stdio: [stdin, 'ignore', 'pipe'] });
  closeSync(stdin);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  let peakKb = 0;
  let cpu: number | undefined;
  const poll = setInterval(() => {
    cpu = procCpuSeconds(child.pid) ?? cpu;
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+)/.exec(status);
      if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
    } catch {
      // the process has exited (or this is not Linux): keep the last reading
    }
  }, 50);
  const exited = once(child, 'close') as Promise<[number | null]>;
  const [code] = await exited;
  clearInterval(poll);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${bin} exited with ${code}:\n${stderr}`);
  return { seconds, ...(cpu === undefined ? {} : { cpuSeconds: cpu }), ...(peakKb > 0 ? { peakRssMb: peakKb / 1024 } : {}) };
}

/** The bin of a built target package, or undefined when it is not built. */
export function targetBin(pkg: string, bin: string): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve(pkg);
    const path = join(dirname(entry), '..', 'bin', bin);
    return existsSync(path) && existsSync(join(dirname(entry), 'cli.js')) ? path : undefined;
  } catch {
    return undefined;
  }
}
