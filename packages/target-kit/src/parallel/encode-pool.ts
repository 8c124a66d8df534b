// Cuts the input into blocks of whole lines and hands large inputs' blocks to encode workers, giving them back in input order.
import { Worker } from 'node:worker_threads';
import { readLineBlocks, type LineBlock } from '@tapline/singer';
import { LoadError } from '../errors.js';
import type { SinkSnapshot } from '../sink.js';
import type { BlockClock, BlockResult, ToWorker, WorkerFailure, WorkerSetup } from './protocol.js';

/** A block the main thread parses itself (small inputs, and any input without workers). */
export interface InlineBlock {
  readonly kind: 'inline';
  readonly block: LineBlock;
  readonly clock: BlockClock;
}

/** A block a worker parsed and encoded. */
export interface EncodedBlock {
  readonly kind: 'encoded';
  readonly block: LineBlock;
  readonly clock: BlockClock;
  readonly result: BlockResult;
}

export type InputBlock = InlineBlock | EncodedBlock;

export interface EncodePoolOptions {
  /** Worker threads (0: every block is inline). */
  readonly workers: number;
  /** Input read on the main thread before workers start: a small load never pays for starting them. */
  readonly startAfterBytes: number;
  /**
   * Input per block handed to a worker (whole lines, so a block may be longer): big enough that
   * messaging costs little, small enough to keep every worker busy. Tests use 1 (a line each).
   */
  readonly blockBytes: number;
  readonly setup: WorkerSetup;
}

/** Blocks handed to each worker ahead of the loader. */
const AHEAD_PER_WORKER = 2;

interface Waiting {
  readonly block: LineBlock;
  readonly clock: BlockClock;
  resolve(item: EncodedBlock): void;
  reject(error: unknown): void;
}

