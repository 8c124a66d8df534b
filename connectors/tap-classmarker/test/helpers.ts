// Running tap-classmarker in-process against a simulator, and reading what it wrote.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runTapCli } from '@tapline/tap-kit';
import { tap } from '../src/index.js';
import type { ClassMarkerSimulator } from '../simulator/index.js';

export interface TapRun {
  code: number;
  stdout: string;
  stderr: string;
  messages: Array<Record<string, any>>;
  records(stream: string): Array<Record<string, any>>;
  /** The value of the last STATE message. */
  state: unknown;
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

const dir = mkdtempSync(join(tmpdir(), 'tap-classmarker-'));
let files = 0;
export function writeJson(value: unknown): string {
  const path = join(dir, `file-${++files}.json`);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** Runs `tap-classmarker` with the simulator's config (plus overrides) and optional state/catalog. */
export async function runTap(
  sim: Pick<ClassMarkerSimulator, 'config'>,
  options: { config?: Record<string, unknown>; state?: unknown; catalog?: unknown; args?: string[] } = {},
): Promise<TapRun> {
  const stdout = collect();
  const stderr = collect();
  // A subcommand must come first: `tap-classmarker access-codes add --config c.json ...`.
  const argv = [...(options.args ?? []), '--config', writeJson({ ...sim.config, ...options.config })];
  if (options.state !== undefined) argv.push('--state', writeJson(options.state));
  if (options.catalog !== undefined) argv.push('--catalog', writeJson(options.catalog));
  const code = await runTapCli(tap, argv, { stdout: stdout.stream, stderr: stderr.stream, env: {} });
  const text = stdout.text();
  // --discover and --about print pretty JSON, not messages: parse lines only when they are messages.
  const messages = text.startsWith('{"type"')
    ? text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, any>)
    : [];
  const states = messages.filter((m) => m.type === 'STATE');
  return {
    code,
    stdout: text,
    stderr: stderr.text(),
    messages,
    records: (stream) => messages.filter((m) => m.type === 'RECORD' && m.stream === stream).map((m) => m.record as Record<string, any>),
    state: states.at(-1)?.value,
  };
}

/** ISO form of UNIX seconds, as the tap emits time_finished. */
export const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');

export const groupKey = (r: { [field: string]: any }) =>
  `${String(r.user_id)}/${String(r.test_id)}/${String(r.group_id)}/${typeof r.time_started === 'number' ? iso(r.time_started) : String(r.time_started)}`;
