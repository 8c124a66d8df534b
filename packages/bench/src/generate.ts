// Deterministic generator of the benchmark's Singer stream: one keyed stream of exam results.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

export const BENCH_STREAM = 'exam_results';

/** The JSON Schema every generated record satisfies (sent once, in the SCHEMA message). */
export const benchSchema = {
  type: 'object',
  properties: {
    result_id: { type: 'integer' },
    exam_id: { type: 'integer' },
    user_id: { type: 'integer' },
    user_name: { type: 'string' },
    email: { type: ['string', 'null'] },
    score: { type: 'number' },
    percentage: { type: ['number', 'null'] },
    passed: { type: 'boolean' },
    attempt: { type: 'integer' },
    started_at: { type: 'string', format: 'date-time' },
    finished_at: { type: ['string', 'null'], format: 'date-time' },
    duration_seconds: { type: ['integer', 'null'] },
    ip_address: { type: 'string' },
    feedback: { type: ['string', 'null'] },
    details: {
      type: 'object',
      properties: {
        section: { type: 'string' },
        answers: { type: 'array', items: { type: 'integer' } },
        proctored: { type: 'boolean' },
      },
    },
  },
} as const;

export const benchKeyProperties = ['result_id'];

/** mulberry32: a tiny seeded PRNG, so every run writes byte-identical input. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Amara', 'Bjørn', 'Chen', 'Dolores', 'Émile', 'Fatima', 'Grzegorz', 'Hiroshi', 'Ines', 'José'];
const LAST = ['Okafor', 'Lindqvist', 'Wang', 'Haze', 'Zola', 'Rahman', 'Brzęczyszczykiewicz', 'Tanaka', 'García'];
const SECTIONS = ['algebra', 'geometry', 'reading comprehension', 'organic chemistry', 'world history'];
const FEEDBACK = ['Good work; revisit question 7 before the retake.', 'Excellent — top decile. Keep it up!', 'Several answers left blank.'];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** An ISO 8601 timestamp with a non-UTC offset and milliseconds, as vendors send them. */
function timestamp(epochMs: number, offsetMinutes: number): string {
  const d = new Date(epochMs + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** The record with key `i` (1-based); a pure function of `i`. */
export function benchRecord(i: number): Record<string, unknown> {
  const r = prng(i * 2654435761);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const first = pick(FIRST);
  const last = pick(LAST);
  const started = Date.UTC(2023, 0, 1) + Math.floor(r() * 700 * 86_400_000);
  const duration = 600 + Math.floor(r() * 5400);
  const offset = pick([0, 60, 120, 330, -300, -480]);
  const finished = r() < 0.9;
  const score = Math.round(r() * 10000) / 100;
  const answers = Array.from({ length: 4 + Math.floor(r() * 6) }, () => Math.floor(r() * 5));
  return {
    result_id: i,
    exam_id: 1000 + Math.floor(r() * 500),
    user_id: 100000 + Math.floor(r() * 900000),
    user_name: `${first} ${last}`,
    email: r() < 0.95 ? `${first.toLowerCase()}.${i}@uni.edu` : null,
    score,
    percentage: r() < 0.97 ? score : null,
    passed: score >= 50,
    attempt: 1 + Math.floor(r() * 3),
    started_at: timestamp(started, offset),
    finished_at: finished ? timestamp(started + duration * 1000, offset) : null,
    duration_seconds: finished ? duration : null,
    ip_address: `10.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`,
    feedback: r() < 0.4 ? pick(FEEDBACK) : null,
    details: { section: pick(SECTIONS), answers, proctored: r() < 0.5 },
  };
}

export interface GeneratedInput {
  path: string;
  rows: number;
  bytes: number;
}

/** Writes SCHEMA, `rows` RECORDs and a STATE every `stateEvery` records to `path`. */
export async function writeBenchInput(path: string, rows: number, stateEvery = 50_000): Promise<GeneratedInput> {
  const out = createWriteStream(path);
  let bytes = 0;
  let buffer = '';
  const write = async (line: string) => {
    buffer += `${line}\n`;
    if (buffer.length > 1 << 20) {
      bytes += Buffer.byteLength(buffer);
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  };
  await write(JSON.stringify({ type: 'SCHEMA', stream: BENCH_STREAM, schema: benchSchema, key_properties: benchKeyProperties }));
  const extracted = '2025-01-15T08:00:00Z';
  for (let i = 1; i <= rows; i++) {
    await write(JSON.stringify({ type: 'RECORD', stream: BENCH_STREAM, record: benchRecord(i), time_extracted: extracted }));
    if (i % stateEvery === 0 || i === rows) {
      await write(JSON.stringify({ type: 'STATE', value: { bookmarks: { [BENCH_STREAM]: { result_id: i } } } }));
    }
  }
  bytes += Buffer.byteLength(buffer);
  out.end(buffer);
  await once(out, 'finish');
  return { path, rows, bytes };
}
