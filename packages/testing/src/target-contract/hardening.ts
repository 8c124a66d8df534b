// Faults met in production (signals at the end, bytes that are not UTF-8, hostile STATEs, full disks): one sentence, the documented exit code, nothing committed lost.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runTargetCommand, type TargetHarness, type TargetPlace, type TargetRun } from './harness.js';
import { record, schema, state, text } from './lines.js';
import { pick } from './peer-files.js';

/** What the contract suite hands these cases (its per-test place and its load/reject helpers). */
export interface HardeningContext {
  readonly harness: TargetHarness;
  place(): TargetPlace;
  run(input: { text: string } | { stream: NodeJS.ReadableStream }, extra?: Record<string, unknown>): Promise<TargetRun>;
  load(input: { text: string }, extra?: Record<string, unknown>): Promise<TargetRun>;
  reject(input: { text: string } | { stream: NodeJS.ReadableStream }, pattern: RegExp, extra?: Record<string, unknown>): Promise<TargetRun>;
}

const integer = { type: 'integer' };

/** Input given as bytes (which need not be UTF-8), through a pipe that then closes. */
function bytesInput(...parts: (string | Buffer)[]): { stream: NodeJS.ReadableStream } {
  const stream = new PassThrough();
  stream.end(Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part))));
  return { stream };
}

/** The CRITICAL lines of a run's stderr. */
const criticalLines = (run: TargetRun) => run.stderr.split('\n').filter((line) => line.startsWith('CRITICAL '));

