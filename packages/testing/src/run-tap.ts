// Runs a tap and parses its Singer output: in-process through tap-kit's CLI, or as a real process (bin).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runTapCli, type TapDefinition } from '@tapline/tap-kit';

/** How to reach the tap under test: its definition, or a command line (e.g. ['node', 'bin/tap-x.js']). */
export type TapUnderTest = { tap: TapDefinition } | { bin: readonly string[] };

export interface TapRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Singer messages on stdout, parsed (none for --discover and --about, which print indented JSON). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read Singer messages as loose JSON and say what they expect
  messages: Array<Record<string, any>>;
}

/** Runs the tap (a definition runs in-process) with `argv`; the environment is only `env` in-process, the parent's plus `env` for a bin. */
export async function runTap(target: TapDefinition | TapUnderTest, argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<TapRun> {
  const { code, stdout, stderr } =
    'bin' in target ? await runBin(target.bin, argv, env) : await runInProcess('tap' in target ? target.tap : target, argv, env);
  return { code, stdout, stderr, messages: singerMessages(stdout) };
}

/** Records of one stream, in the order the tap wrote them (typed as the test says; unchecked). */
// biome-ignore lint/suspicious/noExplicitAny: tests read Singer messages as loose JSON and say what they expect
export const recordsOf = <T = any>(run: TapRun, stream: string): T[] =>
  run.messages.filter((m) => m.type === 'RECORD' && m.stream === stream).map((m) => m.record as T);

/** The value of the last STATE message (what a runner would pass to the next run). */
export const lastState = (run: TapRun): unknown => run.messages.filter((m) => m.type === 'STATE').at(-1)?.value;

let scratch: string | undefined;
let files = 0;

/** Writes `value` as JSON to a fresh temp file (for --config, --state, --catalog) and returns its path. */
export function jsonFile(value: unknown): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'tapline-tap-test-'));
  const path = join(scratch, `file-${++files}.json`);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** Singer output is one JSON object per line; other lines (pretty JSON of --discover) are not messages. */
// biome-ignore lint/suspicious/noExplicitAny: tests read Singer messages as loose JSON and say what they expect
function singerMessages(stdout: string): Array<Record<string, any>> {
  return (
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{"type"'))
      // biome-ignore lint/suspicious/noExplicitAny: tests read Singer messages as loose JSON and say what they expect
      .map((line) => JSON.parse(line) as Record<string, any>)
  );
}

async function runInProcess(tap: TapDefinition, argv: readonly string[], env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const code = await runTapCli(tap, [...argv], { stdout, stderr, env });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

function runBin(bin: readonly string[], argv: readonly string[], env: NodeJS.ProcessEnv) {
  return spawnTap(bin, argv, env).done.then(({ code, stdout, stderr }) => ({ code, stdout, stderr }));
}

/**
 * Starts a tap process. Its stdout is both collected (for `done`) and readable as a stream, so it
 * can be piped into a target process as a shell pipe would (`landSync({ bin }, ...)` does).
 */
export function spawnTap(
  bin: readonly string[],
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): { stdout: NodeJS.ReadableStream; done: Promise<TapRun> } {
  const [command, ...prefix] = bin;
  if (!command) throw new Error('bin must name a command');
  const child = spawn(command, [...prefix, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const done = new Promise<TapRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: out, stderr: err, messages: singerMessages(out) }));
  });
  return { stdout: child.stdout, done };
}
