// The durable inbox of one receiver: an append-only journal in numbered segment files. A delivery is
// acknowledged only after its line is written and fdatasync'd; concurrent deliveries share one
// fsync (group commit), so durability costs one disk flush per batch, not per delivery.
import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

/** A place in the journal: the byte after the last entry read in segment `segment` of inbox `id`. */
export interface InboxPosition {
  /** The inbox folder's own id: a position from a folder that was since replaced is not one of this folder's. */
  readonly id: string;
  readonly segment: number;
  readonly offset: number;
}

export interface InboxEntry {
  readonly body: Buffer;
  /** When the delivery was received (ISO 8601). */
  readonly receivedAt: string;
  /** The position just after this entry. */
  readonly end: InboxPosition;
}

/** A segment is closed and a new one started past this size, so drained segments can be deleted. */
const SEGMENT_BYTES = 16 * 2 ** 20;
const SEGMENT_NAME = /^(\d{10})\.jsonl$/;
const segmentName = (segment: number) => `${String(segment).padStart(10, '0')}.jsonl`;

interface Pending {
  readonly line: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class Inbox {
  private queue: Pending[] = [];
  /** The running flush, if any; `flushingNow` is cleared in the same step that finds the queue empty. */
  private flushing: Promise<void> = Promise.resolve();
  private flushingNow = false;
  private listeners = new Set<() => void>();
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly id: string,
    private handle: FileHandle,
    private segment: number,
    /** Bytes of the current segment that are written and flushed: all a reader may see. */
    private durable: number,
  ) {}

  /**
   * Opens (creating) the inbox in `dir`. Writing always starts a new segment, so a line torn by a
   * crash at the end of the last one is never followed by new lines.
   */
  static async open(dir: string): Promise<Inbox> {
    await mkdir(dir, { recursive: true });
    const id = await inboxId(dir);
    const segments = await listSegments(dir);
    const segment = (segments.at(-1) ?? 0) + 1;
    const handle = await open(path.join(dir, segmentName(segment)), 'wx');
    await syncDir(dir);
    return new Inbox(dir, id, handle, segment, 0);
  }

  /** Resolves once the body is on disk (fdatasync'd): only then may the delivery be acknowledged. */
  append(body: Buffer, receivedAt = new Date()): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`the inbox ${this.dir} is closed`));
    const line = Buffer.from(`${JSON.stringify({ at: receivedAt.toISOString(), body: body.toString('base64') })}\n`);
    return new Promise((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      if (!this.flushingNow) {
        this.flushingNow = true;
        this.flushing = this.flush();
      }
    });
  }

  /** Called after each batch becomes durable (the drain wakes up). */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async flush(): Promise<void> {
    // The flag is cleared in the same synchronous step that finds the queue empty: an append that
    // runs after it starts a new flush, one that runs before it is taken by this loop.
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        const data = Buffer.concat(batch.map((p) => p.line));
        try {
          if (this.durable > 0 && this.durable + data.length > SEGMENT_BYTES) await this.rotate();
          await this.handle.write(data, 0, data.length, this.durable);
          await this.handle.datasync();
          this.durable += data.length;
        } catch (error) {
          // A partly written batch is cut off again, so the next batch follows the last whole line.
          await this.handle.truncate(this.durable).catch(() => {});
          const reason = new Error(
            `cannot write the inbox ${this.dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          );
          for (const p of batch) p.reject(reason);
          continue;
        }
        for (const p of batch) p.resolve();
        for (const listener of this.listeners) listener();
      }
    } finally {
      this.flushingNow = false;
    }
  }

  private async rotate(): Promise<void> {
    const next = await open(path.join(this.dir, segmentName(this.segment + 1)), 'wx');
    await syncDir(this.dir);
    await this.handle.close();
    this.handle = next;
    this.segment += 1;
    this.durable = 0;
  }

  /** Where reading starts when nothing was drained yet: the oldest segment kept. */
  async start(): Promise<InboxPosition> {
    const segments = await listSegments(this.dir);
    return { id: this.id, segment: segments[0] ?? this.segment, offset: 0 };
  }

  /**
   * Up to `max` entries after `from`. A closed segment is read to its last whole line (a torn last
   * line is a delivery that was never acknowledged); the current one only as far as it is durable.
   */
  async read(position: InboxPosition, max: number): Promise<InboxEntry[]> {
    // A position of another folder (this one was deleted and made anew): nothing here was loaded.
    const from = position.id === this.id ? position : await this.start();
    const entries: InboxEntry[] = [];
    for (const segment of await listSegments(this.dir)) {
      if (segment < from.segment) continue;
      const start = segment === from.segment ? from.offset : 0;
      const bytes = await readSegment(
        path.join(this.dir, segmentName(segment)),
        start,
        segment === this.segment ? this.durable : undefined,
      );
      let at = 0;
      while (entries.length < max) {
        const newline = bytes.indexOf(0x0a, at);
        if (newline < 0) break;
        const entry = parseLine(bytes.subarray(at, newline));
        at = newline + 1;
        if (entry) entries.push({ ...entry, end: { id: this.id, segment, offset: start + at } });
      }
      if (entries.length >= max) break;
    }
    return entries;
  }

  /** Deletes the segments wholly before `position` (their entries are committed in the warehouse). */
  async release(position: InboxPosition): Promise<void> {
    if (position.id !== this.id) return;
    for (const segment of await listSegments(this.dir)) {
      if (segment >= position.segment || segment >= this.segment) break;
      await rm(path.join(this.dir, segmentName(segment)), { force: true });
    }
  }

  /** Waits for pending appends and closes the file; later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
    await this.handle.close();
  }
}

/** The bytes of a segment from `start` to `end` (default: its size). */
async function readSegment(file: string, start: number, end: number | undefined): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const size = end ?? (await handle.stat()).size;
    const bytes = Buffer.alloc(Math.max(0, size - start));
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, start);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function parseLine(line: Buffer): { body: Buffer; receivedAt: string } | undefined {
  try {
    const { at, body } = JSON.parse(line.toString('utf8')) as { at: string; body: string };
    return { body: Buffer.from(body, 'base64'), receivedAt: at };
  } catch {
    return undefined; // a line torn by a crash mid-write: never acknowledged
  }
}

async function listSegments(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  return names
    .map((name) => SEGMENT_NAME.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The folder's id, made (and made durable) on its first open. */
async function inboxId(dir: string): Promise<string> {
  const file = path.join(dir, 'inbox-id');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const id = randomUUID();
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(`${id}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await syncDir(dir);
  return id;
}

/** Makes a new file's directory entry durable too (a file fsync'd in a directory that was not may vanish). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
