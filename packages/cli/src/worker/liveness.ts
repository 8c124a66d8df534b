// Telling a dead worker from a busy one. graphile-worker frees a job whose worker vanished only after
// its lock is 4 hours old; a pipeline is due again long before. So each tapline worker proves it is
// alive by holding a PostgreSQL advisory lock named after its pool for as long as its process lives:
// a SIGKILL or a lost machine closes the connection and releases it. Any worker that can take that
// lock knows the pool is gone and frees its jobs (graphile-worker's force_unlock_workers).
import pg from 'pg';

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The advisory lock key of a pool of `schema`'s queue: 64 bits of a hash, computed in SQL on every side alike. */
const LOCK_KEY = `('x' || substr(md5($1 || ':' || $2), 1, 16))::bit(64)::bigint`;

/** The connection that holds this worker's proof of life. */
export class Liveness {
  private readonly held = new Map<string, Promise<void>>();
  private constructor(
    private readonly client: pg.Client,
    private readonly schema: string,
  ) {}

  /** `onLost`: the connection broke, so the proof of life is gone: the worker must stop. */
  static async open(connection: pg.ClientConfig, schema: string, onLost: (error: Error) => void): Promise<Liveness> {
    const client = new pg.Client({ ...connection, application_name: `tapline worker ${process.pid} liveness` });
    await client.connect();
    client.on('error', onLost);
    return new Liveness(client, schema);
  }

  /** Holds the lock of `poolId`, from the pool's creation on (once per pool: a session lock taken twice would need two unlocks). */
  hold(poolId: string): Promise<void> {
    let holding = this.held.get(poolId);
    if (!holding) {
      holding = this.client.query(`SELECT pg_advisory_lock(${LOCK_KEY})`, [this.schema, poolId]).then(() => {});
      this.held.set(poolId, holding);
    }
    return holding;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}

/**
 * A job locked this long ago by a pool that holds no lock is a dead pool's: a live pool takes its
 * lock as it is created, before it locks any job.
 */
const LOCKED_FOR = "interval '5 seconds'";

/**
 * Frees the jobs of every pool whose proof of life is gone, in one transaction: while it holds a
 * pool's lock, that pool (if alive after all) waits, then sees the job is no longer its own and
 * leaves it. Returns the pools found dead.
 */
export async function recoverDeadWorkers(client: pg.ClientBase, schema: string): Promise<string[]> {
  const queue = quoteIdent(schema);
  await client.query('BEGIN');
  try {
    const locked = await client.query<{ locked_by: string }>(
      `SELECT DISTINCT locked_by FROM ${queue}.jobs WHERE locked_by IS NOT NULL AND locked_at < now() - ${LOCKED_FOR}`,
    );
    const dead: string[] = [];
    for (const { locked_by: poolId } of locked.rows) {
      const free = await client.query<{ free: boolean }>(`SELECT pg_try_advisory_xact_lock(${LOCK_KEY}) AS free`, [schema, poolId]);
      if (free.rows[0]?.free) dead.push(poolId);
    }
    if (dead.length > 0) await client.query(`SELECT ${queue}.force_unlock_workers($1::text[])`, [dead]);
    await client.query('COMMIT');
    return dead;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Whether job `id` is still locked by `poolId` (recovery may have freed it before this pool proved it lives). */
export async function stillHeld(client: pg.ClientBase, schema: string, id: string, poolId: string): Promise<boolean> {
  const result = await client.query(`SELECT 1 FROM ${quoteIdent(schema)}.jobs WHERE id = $1 AND locked_by = $2`, [id, poolId]);
  return (result.rowCount ?? 0) > 0;
}
