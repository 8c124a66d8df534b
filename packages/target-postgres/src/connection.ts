// The session's connection: pg's Client, with the connection going away (a server restart, a failover, a
// terminated backend, a network cut) reported as one sentence rather than an unhandled 'error' event, and
// a canceled statement or a server out of resources named as such rather than blamed on a data line.
import { LoadError, ResourceError, TransientError } from '@tapline/target-kit';
import type pg from 'pg';

/** SQLSTATE classes that mean the connection is gone: 08 (connection exception), 57P01-03 (admin or crash shutdown). */
const CONNECTION_GONE = /^(?:08|57P0[1-3])/;

export class PgConnection {
  /** Why the connection ended, once it did: pg emits 'error' on the client, also while no statement runs. */
  private lost: Error | null = null;

  constructor(
    readonly client: pg.Client,
    /** The session's statement_timeout (config `statement_timeout_ms`; 0: none), to name it when it fires. */
    private readonly statementTimeoutMs = 0,
  ) {
    client.on('error', (error) => {
      this.lost ??= error;
    });
  }

  /**
   * A statement canceled (57014) is no fault of the data it was writing, though PostgreSQL names
   * the COPY line it had reached: say what canceled it. At the session's statement_timeout it is a
   * resource that ran out (time), as is class 53 (disk, memory, connections): exit 5.
   */
  private canceledOrExhausted(error: unknown, doing: string): Error | null {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    const reason = typeof message === 'string' ? message : String(error);
    const after = 'what the states on stdout cover is committed, the rest rolled back';
    if (code === '57014' && /statement timeout/i.test(reason)) {
      return new ResourceError(
        `PostgreSQL canceled a statement${doing === '' ? '' : ` ${doing}`} when it reached statement_timeout_ms (${this.statementTimeoutMs} ms): no line of the input is at fault, the statement took longer than the setting allows (a large batch, or a lock held by another session); raise statement_timeout_ms (0: no limit) or lower batch_size_rows, and run again; ${after}`,
        { cause: error },
      );
    }
    if (code === '57014') {
      return new TransientError(
        `PostgreSQL canceled a statement${doing === '' ? '' : ` ${doing}`} (${reason}: another session canceled it, e.g. pg_cancel_backend); no line of the input is at fault; ${after}`,
        {
          cause: error,
        },
      );
    }
    const exhausted = typeof code === 'string' ? RESOURCE_RAN_OUT[code] : undefined;
    if (exhausted !== undefined) {
      return new ResourceError(
        `PostgreSQL ran out of ${exhausted}${doing === '' ? '' : ` while ${doing}`} (${reason.split('\n')[0]}); free it on the server and run again; ${after}`,
        { cause: error },
      );
    }
    return null;
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.client.query<R>(text, values);
    } catch (error) {
      throw this.explain(error);
    }
  }

  /**
   * `error` as one sentence when it is the connection going away, a canceled statement or the
   * server out of a resource; any other error unchanged. `doing` says what the statement was for
   * (`writing stream "s" (input lines 1-9)`), when known.
   */
  explain(error: unknown, doing = ''): unknown {
    if (error instanceof LoadError || error instanceof ResourceError || error instanceof TransientError) return error;
    const cause = this.lost ?? (isConnectionGone(error) ? (error as Error) : null);
    if (cause === null) return this.canceledOrExhausted(error, doing) ?? error;
    return new TransientError(
      `the connection to PostgreSQL was lost (${cause.message}): what was not committed is rolled back, and every state on stdout is committed, so a new run continues from the last one`,
      { cause: error },
    );
  }
}

/** SQLSTATE class 53, insufficient resources: what ran out, by code. */
const RESOURCE_RAN_OUT: Record<string, string> = {
  '53100': 'disk space',
  '53200': 'memory',
  '53300': 'connections',
  '53400': 'a configured limit',
};

function isConnectionGone(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (CONNECTION_GONE.test(code) || code === 'ECONNRESET' || code === 'EPIPE')) return true;
  return typeof message === 'string' && /Connection terminated|not queryable/.test(message);
}
