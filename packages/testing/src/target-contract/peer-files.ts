// Where the third-party peer-test streams live, and small readers for what a file sends.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Where the third-party Singer streams are read in place (never copied into the repo). */
export const PEER_TESTS_DIR = process.env.PEER_TESTS_DIR ?? resolve(repoRoot, '../shared/peer-tests');

export const peer = (path: string): string => resolve(PEER_TESTS_DIR, path);

/** One parsed line of a Singer stream, loosely typed (the files are third-party). */
export interface SentMessage {
  type: string;
  stream?: string;
  record?: Record<string, unknown>;
  schema?: { properties?: Record<string, { format?: string }> };
  value?: unknown;
  version?: number;
}

/** Every non-blank line of a JSONL file, parsed. */
export function messagesIn(file: string): SentMessage[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as SentMessage);
}

/** Records of a stream as sent, in input order (for exact round-trip checks). */
export function recordsIn(file: string, stream: string): Record<string, unknown>[] {
  return messagesIn(file)
    .filter((message) => message.type === 'RECORD' && message.stream === stream)
    .map((message) => message.record!);
}

/** Keep only `keys` of each row (row checks ignore `_sdc_*` and columns not named). */
export function pick(rows: Record<string, unknown>[], keys: readonly string[]): Record<string, unknown>[] {
  return rows.map((row) => Object.fromEntries(keys.map((key) => [key, row[key]])));
}
