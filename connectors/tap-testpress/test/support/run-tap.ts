// Runs tap-testpress's CLI in-process with captured output, config written to a temp file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runTapCli } from '@tapline/tap-kit';
import { tap } from '../../src/index.js';

export interface TapRun {
  code: number;
  stdout: string;
  stderr: string;
  messages: Array<Record<string, any>>;
}

const dir = mkdtempSync(join(tmpdir(), 'tap-testpress-test-'));
let files = 0;

/** Writes a JSON file for --config / --state / --catalog and returns its path. */
export function jsonFile(value: unknown): string {
  const path = join(dir, `file-${++files}.json`);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

export async function runTap(argv: string[]): Promise<TapRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  const code = await runTapCli(tap, argv, { stdout, stderr, env: {} });
  // Singer output is one JSON object per line; --discover and --about print indented JSON instead.
  const messages = out
    .split('\n')
    .filter((line) => line.startsWith('{"type"'))
    .map((line) => JSON.parse(line));
  return { code, stdout: out, stderr: err, messages };
}

export const recordsOf = (run: TapRun, stream: string) =>
  run.messages.filter((m) => m.type === 'RECORD' && m.stream === stream).map((m) => m.record);
