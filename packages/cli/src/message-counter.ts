// Counts what flows from tap to target (records per stream, STATE positions) without slowing the pipe.
import { StringDecoder } from 'node:string_decoder';
import { parseJson, stringifyJson } from '@tapline/singer';

/** Per-stream counters, and when the stream's first and last record passed. */
export interface StreamCount {
  records: number;
  firstAt: number;
  lastAt: number;
}

// Our taps (and singer-python) write `{"type": "RECORD", "stream": ...` first: read that prefix
// without parsing the record; any other shape falls back to JSON.parse.
const RECORD_PREFIX = /^\s*\{\s*"type"\s*:\s*"RECORD"\s*,\s*"stream"\s*:\s*"((?:[^"\\]|\\.)*)"/;
const PREFIX_BYTES = 256;

export class MessageCounter {
  readonly streams = new Map<string, StreamCount>();
  /** Every STATE value the tap sent, in order, with the record counts at that point. */
  readonly states: { value: string; counts: Map<string, number> }[] = [];
  /** The tap's last STATE line exactly as sent (big numbers intact), to repeat at the end of a run. */
  lastStateLine: string | undefined;
  private pending: Buffer[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      if (this.pending.length > 0) {
        this.pending.push(piece);
        this.line(Buffer.concat(this.pending));
        this.pending = [];
      } else {
        this.line(piece);
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
  }

  /** The tap ended: a last line without a newline still counts, when it is whole (a torn line is no message). */
  end(): void {
    if (this.pending.length > 0) this.line(Buffer.concat(this.pending), true);
    this.pending = [];
  }

  private line(bytes: Buffer, last = false): void {
    const head = new StringDecoder('utf8').write(bytes.subarray(0, PREFIX_BYTES));
    const match = last ? null : RECORD_PREFIX.exec(head);
    if (match) {
      const raw = match[1]!;
      this.record(raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw);
      return;
    }
    let message: { type?: unknown; stream?: unknown; value?: unknown };
    try {
      message = parseJson(bytes.toString('utf8')) as typeof message;
    } catch {
      return; // Not ours to judge: the target reports malformed input with its line number.
    }
    if (typeof message !== 'object' || message === null) return;
    const type = typeof message.type === 'string' ? message.type.toUpperCase() : '';
    if (type === 'RECORD' && typeof message.stream === 'string') this.record(message.stream);
    else if (type === 'STATE') {
      this.lastStateLine = bytes.toString('utf8').trim();
      const counts = new Map([...this.streams].map(([name, c]) => [name, c.records]));
      this.states.push({ value: stringifyJson(message.value), counts });
    }
  }

  private record(stream: string): void {
    const now = this.now();
    const count = this.streams.get(stream);
    if (count) {
      count.records += 1;
      count.lastAt = now;
    } else {
      this.streams.set(stream, { records: 1, firstAt: now, lastAt: now });
    }
  }

  /**
   * The target committed `stateLine` (one line of its stdout): answers the record counts it
   * covers, or undefined when the line matches no STATE the tap sent. Earlier states are dropped.
   * A tap may repeat a state (nothing new since): a target commits at the newest STATE it has
   * read, so the last one sent so far with that value is the one it committed.
   */
  acknowledge(stateLine: string): Map<string, number> | undefined {
    let value: string;
    try {
      value = stringifyJson(parseJson(stateLine));
    } catch {
      return undefined;
    }
    const index = this.states.findLastIndex((s) => s.value === value);
    if (index === -1) return undefined;
    const [acked] = this.states.splice(0, index + 1).slice(-1);
    return acked!.counts;
  }
}
