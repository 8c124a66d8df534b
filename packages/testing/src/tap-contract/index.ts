// The tap contract suite: the checks every Tapline tap passes, registered under vitest in one line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRecordValidator, type JsonSchema, parseCatalog, parseMessage, type SingerMessage } from '@tapline/singer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTap, type TapRun, type TapUnderTest } from '../run-tap.js';
import { undescribedFields } from './descriptions.js';
import { peerSchemaProblems } from './schema-forms.js';

export type { TapRun, TapUnderTest } from '../run-tap.js';
export { runTap } from '../run-tap.js';
export { undescribedFields } from './descriptions.js';
export { peerSchemaProblems } from './schema-forms.js';

export interface ContractSimulator {
  /** A ready-to-use tap config pointing at the simulator. */
  config: Record<string, unknown>;
  close(): Promise<void>;
}

export type TapContractOptions = TapUnderTest & {
  /** Starts the provider's simulator (a real HTTP server on 127.0.0.1); closed after the suite. */
  startSimulator: () => Promise<ContractSimulator>;
  /** Extra config merged over the simulator's. */
  config?: Record<string, unknown>;
  /** Suite title; default "tap contract". */
  name?: string;
  /** Streams allowed to return no records in the full sync (every other stream must return some). */
  streamsWithoutRecords?: readonly string[];
  /**
   * How far before its bookmark a stream may re-read on the second run (its declared lookback), in
   * milliseconds for date-time cursors or units for numeric ones. Default 0: only records at the
   * bookmark value itself may come again.
   */
  overlap?: Readonly<Record<string, number>>;
  /** Per-test timeout in ms; default 60 s. */
  timeoutMs?: number;
};

/** Parsed output of one sync. */
interface SyncOutput {
  run: TapRun;
  messages: SingerMessage[];
  finalState: unknown;
}

function parseOutput(run: TapRun): SyncOutput {
  const lines = run.stdout.split('\n').filter((line) => line !== '');
  const messages = lines.map((line, index) => {
    try {
      const message = parseMessage(line, index + 1);
      if (message === null) throw new Error('unknown message type');
      return message;
    } catch (error) {
      throw new Error(`stdout line ${index + 1} is not a Singer message (${(error as Error).message}): ${line.slice(0, 200)}`);
    }
  });
  const states = messages.filter((m) => m.type === 'STATE');
  return { run, messages, finalState: states.at(-1)?.value };
}

