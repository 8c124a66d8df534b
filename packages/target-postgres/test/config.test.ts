// Settings spelled as other Singer targets spell them reach the server as ours do.
import { Readable } from 'node:stream';
import { runTarget } from '@tapline/target-kit';
import { createPgTestSchema, pgIsReachable } from '@tapline/testing';
import { describe, expect, it } from 'vitest';
import { connectionString, postgresConfigSchema, postgresDialect } from '../src/index.js';

const reachable = await pgIsReachable();

describe('connection settings', () => {
  it('sqlalchemy_url (MeltanoLabs target-postgres) is a connection URL without its +driver; connection_string wins over it', () => {
    expect(connectionString({ sqlalchemy_url: 'postgresql+psycopg://u:p@db:5433/exams' })).toBe('postgresql://u:p@db:5433/exams');
    expect(connectionString({ sqlalchemy_url: 'postgresql://u@db/exams' })).toBe('postgresql://u@db/exams');
    expect(connectionString({ connection_string: 'postgres://a@b/c', sqlalchemy_url: 'postgresql+psycopg2://x@y/z' })).toBe(
      'postgres://a@b/c',
    );
    expect(connectionString({})).toBeUndefined();
  });

  it.skipIf(!reachable)('a run configured by sqlalchemy_url and activate_version: false loads, ignoring ACTIVATE_VERSION', async () => {
    const fixture = await createPgTestSchema();
    try {
      const url = new URL(fixture.url);
      url.protocol = 'postgresql+psycopg:';
      const config = postgresConfigSchema.parse({
        sqlalchemy_url: url.href,
        default_target_schema: fixture.schema,
        activate_version: false,
      });
      const lines = [
        { type: 'SCHEMA', stream: 'exams', schema: { type: 'object', properties: { id: { type: 'integer' } } }, key_properties: ['id'] },
        { type: 'RECORD', stream: 'exams', record: { id: 1 }, version: 1 },
        { type: 'ACTIVATE_VERSION', stream: 'exams', version: 2 },
      ].map((message) => `${JSON.stringify(message)}\n`);
      await runTarget({
        dialect: postgresDialect,
        config,
        input: Readable.from(lines),
        output: { write: () => true },
        log: { info: () => {}, warn: () => {} },
      });
      const rows = await fixture.client.query(`SELECT id, _sdc_deleted_at FROM "${fixture.schema}".exams`);
      expect(rows.rows).toEqual([{ id: 1, _sdc_deleted_at: null }]);
    } finally {
      await fixture.drop();
    }
  });

  it.skipIf(!reachable)(
    'a server or role that rounds doubles in text (extra_float_digits) or prints dates otherwise (DateStyle) cannot make a widening lossy: the session sets its own',
    async () => {
      const fixture = await createPgTestSchema();
      try {
        // As a role or database could configure it (ALTER ROLE ... SET): here through the startup options.
        const url = new URL(fixture.url);
        url.searchParams.set('options', '-c extra_float_digits=-15 -c DateStyle=SQL,DMY');
        const config = postgresConfigSchema.parse({ connection_string: url.href, default_target_schema: fixture.schema });
        const schema = (properties: Record<string, unknown>) => ({
          type: 'SCHEMA',
          stream: 'w',
          schema: { type: 'object', properties: { id: { type: 'integer' }, ...properties } },
          key_properties: ['id'],
        });
        const lines = [
          schema({ f: { type: 'number' }, at: { type: 'string', format: 'date-time' } }),
          { type: 'RECORD', stream: 'w', record: { id: 1, f: 1234567.123456789, at: '2021-02-03T04:05:06.789Z' } },
          { type: 'RECORD', stream: 'w', record: { id: 2, f: 0.30000000000000004, at: '2021-02-03T04:05:06Z' } },
          // number -> integer makes the double column exact; date-time -> string makes the timestamps text.
          schema({ f: { type: 'integer' }, at: { type: 'string' } }),
        ].map((message) => `${JSON.stringify(message)}\n`);
        await runTarget({
          dialect: postgresDialect,
          config,
          input: Readable.from(lines),
          output: { write: () => true },
          log: { info: () => {}, warn: () => {} },
        });
        const rows = await fixture.client.query(`SELECT id, f::text AS f, "at" FROM "${fixture.schema}".w ORDER BY id`);
        expect(rows.rows).toEqual([
          { id: 1, f: '1234567.123456789', at: '2021-02-03 04:05:06.789+00' },
          { id: 2, f: '0.30000000000000004', at: '2021-02-03 04:05:06+00' },
        ]);
      } finally {
        await fixture.drop();
      }
    },
  );
});
