// The notebooks' read path: a read-only copy of the database, replaced atomically after a run commits.
//
// A process that opens the database file itself, even read-only, holds DuckDB's lock and stops the
// writer (and the writer stops it). A copy has its own lock: a reader keeps the copy it opened
// (rename swaps the name, not the file it has open), and the next open sees the new one.
import { chmod, copyFile, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from '@tapline/target-kit';

/** A long run publishes between commits too, at most this often, so notebooks are never more than this behind. */
export const SNAPSHOT_EVERY_MS = 10 * 60_000;

/**
 * Copy the database at `databasePath` (open on `connection`, with no transaction open) to
 * `snapshotPath`: CHECKPOINT first, so the file alone holds every commit (the WAL is folded in and
 * nothing writes it while we copy: this process is its only writer); then copy to a temporary file
 * in the snapshot's folder, make it read-only, fsync it, rename it over the snapshot and fsync the
 * folder. A reader sees the old snapshot or the new one, never a part.
 */
export async function publishSnapshot(connection: DuckDBConnection, databasePath: string, snapshotPath: string): Promise<void> {
  if (resolve(snapshotPath) === resolve(databasePath)) {
    throw new Error(`the snapshot path ${snapshotPath} is the database file itself`);
  }
  await connection.run('CHECKPOINT');
  const folder = dirname(snapshotPath);
  const temporary = join(folder, `.${basename(snapshotPath)}.${process.pid}.tmp`);
  try {
    await copyFile(databasePath, temporary);
    // Read-only on disk as well: a notebook that forgets `read_only` gets "Permission denied" instead of locking (and writing) the copy.
    await chmod(temporary, 0o444);
    await syncPath(temporary);
    await rename(temporary, snapshotPath);
    await syncPath(folder);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * When a session publishes: at its close when it committed since the last snapshot and nothing
 * failed since its last commit, and after a commit once `SNAPSHOT_EVERY_MS` passed since the last
 * one. A snapshot that cannot be written is a warning, not a failed load: the load is committed,
 * and notebooks keep the previous snapshot.
 */
export class SnapshotPublisher {
  private unpublished = false;
  private failedSinceCommit = false;
  private lastPublished = performance.now();

  constructor(
    private readonly databasePath: string,
    private readonly snapshotPath: string,
    private readonly log: Logger,
  ) {}

  async committed(connection: DuckDBConnection): Promise<void> {
    this.unpublished = true;
    this.failedSinceCommit = false;
    if (performance.now() - this.lastPublished >= SNAPSHOT_EVERY_MS) await this.publish(connection);
  }

  failed(): void {
    this.failedSinceCommit = true;
  }

  async closing(connection: DuckDBConnection): Promise<void> {
    if (this.unpublished && !this.failedSinceCommit) await this.publish(connection);
  }

  /** Publish now (after the runner changed the file outside a load: the model's views); a failure is thrown, naming the snapshot. */
  async publishNow(connection: DuckDBConnection): Promise<void> {
    try {
      await publishSnapshot(connection, this.databasePath, this.snapshotPath);
    } catch (error) {
      throw new Error(
        `cannot publish the notebooks' snapshot ${this.snapshotPath} (publish_snapshot): ${(error as Error).message.split('\n')[0]}`,
      );
    }
    this.unpublished = false;
    this.lastPublished = performance.now();
  }

  private async publish(connection: DuckDBConnection): Promise<void> {
    const started = performance.now();
    try {
      await publishSnapshot(connection, this.databasePath, this.snapshotPath);
      this.log.info(
        `published the snapshot ${this.snapshotPath} in ${Math.round(performance.now() - started)} ms (notebooks: open it read-only)`,
      );
    } catch (error) {
      this.log.warn(
        `could not publish the snapshot ${this.snapshotPath}: ${(error as Error).message.split('\n')[0]}; the load is committed, and notebooks keep the previous snapshot`,
      );
    }
    this.unpublished = false;
    this.lastPublished = performance.now();
  }
}