function cursorOrder(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const left = Date.parse(String(a));
  const right = Date.parse(String(b));
  if (!Number.isNaN(left) && !Number.isNaN(right)) return left - right;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

interface Bookmark {
  context?: Record<string, unknown>;
  replication_key?: string;
  replication_key_value?: unknown;
}

function bookmarksOf(state: unknown, stream: string): Bookmark[] {
  const entry = (state as { bookmarks?: Record<string, Bookmark & { partitions?: Bookmark[] }> } | undefined)?.bookmarks?.[stream];
  if (!entry) return [];
  return Array.isArray(entry.partitions) ? entry.partitions : [entry];
}

/**
 * Registers the shared tap contract under vitest:
 * `defineTapContract({ tap, startSimulator: () => startClassMarkerSimulator() })`.
 */
// Long on purpose: a list of test cases, each a few lines, read one case at a time like a specification.
export function defineTapContract(options: TapContractOptions): void {
  const timeout = options.timeoutMs ?? 60_000;
  const target: TapUnderTest = 'tap' in options ? { tap: options.tap } : { bin: options.bin };
  let simulator: ContractSimulator | undefined;
  let dir = '';
  let configFile = '';
  let first: SyncOutput | undefined;
  let catalog: ReturnType<typeof parseCatalog> | undefined;

  const sync = async (extra: string[] = []): Promise<SyncOutput> => {
    const run = await runTap(target, ['--config', configFile, ...extra]);
    if (run.code !== 0) throw new Error(`the tap exited ${run.code}:\n${run.stderr.slice(-2000)}`);
    return parseOutput(run);
  };
  const firstSync = async () => (first ??= await sync());
  /** The `--discover` catalog, read once for the tests that only look at it. */
  const discover = async () => {
    if (catalog !== undefined) return catalog;
    const run = await runTap(target, ['--discover', '--config', configFile]);
    if (run.code !== 0) throw new Error(`--discover exited ${run.code}:\n${run.stderr.slice(-2000)}`);
    catalog = parseCatalog(JSON.parse(run.stdout), '--discover output');
    return catalog;
  };

  describe(options.name ?? 'tap contract', () => {
    beforeAll(async () => {
      simulator = await options.startSimulator();
      dir = mkdtempSync(join(tmpdir(), 'tap-contract-'));
      configFile = join(dir, 'config.json');
      writeFileSync(configFile, JSON.stringify({ ...simulator.config, ...options.config }));
    }, timeout);

    afterAll(async () => {
      await simulator?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it(
      'describes itself with --about --format json',
      async () => {
        const run = await runTap(target, ['--about', '--format', 'json']);
        expect(run.code).toBe(0);
        const about = JSON.parse(run.stdout) as Record<string, unknown>;
        expect(typeof about.name).toBe('string');
        expect(typeof about.version).toBe('string');
        expect(about.capabilities).toEqual(expect.arrayContaining(['discover', 'catalog', 'state']));
        expect((about.settings as { properties?: unknown }).properties).toBeTypeOf('object');
      },
      timeout,
    );

    it(
      'discovers a valid catalog: JSON Schema per stream, key and cursor in the schema',
      async () => {
        const catalog = await discover();
        expect(catalog.streams.length).toBeGreaterThan(0);
        for (const entry of catalog.streams) {
          const properties = entry.schema.properties as Record<string, unknown> | undefined;
          expect(entry.schema.type, `${entry.tap_stream_id} schema type`).toBe('object');
          expect(properties, `${entry.tap_stream_id} schema properties`).toBeTypeOf('object');
          compileRecordValidator(entry.schema); // throws on an invalid schema
          for (const key of entry.key_properties ?? [])
            expect(Object.keys(properties!), `${entry.tap_stream_id} key ${key}`).toContain(key);
          if (entry.replication_key) expect(Object.keys(properties!), `${entry.tap_stream_id} cursor`).toContain(entry.replication_key);
        }
      },
      timeout,
    );

    it(
      'emits JSON Schema every peer target reads: a type everywhere, nullable as a type list, anyOf only where nothing else says it',
      async () => {
        const problems = (await discover()).streams.flatMap((entry) =>
          peerSchemaProblems(entry.schema).map((p) => `catalog ${entry.tap_stream_id} ${p}`),
        );
        for (const message of (await firstSync()).messages) {
          if (message.type === 'SCHEMA')
            problems.push(...peerSchemaProblems(message.schema as JsonSchema).map((p) => `SCHEMA ${message.stream} ${p}`));
        }
        expect([...new Set(problems)]).toEqual([]);
      },
      timeout,
    );

    it(
      'describes every stream and every field: targets write the descriptions as table and column comments',
      async () => {
        const gaps = (await discover()).streams.flatMap((entry) =>
          undescribedFields(entry.schema).map((gap) => `${entry.tap_stream_id} ${gap}`),
        );
        expect(gaps).toEqual([]);
      },
      timeout,
    );

    it(
      'syncs: stdout is only Singer messages, every RECORD matches its SCHEMA, keys unique and non-null',
      async () => {
        const output = await firstSync();
        const schemas = new Map<string, { validate: ReturnType<typeof compileRecordValidator>; key: string[] }>();
        const seenKeys = new Map<string, Set<string>>();
        const counts = new Map<string, number>();
        for (const message of output.messages) {
          if (message.type === 'SCHEMA') {
            schemas.set(message.stream, {
              validate: compileRecordValidator(message.schema as JsonSchema),
              key: message.key_properties ?? [],
            });
          } else if (message.type === 'RECORD') {
            const schema = schemas.get(message.stream);
            expect(schema, `RECORD for ${message.stream} before its SCHEMA`).toBeDefined();
            const problem = schema!.validate(message.record);
            expect(problem, `${message.stream} record ${JSON.stringify(message.record).slice(0, 300)}`).toBeNull();
            const keyValues = schema!.key.map((k) => message.record[k]);
            expect(
              keyValues.every((v) => v !== null && v !== undefined),
              `${message.stream} key ${schema!.key} is null`,
            ).toBe(true);
            const id = JSON.stringify(keyValues);
            const seen = seenKeys.get(message.stream) ?? new Set();
            if (schema!.key.length > 0) expect(seen.has(id), `${message.stream} key ${id} emitted twice`).toBe(false);
            seen.add(id);
            seenKeys.set(message.stream, seen);
            counts.set(message.stream, (counts.get(message.stream) ?? 0) + 1);
          } else if (message.type === 'STATE') {
            expect(message.value, 'STATE value').toBeTypeOf('object');
            expect((message.value as { bookmarks?: unknown }).bookmarks, 'STATE bookmarks').toBeTypeOf('object');
          }
        }
        expect(output.messages.at(-1)?.type, 'the last message is a STATE').toBe('STATE');
        // A simulator serves what the tap reads: a record set aside as unreadable is a declaration to fix.
        const rejected = output.messages.flatMap((m) =>
          m.type === 'RECORD' && m.stream === '_sdc_rejected_records' ? [`${String(m.record.stream)}: ${String(m.record.reason)}`] : [],
        );
        expect(rejected, 'records set aside in _sdc_rejected_records').toEqual([]);
        const quiet = new Set(options.streamsWithoutRecords ?? []);
        for (const stream of schemas.keys()) {
          if (!quiet.has(stream)) expect(counts.get(stream) ?? 0, `${stream} returned no records`).toBeGreaterThan(0);
        }
        expect(output.run.stderr).not.toMatch(/^CRITICAL/m);
      },
      timeout,
    );

    it(
      'round-trips state: a second run from the final state re-emits nothing before its bookmarks',
      async () => {
        const output = await firstSync();
        const stateFile = join(dir, 'state.json');
        writeFileSync(stateFile, JSON.stringify(output.finalState ?? {}));
        const second = await sync(['--state', stateFile]);
        const cursors = new Map<string, string>();
        for (const message of second.messages)
          if (message.type === 'SCHEMA' && message.bookmark_properties?.[0]) cursors.set(message.stream, message.bookmark_properties[0]);
        for (const message of second.messages) {
          if (message.type !== 'RECORD' || !cursors.has(message.stream)) continue;
          const cursor = cursors.get(message.stream)!;
          const bookmarks = bookmarksOf(output.finalState, message.stream).filter((b) => b.replication_key === cursor);
          if (bookmarks.length === 0) continue;
          // The partition whose context matches the record, else the earliest bookmark of the stream.
          const own = bookmarks.find((b) => b.context && Object.entries(b.context).every(([k, v]) => message.record[k] === v));
          const floor = own ?? bookmarks.reduce((a, b) => (cursorOrder(a.replication_key_value, b.replication_key_value) <= 0 ? a : b));
          const value = message.record[cursor];
          const overlap = options.overlap?.[message.stream] ?? 0;
          const bound =
            typeof floor.replication_key_value === 'number'
              ? floor.replication_key_value - overlap
              : new Date(Date.parse(String(floor.replication_key_value)) - overlap).toISOString();
          expect(
            cursorOrder(value, bound),
            `${message.stream} re-emitted ${cursor}=${String(value)} before its bookmark ${String(floor.replication_key_value)}`,
          ).toBeGreaterThanOrEqual(0);
        }
        // Bookmarks never move backwards.
        for (const stream of cursors.keys()) {
          for (const before of bookmarksOf(output.finalState, stream)) {
            const after = bookmarksOf(second.finalState, stream).find(
              (b) => JSON.stringify(b.context ?? null) === JSON.stringify(before.context ?? null),
            );
            if (before.replication_key_value !== undefined) {
              expect(after?.replication_key_value, `${stream} lost its bookmark`).toBeDefined();
              expect(
                cursorOrder(after!.replication_key_value, before.replication_key_value),
                `${stream} bookmark moved back`,
              ).toBeGreaterThanOrEqual(0);
            }
          }
        }
      },
      timeout * 2,
    );
  });
}
