// Runs a tap for the contract suite: in-process through tap-kit's CLI, or as a real process (bin).
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { runTapCli, type TapDefinition } from '@tapline/tap-kit';

export interface TapRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** How to reach the tap under test: its definition, or a command line (e.g. ['node', 'bin/tap-x.js']). */
export type TapUnderTest = { tap: TapDefinition } | { bin: readonly string[] };

export async function runTap(target: TapUnderTest, argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<TapRun> {
  if ('tap' in target) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk) => (out += chunk));
    stderr.on('data', (chunk) => (err += chunk));
    const code = await runTapCli(target.tap, argv, { stdout, stderr, env });
    return { code, stdout: out, stderr: err };
  }
  const [command, ...prefix] = target.bin;
  if (!command) throw new Error('bin must name a command');
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: out, stderr: err }));
  });
}
