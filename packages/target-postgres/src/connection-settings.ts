// How to reach the server, parsed once by the driver's own parser (pg-connection-string, which pg
// uses), whatever form the user wrote: a URL, a libpq `key=value` string or separate keys. Errors
// and logs name the server only by host, port, database and user: never the string as written,
// which may hold a password anywhere (`?password=`, an `@` or `/` in it, `password=` in key=value).

import type pg from 'pg';
import { type ConnectionOptions, parse, toClientConfig } from 'pg-connection-string';

/** A connection string that cannot be read; the message never quotes the string. */
export class ConnectionStringError extends Error {
  override readonly name = 'ConnectionStringError';
}

/** What a connection string's password may hold only percent-encoded, as libpq and pg require. */
const ENCODE_HINT =
  'percent-encode the reserved characters of the user and password (@ as %40, # as %23, / as %2F, ? as %3F, : as %3A, % as %25), or give host, port, user, password and database as separate keys';

const URL_FORM = /^[a-z][a-z0-9+.-]*:\/\//i;
const KEY_VALUE_FORM = /^\s*[A-Za-z_][A-Za-z0-9_]*\s*=/;

/**
 * libpq's `key=value` connection string (https://www.postgresql.org/docs/current/libpq-connect.html,
 * "Keyword/Value Connection Strings"): values unquoted, or in single quotes with `\'` and `\\`.
 */
export function parseKeyValue(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  let at = 0;
  const skipSpace = () => {
    while (at < text.length && /\s/.test(text[at]!)) at++;
  };
  for (skipSpace(); at < text.length; skipSpace()) {
    const key = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(at))?.[0];
    if (key === undefined)
      throw new ConnectionStringError(`the key=value connection string has a setting that is not key=value (setting ${pairs.size + 1})`);
    at += key.length;
    skipSpace();
    if (text[at] !== '=') throw new ConnectionStringError(`the key=value connection string has no "=" after "${key}"`);
    at++;
    skipSpace();
    let value = '';
    if (text[at] === "'") {
      at++;
      for (;;) {
        if (at >= text.length) throw new ConnectionStringError(`the key=value connection string's value of "${key}" has no closing quote`);
        const char = text[at++]!;
        if (char === "'") break;
        value += char === '\\' && at < text.length ? text[at++]! : char;
      }
    } else {
      while (at < text.length && !/\s/.test(text[at]!)) {
        const char = text[at++]!;
        value += char === '\\' && at < text.length ? text[at++]! : char;
      }
    }
    pairs.set(key, value);
  }
  return pairs;
}

/** A key=value string as the URL pg-connection-string reads: settings it knows as query parameters. */
function keyValueAsUrl(pairs: Map<string, string>): string {
  const { dbname, hostaddr, ...rest } = Object.fromEntries(pairs);
  const params = new URLSearchParams(
    Object.entries({ ...(rest.host === undefined && hostaddr !== undefined ? { host: hostaddr } : {}), ...rest }),
  );
  return `postgres:///${dbname === undefined ? '' : encodeURIComponent(dbname)}?${params}`;
}

/** A connection string in any form, read by the driver's own parser; throws ConnectionStringError naming no value. */
export function parseConnectionString(text: string): ConnectionOptions {
  if (!URL_FORM.test(text) && !text.startsWith('/') && KEY_VALUE_FORM.test(text)) {
    return parse(keyValueAsUrl(parseKeyValue(text)));
  }
  if (!URL_FORM.test(text)) {
    throw new ConnectionStringError(`the connection string is neither a postgres:// URL nor libpq key=value settings`);
  }
  // A reserved character left raw in the password splits the URL elsewhere: `#` starts a fragment,
  // `/` or `?` ends the host early, and what follows lands in the database or a parameter.
  const afterAuthority = text.slice(text.indexOf('//') + 2).replace(/^[^/?#]*/, '');
  if (text.includes('#') || afterAuthority.includes('@')) {
    throw new ConnectionStringError(`the connection URL is not valid: ${ENCODE_HINT}`);
  }
  try {
    return parse(text);
  } catch {
    // The parser's own message says only "Invalid URL"; the input is never quoted.
    throw new ConnectionStringError(`the connection URL is not valid: ${ENCODE_HINT}`);
  }
}

/** The pg client settings of a parsed connection string (ssl files read, port a number). */
export function clientSettings(options: ConnectionOptions): pg.ClientConfig {
  try {
    return toClientConfig(options) as pg.ClientConfig;
  } catch (error) {
    throw new ConnectionStringError(`the connection string's ${(error as Error).message.replace(/^Invalid (\w+):.*/, '$1 is not valid')}`);
  }
}

/** The server a connection reaches, as errors and logs may print it: host, port, database and user only. */
export function describeServer(settings: Pick<pg.ClientConfig, 'host' | 'port' | 'database' | 'user'>): string {
  const env = process.env;
  const host = settings.host || env.PGHOST || 'localhost';
  const port = settings.port || env.PGPORT || 5432;
  const user = settings.user || env.PGUSER || env.USER || env.USERNAME;
  const database = settings.database || env.PGDATABASE || user;
  return `${host}:${port}, database ${database ?? '(default)'}, user ${user ?? '(default)'}`;
}
