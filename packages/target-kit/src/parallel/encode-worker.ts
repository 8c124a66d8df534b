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

function encodeBlock(block: Extract<ToWorker, { type: 'block' }>): { result: BlockResult; transfer: ArrayBuffer[] } {
  const bytes = Buffer.from(block.bytes.buffer, block.bytes.byteOffset, block.bytes.byteLength);
  const events: BlockEvent[] = [];
  const ranges: number[] = [];
  // Streams whose records go to the main thread for the rest of the block: a record failed (the
  // main thread will report it, or change the table and so the layout), or a new SCHEMA came.
  const heldBack = new Set<string>();
  let run: { kind: 'rows'; stream: string; version: number; count: number } | null = null; // the run of rows being counted
  const { receivedAt, baseSequence } = block.clock;

  const countRow = (stream: string, version: number, start: number, end: number) => {
    ranges.push(start, end);
    if (run !== null && run.stream === stream) run.count += 1;
    else {
      run = { kind: 'rows', stream, version, count: 1 };
      events.push(run);
    }
  };
  const lines = lineRanges({ bytes, firstLine: block.firstLine });
  for (let i = 0; i < lines.length; i += 3) {
    const start = lines[i]!;
    const end = lines[i + 1]!;
    const line = lines[i + 2]!;
    const sequence = baseSequence + (line - block.firstLine);
    if (sinks.size > 0 && scanner.readRecordHead(bytes, start, end)) {
      const stream = scanner.streamName();
      const sink = sinks.get(stream);
      if (sink !== undefined && !heldBack.has(stream) && sink.addPlainRecord(scanner, line, receivedAt, sequence)) {
        countRow(stream, sink.version, start, end);
        continue;
      }
    }
    const text = bytes.toString('utf8', start, end);
    if (!isBlank(text)) encodeLine(text, line, start, end, sequence);
  }

  function encodeLine(text: string, line: number, start: number, end: number, sequence: number): void {
    const toMain = () => {
      events.push({ kind: 'line', line, start, end });
      run = null;
    };
    let message: SingerMessage | null;
    try {
      message = parseMessage(text, line, parseOptions);
    } catch {
      toMain();
      return;
    }
    if (message === null) {
      toMain();
      return;
    }
    if (message.type !== 'RECORD') {
      if (message.type === 'SCHEMA' && !isIdenticalSchema(message.stream, message.schema, message.key_properties)) {
        heldBack.add(message.stream);
      }
      toMain();
      return;
    }
    const sink = sinks.get(message.stream);
    if (sink === undefined || heldBack.has(message.stream)) {
      toMain();
      return;
    }
    // A record that needs its table changed, or that fails, goes to the main thread, and the stream's later records with it (order).
    let stored: boolean;
    try {
      stored = sink.addRecord(message, line, receivedAt, sequence, hasNoEscapes(text)) === undefined;
    } catch {
      stored = false;
    }
    if (!stored) {
      heldBack.add(message.stream);
      toMain();
      return;
    }
    countRow(message.stream, sink.version, start, end);
  }

  const parts: Record<string, EncodedPart> = {};
  const transfer: ArrayBuffer[] = [block.bytes.buffer as ArrayBuffer];
  for (const [stream, sink] of sinks) {
    const taken = sink.takeEncoded();
    if (taken === null) continue;
    parts[stream] = taken.part;
    transfer.push(...taken.transfer);
  }
  const result: BlockResult = {
    type: 'result',
    id: block.id,
    bytes: block.bytes,
    events,
    parts,
    ranges: Int32Array.from(ranges),
    warnings,
  };
  warnings = [];
  return { result, transfer };
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
