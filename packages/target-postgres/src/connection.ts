// The session's connection: pg's Client, with the connection going away (a server restart, a failover, a
// terminated backend, a network cut) reported as one sentence rather than an unhandled 'error' event.
import { LoadError } from '@tapline/target-kit';
import type pg from 'pg';

/** SQLSTATE classes that mean the connection is gone: 08 (connection exception), 57P01-03 (admin or crash shutdown). */
const CONNECTION_GONE = /^(?:08|57P0[1-3])/;

export class PgConnection {
  /** Why the connection ended, once it did: pg emits 'error' on the client, also while no statement runs. */
  private lost: Error | null = null;

  constructor(readonly client: pg.Client) {
    client.on('error', (error) => {
      this.lost ??= error;
    });
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.client.query<R>(text, values);
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** `error` as one sentence when it is the connection going away; any other error unchanged. */
  explain(error: unknown): unknown {
    if (error instanceof LoadError) return error;
    const cause = this.lost ?? (isConnectionGone(error) ? (error as Error) : null);
    if (cause === null) return error;
    return new LoadError(
      `the connection to PostgreSQL was lost (${cause.message}): what was not committed is rolled back, and every state on stdout is committed, so a new run continues from the last one`,
      { cause: error },
    );
  }
}

function isConnectionGone(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (CONNECTION_GONE.test(code) || code === 'ECONNRESET' || code === 'EPIPE')) return true;
  return typeof message === 'string' && /Connection terminated|not queryable/.test(message);
}
