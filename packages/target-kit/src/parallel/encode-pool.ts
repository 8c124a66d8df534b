// Cuts the input into blocks of whole lines and hands large inputs' blocks to encode workers, giving them back in input order.
import { Worker } from 'node:worker_threads';
import { type LineBlock, readLineBlocks } from '@tapline/singer';
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

/**
 * Blocks read ahead of the loader (handed to workers, or encoded and waiting): enough to keep the
 * workers busy while a batch is written (~8 MB of input), few enough to keep memory flat.
 */
const BLOCKS_AHEAD = 8;

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
  private stopped = false;

  constructor(private readonly options: EncodePoolOptions) {}

  /** Tell the workers how a stream's records are encoded now (after its sink changed). */
  publish(snapshot: SinkSnapshot): void {
    if (this.options.workers === 0) return;
    this.snapshots.set(snapshot.stream, snapshot);
    for (const worker of this.workers) worker.postMessage({ type: 'layout', snapshot } satisfies ToWorker);
  }

  /**
   * The input as blocks in order. Reading and handing blocks to workers goes on while the loader
   * waits for the database (up to `BLOCKS_AHEAD` blocks not yet taken), so the workers never
   * wait for a batch to be written. Bytes that are not UTF-8 throw (a SingerInputError naming
   * the line) only after every block before them was yielded.
   */
  async *blocks(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<InputBlock, void, undefined> {
    const ahead: Promise<InputBlock>[] = [];
    const room = new Signal(); // the loader took a block
    const arrived = new Signal(); // the pump queued a block, or stopped
    let pumped = false;
    let inputFailure: { error: unknown } | null = null;
    const queue = (block: Promise<InputBlock>) => {
      ahead.push(block);
      arrived.wake();
    };
    const pump = async () => {
      let gathered: LineBlock[] = [];
      let gatheredBytes = 0;
      try {
        for await (const block of readLineBlocks(input)) {
          this.bytesSeen += block.bytes.length;
          if (!this.parallel()) {
            queue(Promise.resolve({ kind: 'inline', block, clock: this.clock(block) }));
          } else {
            gathered.push(block);
            gatheredBytes += block.bytes.length;
            if (gatheredBytes < this.options.blockBytes) continue;
            for (const piece of cut(joined(gathered), this.options.blockBytes)) queue(this.encode(piece));
            gathered = [];
            gatheredBytes = 0;
          }
          while (ahead.length >= this.aheadLimit() && !this.stopped) await room.wait();
          if (this.stopped) return;
        }
        if (gathered.length > 0) for (const piece of cut(joined(gathered), this.options.blockBytes)) queue(this.encode(piece));
      } catch (error) {
        inputFailure = { error };
      } finally {
        pumped = true;
        arrived.wake();
      }
    };
    const pumping = pump();
    try {
      for (;;) {
        const next = ahead.shift();
        if (next === undefined) {
          if (pumped) break;
          await arrived.wait();
          continue;
        }
        room.wake();
        yield await next;
      }
      await pumping;
      if (inputFailure !== null) throw (inputFailure as { error: unknown }).error;
    } finally {
      if (!pumped) {
        // The loader stopped early (an error): stop reading, or a tap that keeps its end of the
        // pipe open would keep this process waiting for input nobody will read.
        this.stopped = true;
        room.wake();
        (input as { destroy?: () => void }).destroy?.();
      }
    }
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0); // taken out first: their exit is no failure
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private aheadLimit(): number {
    return this.workers.length === 0 ? 1 : BLOCKS_AHEAD;
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
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker]!;
    this.nextWorker = (this.nextWorker + 1) % this.workers.length;
    const encoded = new Promise<EncodedBlock>((resolve, reject) => {
      if (this.failure !== null) return reject(this.failure);
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
      // A worker that fails is a bug (plain Error: the CLI exits 3 with the stack), not bad input.
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (code !== 0 && this.workers.includes(worker)) this.fail(new Error(`an encode worker stopped (exit code ${code})`));
      });
      for (const snapshot of this.snapshots.values()) worker.postMessage({ type: 'layout', snapshot } satisfies ToWorker);
      this.workers.push(worker);
    }
  }

  private received(message: BlockResult | WorkerFailure): void {
    if (message.type === 'failure') {
      this.fail(new Error(`an encode worker failed: ${message.message}`));
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

/** A wake-up call: `wait()` resolves at the next `wake()` (a `wake()` with nobody waiting is lost, so callers re-check their condition). */
class Signal {
  private waiting: (() => void) | null = null;

  wait(): Promise<void> {
    return new Promise<void>((resolve) => (this.waiting = resolve));
  }

  wake(): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.();
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
