// `tap-x replay-rejects --file rows.jsonl`: reads rows of _sdc_rejected_records again, with this version
// of the tap, and writes the records it now reads as Singer messages, for the target to load.
import { readFileSync } from 'node:fs';
import { formatMessage, parseJson, type SingerMessage } from '@tapline/singer';
import type { z } from 'zod';
import type { Context, StreamDefinition, Subcommand, SubcommandContext, TapDefinition } from './declare.js';
import { TapError, UsageError } from './errors.js';
import { REJECTS_STREAM, RecordReader, streamJsonSchema } from './record-reader.js';

/** One row as exported from the table (JSON lines); `partition` may come as an object or as JSON text. */
interface RejectRow {
  reject_id?: unknown;
  stream?: unknown;
  partition?: unknown;
  record_json?: unknown;
}

const builtIn = new WeakSet<object>();

/** Whether a subcommand is the kit's own (so `defineTap({ ...otherTap })` builds its own instead). */
export function isBuiltInSubcommand(subcommand: object): boolean {
  return builtIn.has(subcommand);
}

/** The built-in subcommand every tap has. */
export function replayRejectsCommand<TConfig>(tap: () => TapDefinition<TConfig>): Subcommand<TConfig> {
  const command: Subcommand<TConfig> = {
    description: `read rows of ${REJECTS_STREAM} (JSON lines) again and write the records this version reads`,
    usage: '--config FILE --file ROWS.jsonl',
    run: async (ctx) => {
      const file = ctx.flags.file;
      if (file === undefined || file === 'true')
        throw new UsageError('replay-rejects needs --file ROWS.jsonl (rows of _sdc_rejected_records, one JSON object a line).');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new TapError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, 'config');
      }
      await replayRejects(tap(), text, ctx);
    },
  };
  builtIn.add(command);
  return command;
}

/**
 * Each row's `record_json` goes through its stream's transform and schema as if just read in its
 * partition. Records that read are written (SCHEMA first, then RECORD with `_sdc_extra` as usual);
 * no STATE is written, so bookmarks are untouched. Rows that still cannot be read are named, and the
 * command then fails (exit 1) after writing the others.
 */
export async function replayRejects<TConfig>(tap: TapDefinition<TConfig>, text: string, ctx: SubcommandContext<TConfig>): Promise<void> {
  const write = (message: SingerMessage) => void ctx.stdout.write(`${formatMessage(message)}\n`);
  const readers = new Map<string, RecordReader>();
  const now = new Date().toISOString();
  let replayed = 0;
  const unread: string[] = [];
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  for (const [index, line] of lines.entries()) {
    const where = `line ${index + 1}`;
    const row = parseRow(line, where);
    const def = tap.streams.find((stream) => stream.name === row.stream) as StreamDefinition<z.ZodObject, unknown> | undefined;
    if (def === undefined) throw new TapError(`${where}: stream ${JSON.stringify(row.stream)} is not a stream of ${tap.name}.`, 'config');
    let reader = readers.get(def.name);
    if (reader === undefined) {
      reader = new RecordReader(def, ctx.log);
      readers.set(def.name, reader);
      write({ type: 'SCHEMA', stream: def.name, schema: streamJsonSchema(def), key_properties: [...def.key] } as SingerMessage);
    }
    const streamCtx = {
      stream: def.name,
      config: ctx.config,
      http: ctx.http,
      log: ctx.log,
      context: row.partition,
      start: undefined,
      signal: new AbortController().signal,
    };
    const read = reader.read(row.record, streamCtx, now);
    if (read.kind === 'record') {
      write({ type: 'RECORD', stream: def.name, record: read.record, time_extracted: now } as SingerMessage);
      replayed += 1;
    } else if (read.kind === 'rejected') {
      unread.push(`${where} (${def.name}): ${read.reject.reason}`);
    }
  }
  ctx.log.info(
    `replay-rejects: ${replayed} of ${lines.length} records read and written; delete their rows from ${REJECTS_STREAM} once they are loaded.`,
  );
  if (unread.length > 0)
    throw new TapError(`${unread.length} of ${lines.length} records still cannot be read: ${unread.join('; ')}.`, 'system');
}

function parseRow(line: string, where: string): { stream: string; partition: Context; record: unknown } {
  let row: RejectRow;
  try {
    row = JSON.parse(line) as RejectRow;
  } catch {
    throw new TapError(`${where} is not JSON: ${line.slice(0, 80)}`, 'config');
  }
  if (typeof row !== 'object' || row === null || typeof row.stream !== 'string' || typeof row.record_json !== 'string') {
    throw new TapError(`${where} is not a row of ${REJECTS_STREAM} (it needs "stream" and "record_json").`, 'config');
  }
  const partition = typeof row.partition === 'string' ? JSON.parse(row.partition) : (row.partition ?? {});
  let record: unknown;
  try {
    record = parseJson(row.record_json); // lossless, as the tap read it from the vendor
  } catch {
    throw new TapError(`${where}: record_json is not JSON.`, 'config');
  }
  return { stream: row.stream, partition: (partition ?? {}) as Context, record };
}
