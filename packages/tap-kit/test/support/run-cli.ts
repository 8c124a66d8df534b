// Runs a tap's CLI in-process with captured stdout/stderr and parses the Singer output.
import { PassThrough } from 'node:stream';
import { runTapCli, type TapDefinition } from '../../src/index.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  messages: Array<Record<string, any>>;
}

export async function runCli(tap: TapDefinition, argv: string[], env: NodeJS.ProcessEnv = {}, now?: () => Date): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  const code = await runTapCli(tap, argv, { stdout, stderr, env, ...(now ? { now } : {}) });
  const messages = out
    .split('\n')
    .filter((line) => line.startsWith('{"type"'))
    .map((line) => JSON.parse(line));
  return { code, stdout: out, stderr: err, messages };
}
