// A password never reaches stderr, whatever form the connection settings are written in: errors
// name the server by host, port, database and user only, and an unreadable string is one sentence.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runTarget as load } from '@tapline/target-kit';
import { createPgTestSchema, pgIsReachable } from '@tapline/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConnectionString, parseKeyValue, postgresConfigSchema, postgresDialect } from '../src/index.js';

const reachable = await pgIsReachable();

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'target-postgres.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'target-postgres-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const INPUT = [
  { type: 'SCHEMA', stream: 'exams', schema: { type: 'object', properties: { id: { type: 'integer' } } }, key_properties: ['id'] },
  { type: 'RECORD', stream: 'exams', record: { id: 1 } },
  { type: 'STATE', value: { at: 1 } },
]
  .map((message) => `${JSON.stringify(message)}\n`)
  .join('');

/** Runs target-postgres with `config` against nothing listening (port 1), as a user would. */
function runTarget(config: Record<string, unknown>): { status: number | null; stderr: string } {
  const file = path.join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  const result = spawnSync(process.execPath, [BIN, '--config', file], { input: INPUT, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stderr: result.stderr };
}

const SECRET = 'Sup3r-Secret';
// Each form a user may write, all pointing at 127.0.0.1:1 (nothing listens) as user tapline, database exams.
const unreachable: Record<string, Record<string, unknown>> = {
  'a URL whose password holds "@"': { connection_string: `postgres://tapline:${SECRET}@x@127.0.0.1:1/exams` },
  'a URL with ?password=': { connection_string: `postgres://tapline@127.0.0.1:1/exams?password=${SECRET}` },
  'libpq key=value settings': { connection_string: `host=127.0.0.1 port=1 dbname=exams user=tapline password=${SECRET}` },
  'libpq key=value settings with a quoted password': {
    connection_string: `host=127.0.0.1 port=1 dbname=exams user=tapline password='${SECRET} x\\'y'`,
  },
  'a SQLAlchemy URL with ?password=': { sqlalchemy_url: `postgresql+psycopg://tapline@127.0.0.1:1/exams?password=${SECRET}` },
  'separate keys': { host: '127.0.0.1', port: 1, database: 'exams', user: 'tapline', password: SECRET },
};

describe('connection errors print host, port, database and user, never the password', () => {
  for (const [form, config] of Object.entries(unreachable)) {
    it(`${form}: one sentence naming the server, no password`, () => {
      const { status, stderr } = runTarget(config);
      expect(status).toBe(4); // transient: the server may come back
      expect(stderr).not.toContain(SECRET);
      expect(stderr).toContain('cannot connect to PostgreSQL (127.0.0.1:1, database exams, user tapline)');
      expect(stderr).not.toMatch(/^\s+at /m);
    });
  }

  // A reserved character left raw in the password splits the URL elsewhere: refused before connecting.
  for (const password of [`${SECRET}#x`, `${SECRET}/x`, `12/${SECRET}`, `12#${SECRET}`, `12?${SECRET}`]) {
    it(`a URL whose password holds a raw reserved character (${password.replace(SECRET, 'SECRET')}) is a config error (exit 3) without the password or a stack`, () => {
      const { status, stderr } = runTarget({ connection_string: `postgres://tapline:${password}@127.0.0.1:1/exams` });
      expect(stderr).not.toContain(SECRET);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(stderr.trim()).toMatch(
        /^CRITICAL config file .* key "connection_string" is invalid: the connection URL is not valid: percent-encode/,
      );
      expect(status).toBe(3);
    });
  }
});

describe("connection strings are read by the driver's parser, whatever the form", () => {
  it('libpq key=value settings mean what libpq says: quotes, escapes, dbname and hostaddr', () => {
    expect(Object.fromEntries(parseKeyValue(`host = db  dbname='my exams' password='a\\'b c' user=u\\ v`))).toEqual({
      host: 'db',
      dbname: 'my exams',
      password: "a'b c",
      user: 'u v',
    });
    expect(parseConnectionString('hostaddr=10.0.0.1 port=5433 dbname=exams user=u password=p sslmode=disable')).toMatchObject({
      host: '10.0.0.1',
      port: '5433',
      database: 'exams',
      user: 'u',
      password: 'p',
      ssl: false,
    });
  });

  it('a URL password with "@" and one percent-encoded read the same', () => {
    expect(parseConnectionString('postgres://u:p@ss@db/exams')).toMatchObject({
      user: 'u',
      password: 'p@ss',
      host: 'db',
      database: 'exams',
    });
    expect(parseConnectionString('postgres://u:p%40ss%23%2F@db/exams')).toMatchObject({ password: 'p@ss#/', host: 'db' });
  });

  it('an unterminated quote in key=value settings is one sentence that quotes no value', () => {
    expect(() => parseConnectionString(`host=db password='${SECRET}`)).toThrow(
      /^the key=value connection string's value of "password" has no closing quote$/,
    );
  });
});

describe('every form reaches the server', () => {
  it.skipIf(!reachable)('libpq key=value settings load like the URL they stand for', async () => {
    const fixture = await createPgTestSchema();
    try {
      const url = new URL(fixture.url);
      const settings = `host=${url.hostname} port=${url.port || 5432} dbname=${url.pathname.slice(1)} user='${decodeURIComponent(url.username)}'`;
      const config = postgresConfigSchema.parse({ connection_string: settings, default_target_schema: fixture.schema });
      await load({
        dialect: postgresDialect,
        config,
        input: Readable.from([INPUT]),
        output: { write: () => true },
        log: { info: () => {}, warn: () => {} },
      });
      expect((await fixture.client.query(`SELECT id FROM "${fixture.schema}".exams`)).rows).toEqual([{ id: 1 }]);
    } finally {
      await fixture.drop();
    }
  });
});
