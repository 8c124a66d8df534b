// Runs a tap's CLI in-process with captured stdout/stderr and parses the Singer output.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

let scratch: string | undefined;
let files = 0;

/** Writes `value` as JSON to a temp file (for --config, --state) and returns its path. */
export function jsonFile(value: unknown): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'tap-kit-test-'));
  const path = join(scratch, `file-${++files}.json`);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** The value of the run's last STATE message. */
export const lastState = (run: CliRun): any => run.messages.filter((m) => m.type === 'STATE').at(-1)?.value;
