// An encode worker: parses, validates and encodes the records of whole blocks of input, as the main thread's sinks would.
import { parentPort, workerData } from 'node:worker_threads';
import { isBlank, lineRanges, parseMessage, type SingerMessage, stringifyJson } from '@tapline/singer';
import type { RowEncoderFactory } from '../dialect.js';
import { hasNoEscapes } from '../encode.js';
import { LineScanner } from '../plain/scanner.js';
import { type EncodedPart, type SinkSettings, StreamSink } from '../sink.js';
import type { BlockEvent, BlockResult, ToWorker, WorkerFailure, WorkerSetup } from './protocol.js';

const setup = workerData as WorkerSetup;
const { rowEncoder } = (await import(setup.rowEncoderModule)) as { rowEncoder: RowEncoderFactory };
let warnings: string[] = [];
const settings: SinkSettings = {
  ...setup.settings,
  warn: (message) => warnings.push(message),
  rowEncoder,
};
const sinks = new Map<string, StreamSink>();
const scanner = new LineScanner();
// Unknown message types go back to the main thread as lines, which warns about them.
const parseOptions = { onWarning: () => {}, warnedTypes: new Set<string>() };

/** What one block's lines became, in order: runs of rows encoded here, and lines left to the main thread. */
class BlockTally {
  readonly events: BlockEvent[] = [];
  /** Start and end byte of each row encoded here. */
  readonly ranges: number[] = [];
  // Streams whose records go to the main thread for the rest of the block: a record failed (the
  // main thread will report it, or change the table and so the layout), or a new SCHEMA came.
  readonly heldBack = new Set<string>();
  /** The run of rows being counted. */
  private run: { kind: 'rows'; stream: string; version: number; count: number } | null = null;

  countRow(stream: string, version: number, start: number, end: number): void {
    this.ranges.push(start, end);
    if (this.run !== null && this.run.stream === stream) this.run.count += 1;
    else {
      this.run = { kind: 'rows', stream, version, count: 1 };
      this.events.push(this.run);
    }
  }

  toMain(line: number, start: number, end: number): void {
    this.events.push({ kind: 'line', line, start, end });
    this.run = null;
  }
}

function encodeBlock(block: Extract<ToWorker, { type: 'block' }>): { result: BlockResult; transfer: ArrayBuffer[] } {
  const bytes = Buffer.from(block.bytes.buffer, block.bytes.byteOffset, block.bytes.byteLength);
  const tally = new BlockTally();
  const { receivedAt, baseSequence } = block.clock;
  const lines = lineRanges({ bytes, firstLine: block.firstLine });
  for (let i = 0; i < lines.length; i += 3) {
    const start = lines[i]!;
    const end = lines[i + 1]!;
    const line = lines[i + 2]!;
    const sequence = baseSequence + (line - block.firstLine);
    // The fast path: a plain record read straight from the bytes, without parsing the line.
    if (sinks.size > 0 && scanner.readRecordHead(bytes, start, end)) {
      const stream = scanner.streamName();
      const sink = sinks.get(stream);
      if (sink !== undefined && !tally.heldBack.has(stream) && sink.addPlainRecord(scanner, line, receivedAt, sequence)) {
        tally.countRow(stream, sink.version, start, end);
        continue;
      }
    }
    const text = bytes.toString('utf8', start, end);
    if (!isBlank(text) && !encodeLine(tally, { text, line, start, end, receivedAt, sequence })) tally.toMain(line, start, end);
  }
  const { parts, transfer } = takeEncodedParts(block.bytes.buffer as ArrayBuffer);
  const result: BlockResult = {
    type: 'result',
    id: block.id,
    bytes: block.bytes,
    events: tally.events,
    parts,
    ranges: Int32Array.from(tally.ranges),
    warnings,
  };
  warnings = [];
  return { result, transfer };
}

interface BlockLine {
  text: string;
  line: number;
  start: number;
  end: number;
  receivedAt: string;
  sequence: number;
}

/** A line the fast path did not take, parsed: true when it was a record stored here, false to leave it to the main thread. */
function encodeLine(tally: BlockTally, { text, line, start, end, receivedAt, sequence }: BlockLine): boolean {
  let message: SingerMessage | null;
  try {
    message = parseMessage(text, line, parseOptions);
  } catch {
    message = null;
  }
  if (message === null) return false;
  if (message.type !== 'RECORD') {
    if (message.type === 'SCHEMA' && !isIdenticalSchema(message.stream, message.schema, message.key_properties)) {
      tally.heldBack.add(message.stream);
    }
    return false;
  }
  const sink = sinks.get(message.stream);
  if (sink === undefined || tally.heldBack.has(message.stream)) return false;
  // A record that needs its table changed, or that fails, goes to the main thread, and the stream's later records with it (order).
  let stored: boolean;
  try {
    stored = sink.addRecord(message, line, receivedAt, sequence, hasNoEscapes(text)) === undefined;
  } catch {
    stored = false;
  }
  if (!stored) {
    tally.heldBack.add(message.stream);
    return false;
  }
  tally.countRow(message.stream, sink.version, start, end);
  return true;
}

/** Each stream's rows encoded in this block, and the buffers to move (not copy) to the main thread with them. */
function takeEncodedParts(blockBuffer: ArrayBuffer): { parts: Record<string, EncodedPart>; transfer: ArrayBuffer[] } {
  const parts: Record<string, EncodedPart> = {};
  const transfer: ArrayBuffer[] = [blockBuffer];
  for (const [stream, sink] of sinks) {
    const taken = sink.takeEncoded();
    if (taken === null) continue;
    parts[stream] = taken.part;
    transfer.push(...taken.transfer);
  }
  return { parts, transfer };
}

/** A repeated SCHEMA the main thread will skip (same schema and keys): the stream's records stay here. */
function isIdenticalSchema(stream: string, schema: unknown, keyProperties: readonly string[] | undefined): boolean {
  const sink = sinks.get(stream);
  return sink !== undefined && sink.schemaSignature === stringifyJson([schema, keyProperties ?? []]);
}

parentPort!.on('message', (message: ToWorker) => {
  try {
    if (message.type === 'layout') {
      sinks.set(message.snapshot.stream, StreamSink.fromSnapshot(message.snapshot, settings));
      return;
    }
    const { result, transfer } = encodeBlock(message);
    parentPort!.postMessage(result, transfer);
  } catch (error) {
    const failure: WorkerFailure = { type: 'failure', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    parentPort!.postMessage(failure);
  }
});
