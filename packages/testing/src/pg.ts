// PostgreSQL fixtures for tests: a throwaway schema per test on the server named by PG_URL.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server tests use (trust auth on loopback by default). */
export const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface PgTestSchema {
  readonly url: string;
  /** The schema's name: `t_<random>`, created empty. */
  readonly schema: string;
  /** A client with plain-JS type parsing (see `plainPgClient`). */
  readonly client: pg.Client;
  /** Drop the schema and close the client. */
  drop(): Promise<void>;
}

const INT8 = 20;
const NUMERIC = 1700;
const TIMESTAMPTZ = 1184;
const TIMESTAMP = 1114;
const DATE = 1082;

/** A number when exact, else the digits as a string (so 99999999999999999 survives). */
function exactNumber(text: string): number | string {
  const value = Number(text);
  return String(value) === text || (Number.isSafeInteger(value) && /^-?\d+$/.test(text)) ? value : text;
}

/**
 * A client whose rows are plain JS values: bigint/numeric as numbers when exact (else strings),
 * timestamptz as ISO strings in UTC, date as `YYYY-MM-DD`, jsonb parsed.
 */
export async function plainPgClient(url = PG_URL): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    types: {
      getTypeParser: ((oid: number, format?: string) => {
        if (oid === INT8 || oid === NUMERIC) return exactNumber;
        if (oid === TIMESTAMPTZ) return (text: string) => new Date(text).toISOString();
        if (oid === TIMESTAMP || oid === DATE) return (text: string) => text;
        return pg.types.getTypeParser(oid, format as 'text');
      }) as typeof pg.types.getTypeParser,
    },
  });
  await client.connect();
  await client.query(`SET TIME ZONE 'UTC'`);
  return client;
}

/** Create a fresh schema for one test. */
export async function createPgTestSchema(url = PG_URL): Promise<PgTestSchema> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const client = await plainPgClient(url);
  await client.query(`CREATE SCHEMA "${schema}"`);
  return {
    url,
    schema,
    client,
    async drop() {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await client.end().catch(() => {});
    },
  };
}

/**
 * Run `body` with the name of a schema that does not exist yet (`<prefix>_<random>`: the target
 * under test makes it, or the test does) and a plain client; afterwards the schema is dropped and
 * the client closed, whatever happened.
 */
export async function withScratchSchema<T>(prefix: string, body: (schema: string, client: pg.Client) => Promise<T>): Promise<T> {
  const schema = `${prefix}_${randomBytes(4).toString('hex')}`;
  const client = await plainPgClient();
  try {
    return await body(schema, client);
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await client.end().catch(() => {});
  }
}

/**
 * Whether the server answers (tests skip with a message when it does not). In CI (`CI` set) the
 * test server at PG_URL must answer: a missing PostgreSQL fails the run instead of skipping it.
 */
export async function pgIsReachable(url = PG_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch (error) {
    if (process.env.CI && url === PG_URL) {
      throw new Error(
        `PostgreSQL does not answer at ${describePgUrl(url)} (${(error as Error).message}); in CI that is a failure, not a skip`,
      );
    }
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The server a URL names, without its password. */
function describePgUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'PG_URL';
  }
}
