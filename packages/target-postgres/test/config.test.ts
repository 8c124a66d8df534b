// Settings spelled as other Singer targets spell them reach the server as ours do.
import { Readable } from 'node:stream';
import { createPgTestSchema, pgIsReachable } from '@tapline/testing';
import { runTarget } from '@tapline/target-kit';
import { describe, expect, it } from 'vitest';
import { connectionString, postgresConfigSchema, postgresDialect } from '../src/index.js';

const reachable = await pgIsReachable();

describe('connection settings', () => {
  it('sqlalchemy_url (MeltanoLabs target-postgres) is a connection URL without its +driver; connection_string wins over it', () => {
    expect(connectionString({ sqlalchemy_url: 'postgresql+psycopg://u:p@db:5433/exams' })).toBe('postgresql://u:p@db:5433/exams');
    expect(connectionString({ sqlalchemy_url: 'postgresql://u@db/exams' })).toBe('postgresql://u@db/exams');
    expect(connectionString({ connection_string: 'postgres://a@b/c', sqlalchemy_url: 'postgresql+psycopg2://x@y/z' })).toBe('postgres://a@b/c');
    expect(connectionString({})).toBeUndefined();
  });

  it.skipIf(!reachable)('a run configured by sqlalchemy_url and activate_version: false loads, ignoring ACTIVATE_VERSION', async () => {
    const fixture = await createPgTestSchema();
    try {
      const url = new URL(fixture.url);
      url.protocol = 'postgresql+psycopg:';
      const config = postgresConfigSchema.parse({ sqlalchemy_url: url.href, default_target_schema: fixture.schema, activate_version: false });
      const lines = [
        { type: 'SCHEMA', stream: 'exams', schema: { type: 'object', properties: { id: { type: 'integer' } } }, key_properties: ['id'] },
        { type: 'RECORD', stream: 'exams', record: { id: 1 }, version: 1 },
        { type: 'ACTIVATE_VERSION', stream: 'exams', version: 2 },
      ].map((message) => `${JSON.stringify(message)}\n`);
      await runTarget({ dialect: postgresDialect, config, input: Readable.from(lines), output: { write: () => true }, log: { info: () => {}, warn: () => {} } });
      const rows = await fixture.client.query(`SELECT id, _sdc_deleted_at FROM "${fixture.schema}".exams`);
      expect(rows.rows).toEqual([{ id: 1, _sdc_deleted_at: null }]);
    } finally {
      await fixture.drop();
    }
  });
});