export class EncodePool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, Waiting>();
  /** The newest snapshot of every stream, for workers and for workers started later. */
  private readonly snapshots = new Map<string, SinkSnapshot>();
  private nextId = 0;
  private nextWorker = 0;
  private bytesSeen = 0;
  private lastClock: { baseSequence: number; lines: number } = { baseSequence: 0, lines: 0 };
  private failure: Error | null = null;

  constructor(private readonly options: EncodePoolOptions) {}

  /** Tell the workers how a stream's records are encoded now (after its sink changed). */
  publish(snapshot: SinkSnapshot): void {
    if (this.options.workers === 0) return;
    this.snapshots.set(snapshot.stream, snapshot);
    for (const worker of this.workers) worker.postMessage({ type: 'layout', snapshot } satisfies ToWorker);
  }

  /**
   * The input as blocks in order. Bytes that are not UTF-8 throw (a SingerInputError naming the
   * line) only after every block before them was yielded.
   */
  async *blocks(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<InputBlock, void, undefined> {
    const source = readLineBlocks(input)[Symbol.asyncIterator]();
    const ahead: Promise<InputBlock>[] = [];
    let gathered: LineBlock[] = [];
    let gatheredBytes = 0;
    let ended = false;
    let inputFailure: { error: unknown } | null = null;
    for (;;) {
      while (!ended && ahead.length < this.aheadLimit()) {
        let step: IteratorResult<LineBlock>;
        try {
          step = await source.next();
        } catch (error) {
          inputFailure = { error };
          ended = true;
          break;
        }
        if (step.done) {
          ended = true;
          break;
        }
        this.bytesSeen += step.value.bytes.length;
        if (!this.parallel()) {
          ahead.push(Promise.resolve({ kind: 'inline', block: step.value, clock: this.clock(step.value) }));
          continue;
        }
        gathered.push(step.value);
        gatheredBytes += step.value.bytes.length;
        if (gatheredBytes >= this.options.blockBytes) {
          for (const piece of cut(joined(gathered), this.options.blockBytes)) ahead.push(this.encode(piece));
          gathered = [];
          gatheredBytes = 0;
        }
      }
      if (ended && gathered.length > 0) {
        for (const piece of cut(joined(gathered), this.options.blockBytes)) ahead.push(this.encode(piece));
        gathered = [];
      }
      const next = ahead.shift();
      if (next === undefined) break;
      yield await next;
    }
    if (inputFailure !== null) throw inputFailure.error;
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0); // taken out first: their exit is no failure
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private aheadLimit(): number {
    return this.workers.length === 0 ? 1 : this.workers.length * AHEAD_PER_WORKER;
  }

  private parallel(): boolean {
    if (this.options.workers === 0 || this.bytesSeen < this.options.startAfterBytes) return false;
    if (this.workers.length === 0) this.start();
    return true;
  }

  /**
   * Every record of a block shares when it was received; `_sdc_sequence` counts up from a
   * microsecond clock by input line, so it increases through the input wherever a record is encoded.
   */
  private clock(block: LineBlock): BlockClock {
    const now = Date.now();
    const baseSequence = Math.max(now * 1000, this.lastClock.baseSequence + this.lastClock.lines);
    this.lastClock = { baseSequence, lines: block.lines };
    return { receivedAt: new Date(now).toISOString(), baseSequence };
  }

  private encode(block: LineBlock): Promise<EncodedBlock> {
    const clock = this.clock(block);
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker]!;
    this.nextWorker = (this.nextWorker + 1) % this.workers.length;
    const encoded = new Promise<EncodedBlock>((resolve, reject) => {
      this.waiting.set(id, { block, clock, resolve, reject });
      const message: ToWorker = { type: 'block', id, bytes: block.bytes, firstLine: block.firstLine, clock };
      worker.postMessage(message, [block.bytes.buffer as ArrayBuffer]);
    });
    // A loader that stopped early (bad input) never awaits the blocks it had asked for.
    encoded.catch(() => {});
    return encoded;
  }

  private start(): void {
    const url = new URL('./encode-worker.js', import.meta.url);
    for (let i = 0; i < this.options.workers; i++) {
      const worker = new Worker(url, { workerData: this.options.setup });
      worker.on('message', (message: BlockResult | WorkerFailure) => this.received(message));
      worker.on('error', (error) => this.fail(new LoadError(`an encode worker failed: ${error.message}`)));
      worker.on('exit', (code) => {
        if (code !== 0 && this.workers.includes(worker)) this.fail(new LoadError(`an encode worker stopped (exit code ${code})`));
      });
      for (const snapshot of this.snapshots.values()) worker.postMessage({ type: 'layout', snapshot } satisfies ToWorker);
      this.workers.push(worker);
    }
  }

  private received(message: BlockResult | WorkerFailure): void {
    if (message.type === 'failure') {
      this.fail(new LoadError(`an encode worker failed: ${message.message}`));
      return;
    }
    const waiting = this.waiting.get(message.id);
    if (waiting === undefined) return;
    this.waiting.delete(message.id);
    const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
    waiting.resolve({ kind: 'encoded', block: { ...waiting.block, bytes }, clock: waiting.clock, result: message });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}

/**
 * A block as pieces of at least `size` bytes of whole lines (the last piece may be shorter), each
 * in memory of its own; a block shorter than two pieces stays whole (the usual case: no copy).
 */
function cut(block: LineBlock, size: number): LineBlock[] {
  if (block.bytes.length < 2 * size) return [block];
  const pieces: LineBlock[] = [];
  let start = 0;
  let firstLine = block.firstLine;
  while (start < block.bytes.length) {
    let end = block.bytes.length;
    let lines = block.firstLine + block.lines - firstLine;
    if (block.bytes.length - start >= 2 * size) {
      const newline = block.bytes.indexOf(10, start + size - 1);
      if (newline !== -1 && newline + 1 < block.bytes.length) {
        end = newline + 1;
        lines = 0;
        for (let at = block.bytes.indexOf(10, start); at !== -1 && at < end; at = block.bytes.indexOf(10, at + 1)) lines++;
      }
    }
    pieces.push(joined([{ bytes: block.bytes.subarray(start, end), firstLine, lines }]));
    firstLine += lines;
    start = end;
  }
  return pieces;
}

/** Blocks as one, in memory of its own (it is transferred to a worker, which must not take a shared pool with it). */
function joined(blocks: readonly LineBlock[]): LineBlock {
  const length = blocks.reduce((sum, block) => sum + block.bytes.length, 0);
  const bytes = Buffer.allocUnsafeSlow(length);
  let at = 0;
  for (const block of blocks) {
    block.bytes.copy(bytes, at);
    at += block.bytes.length;
  }
  return { bytes, firstLine: blocks[0]!.firstLine, lines: blocks.reduce((sum, block) => sum + block.lines, 0) };
}
