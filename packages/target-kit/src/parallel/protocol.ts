// The messages between the loader and its encode workers (plain data: structured clone and transferred memory).
import type { EncodedPart, SinkSettings, SinkSnapshot } from '../sink.js';

/** The sink settings a worker needs: SinkSettings without its functions (the worker has its own). */
export type WorkerSinkSettings = Omit<SinkSettings, 'warn' | 'rowEncoder'>;

/** `workerData` of an encode worker. */
export interface WorkerSetup {
  readonly settings: WorkerSinkSettings;
  /** The dialect's `rowEncoderModule`. */
  readonly rowEncoderModule: string;
}

/** Timing every record of a block shares: when it was received, and the `_sdc_sequence` of its first line. */
export interface BlockClock {
  readonly receivedAt: string;
  /** `_sdc_sequence` of a record = baseSequence + (its line - the block's first line). */
  readonly baseSequence: number;
}

export type ToWorker =
  | { readonly type: 'layout'; readonly snapshot: SinkSnapshot }
  | {
      readonly type: 'block';
      readonly id: number;
      readonly bytes: Uint8Array;
      readonly firstLine: number;
      readonly clock: BlockClock;
    };

/**
 * What happened to each line of a block, in input order: a run of `count` records of `stream`
 * the worker encoded (under the sink's `version`), or a line the main thread must handle itself
 * (any message but a RECORD, and any record the worker could not take as it is).
 */
export type BlockEvent =
  | { readonly kind: 'rows'; readonly stream: string; readonly version: number; readonly count: number }
  | { readonly kind: 'line'; readonly line: number; readonly start: number; readonly end: number };

export interface BlockResult {
  readonly type: 'result';
  readonly id: number;
  /** The block's bytes, handed back (slow lines and stale rows are read from them). */
  readonly bytes: Uint8Array;
  readonly events: BlockEvent[];
  /** Per stream, the rows the `rows` events count, in order. */
  readonly parts: Record<string, EncodedPart>;
  /** [start, end) byte offsets in `bytes` of every encoded row, in event order (to redo stale rows). */
  readonly ranges: Int32Array;
  /** Warnings the worker's sinks gave (e.g. an undeclared property not loaded). */
  readonly warnings: string[];
}

export interface WorkerFailure {
  readonly type: 'failure';
  readonly message: string;
}
