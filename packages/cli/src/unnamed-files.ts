// Settings with secrets (tap and target configs) and the state handed to a tap, as files with no
// name on disk: each is written, unlinked at once, and read by the child through the runner's open
// descriptor. Whatever way the runner ends (SIGKILL included) nothing is left behind: the kernel
// frees the file when the last descriptor closes.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface UnnamedFile {
  /** The runner's descriptor: passed to the child too, at `childFd`. */
  fd: number;
  /** Where the child opens it: `/proc/<runner pid>/fd/<fd>` on Linux (any descendant, even one started by a wrapper that closes inherited descriptors), else the inherited `/dev/fd/<childFd>`. */
  path: string;
}

const PROC_FDS = existsSync('/proc/self/fd');

export class UnnamedFiles {
  private readonly handles: { close(): Promise<void> }[] = [];

  /** A file holding `content`, already unlinked; `childFd` is where the child inherits it (3, 4, ...). */
  async add(content: string, childFd: number): Promise<UnnamedFile> {
    const file = path.join(os.tmpdir(), `tapline-${randomBytes(12).toString('hex')}`);
    const handle = await open(file, 'wx+', 0o600);
    this.handles.push(handle);
    try {
      await unlink(file); // before anything is written: the secret never has a name on disk
      await handle.writeFile(content);
    } catch (error) {
      await unlink(file).catch(() => {});
      throw error;
    }
    return { fd: handle.fd, path: PROC_FDS ? `/proc/${process.pid}/fd/${handle.fd}` : `/dev/fd/${childFd}` };
  }

  /** Closes every file: the kernel frees them (the children hold their own descriptors while they run). */
  async close(): Promise<void> {
    await Promise.all(this.handles.splice(0).map((handle) => handle.close().catch(() => {})));
  }
}