// Long on purpose: a list of test cases, each a few lines, read one case at a time like a specification.
export function defineHardeningCases(context: HardeningContext): void {
  const { load, reject } = context;
  const rows = (table: string, orderBy: readonly string[] = ['id']) => context.place().rows(table, orderBy);
  const ids = async (table: string) => (await rows(table)).map((row) => Number(row.id));

  describe('hardening: signals, bytes that are not UTF-8, hostile STATEs', () => {
    it('SIGTERM while the last batch is written, after the input ended (stdin a file or a pipe): exit 143 and one line; every state on stdout is committed', async () => {
      const count = 6_000;
      const lines = [schema('finishing', { id: integer, t: { type: 'string' } })];
      for (let id = 0; id < count; id++) lines.push(record('finishing', { id, t: `row ${id} `.padEnd(1_500, '.') }));
      // The STATE covers every row, so a signal a little earlier (before the end was read) commits the same.
      lines.push(state({ at: count }), schema('finishing_last', { id: integer }));
      const dir = await mkdtemp(join(tmpdir(), 'tapline-finishing-'));
      try {
        const file = join(dir, 'messages.jsonl');
        await writeFile(file, `${lines.join('\n')}\n`);
        for (const input of [{ stdinFile: file }, { file }]) {
          for (const table of ['finishing', 'finishing_last'])
            await context.place().execute(`DROP TABLE IF EXISTS ${context.place().qualify(table)}`);
          // One batch of every row, written at the end of input; the signal comes once the last line was read.
          const result = await runTargetCommand(
            context.place(),
            input,
            { batch_size_rows: 1_000_000, state_table: 'tapline_state' },
            { signal: 'SIGTERM', after: /created table \S*finishing_last/ },
          );
          expect(result.stderr, JSON.stringify(input)).not.toMatch(/\n\s+at |Unhandled/);
          expect(criticalLines(result)).toHaveLength(1);
          expect(criticalLines(result)[0]).toMatch(/^CRITICAL interrupted by SIGTERM /);
          expect(result.code).toBe(143);
          expect(result.states).toEqual([{ at: count }]);
          expect((await ids('finishing')).length).toBe(count);
          expect(pick(await rows('tapline_state'), ['id', 'value'])).toEqual([{ id: 'default', value: { at: count } }]);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }, 180_000);

    it('bytes that are not UTF-8 right after a STATE: that STATE is committed and echoed, as before a torn JSON line', async () => {
      const before = [schema('bytes', { id: integer }), record('bytes', { id: 1 }), state({ at: 1 })].join('\n');
      const badRecord = Buffer.concat([
        Buffer.from('\n{"type":"RECORD","stream":"bytes","record":{"id":2,"s":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}}\n'),
      ]);
      const result = await reject(bytesInput(before, badRecord), /^CRITICAL line 4: input is not valid UTF-8$/, {
        state_table: 'tapline_state',
      });
      expect(result.code).toBe(7);
      expect(result.states).toEqual([{ at: 1 }]);
      expect(await ids('bytes')).toEqual([1]);
      expect(pick(await rows('tapline_state'), ['id', 'value'])).toEqual([{ id: 'default', value: { at: 1 } }]);

      // The same place for a torn JSON line: the same outcome.
      const torn = await reject(text(before, record('bytes', { id: 3 }).slice(0, 20)), /^CRITICAL line 4/, {
        state_table: 'tapline_state',
      });
      expect(torn.states).toEqual([{ at: 1 }]);
    });
    it('a STATE nested deeper than 100 levels is refused in one sentence by line; the state before it is committed and echoed', async () => {
      const depth = 100_000; // built as text: JSON.stringify itself could not write it
      const deepState = `{"type":"STATE","value":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      const input = text(
        schema('deep_state', { id: integer }),
        record('deep_state', { id: 1 }),
        state({ at: 1 }),
        record('deep_state', { id: 2 }),
        deepState,
      );
      const result = await reject(input, /^CRITICAL line 5: the STATE value is nested 100000 levels deep .*at most 100 levels/, {
        state_table: 'tapline_state',
      });
      expect(result.code).toBe(7);
      expect(result.states).toEqual([{ at: 1 }]);
      expect(await ids('deep_state')).toEqual([1]);
      // 100 levels is within the bound.
      const hundred = JSON.parse(`{"a":${'['.repeat(99)}${']'.repeat(99)}}`) as unknown;
      expect((await load(text(state(hundred)), { state_table: 'tapline_state' })).states).toEqual([hundred]);
    });

    it('a 20 MB STATE is stored with its rows and read back by the next run; one beyond 32 MiB is refused in one sentence, the state before it committed', async () => {
      const pipeline = { state_table: 'tapline_state' };
      const big = { at: 1, partitions: 'p'.repeat(20_000_000) };
      const stored = await load(text(schema('big_state', { id: integer }), record('big_state', { id: 1 }), state(big)), pipeline);
      expect(stored.states).toEqual([big]);
      expect(await ids('big_state')).toEqual([1]);
      // The next run reads it back (a runner's expected_state), loads, and stores its own.
      const next = await load(text(schema('big_state', { id: integer }), record('big_state', { id: 2 }), state({ at: 2 })), {
        ...pipeline,
        expected_state: JSON.stringify(big),
      });
      expect(next.states).toEqual([{ at: 2 }]);
      expect(await ids('big_state')).toEqual([1, 2]);

      const huge = state({ at: 4, partitions: 'p'.repeat(33 * 2 ** 20) });
      const refused = await reject(
        text(schema('big_state', { id: integer }), record('big_state', { id: 3 }), state({ at: 3 }), record('big_state', { id: 4 }), huge),
        /^CRITICAL line 5: the STATE value is 33\.0 MiB of JSON; a state may be at most 32 MiB/,
        pipeline,
      );
      expect(refused.states).toEqual([{ at: 3 }]);
      expect(await ids('big_state')).toEqual([1, 2, 3]);
      expect(pick(await rows('tapline_state'), ['id', 'value'])).toEqual([{ id: 'default', value: { at: 3 } }]);
    }, 180_000);
    it('the sign of zero in one batch: -0 and 0 side by side keep their signs where the database stores them (PostgreSQL); DuckDB stores them as one zero, as its README says', async () => {
      const zeros = [-0, 0, -0, 0, 0, -0];
      const lines = [schema('zeros', { id: integer, f: { type: ['null', 'number'] } })];
      for (const [id, zero] of zeros.entries()) {
        lines.push(`{"type":"RECORD","stream":"zeros","record":{"id":${id},"f":${Object.is(zero, -0) ? '-0' : '0'}}}`);
      }
      await load(text(...lines));
      const loaded = (await rows('zeros')).map((row) => row.f as number);
      expect(loaded.every((value) => value === 0)).toBe(true);
      const signs = loaded.map((value) => (Object.is(value, -0) ? '-0' : '0'));
      if (context.harness.keepsSignOfZeroBesideZero) expect(signs).toEqual(zeros.map((zero) => (Object.is(zero, -0) ? '-0' : '0')));
      else expect(new Set(signs).size).toBe(1);
    });
  });
}
