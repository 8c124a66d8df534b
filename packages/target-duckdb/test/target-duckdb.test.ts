// What target-duckdb promises beyond the shared contract: exact values, DuckDB types, merges, evolution, state, locks.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runTarget } from '@tapline/target-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { duckdbConfigSchema, duckdbDialect } from '../src/index.js';
import { type DuckDBPlace, duckdbHarness, withDuckDB } from './duckdb-harness.js';

let place: DuckDBPlace;
beforeEach(async () => {
  place = await duckdbHarness.open();
});
afterEach(async () => {
  await place.close();
});

const lines = (...messages: unknown[]) =>
  `${messages.map((message) => (typeof message === 'string' ? message : JSON.stringify(message))).join('\n')}\n`;

async function load(input: string, extra: Record<string, unknown> = {}) {
  const states: string[] = [];
  const config = duckdbConfigSchema.parse({ ...place.config, ...extra });
  const summary = await runTarget({
    dialect: duckdbDialect,
    config,
    input: Readable.from([input]),
    output: { write: (text: string) => states.push(text.trim()) },
    log: { info: () => {}, warn: () => {} },
  });
  return { summary, states };
}

const query = (sql: string) => withDuckDB(place.path, (run) => run(sql));

describe('values reach DuckDB exactly', () => {
  it('keeps big integers, long decimals, NUL, unicode, JSON text and offsets', async () => {
    const schema = {
      type: 'SCHEMA',
      stream: 'odd',
      key_properties: ['id'],
      schema: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          big: { type: 'integer' },
          amount: { type: 'string', format: 'x-singer.decimal' },
          text: { type: 'string' },
          doc: { type: 'object' },
          at: { type: 'string', format: 'date-time' },
          day: { type: 'string', format: 'date' },
          ratio: { type: 'number' },
        },
      },
    };
    await load(
      lines(
        schema,
        '{"type":"RECORD","stream":"odd","record":{"id":1,"big":123456789012345678901234567890,"amount":"12345678901234567890.123456789012345678","text":"a\\u0000b € 😀 Ωμέγα","doc":{"n":1.10,"exact":0.1000000000000000055511151231257827,"deep":[123456789012345678901234567890]},"at":"2024-03-01T10:15:30.123456+05:30","day":"2024-02-29","ratio":0.1}}',
        { type: 'STATE', value: { done: true } },
      ),
    );
    const [row] = await query(
      `SELECT CAST(big AS VARCHAR) AS big, typeof(big) AS big_type, CAST(amount AS VARCHAR) AS amount, typeof(amount) AS amount_type, text, strlen(text) AS bytes, CAST(doc AS VARCHAR) AS doc, CAST("at" AS VARCHAR) AS "at", CAST(day AS VARCHAR) AS day, ratio FROM main.odd`,
    );
    expect(row).toEqual({
      big: '123456789012345678901234567890',
      big_type: 'HUGEINT', // widened from BIGINT for a value beyond int64
      amount: '12345678901234567890.123456789012345678',
      amount_type: 'DECIMAL(38,18)',
      text: 'a\u0000b € 😀 Ωμέγα',
      bytes: 23n,
      doc: '{"n":1.1,"exact":0.1000000000000000055511151231257827,"deep":[123456789012345678901234567890]}', // the same JSON value; long numbers keep every digit
      at: '2024-03-01 04:45:30.123456+00',
      day: '2024-02-29',
      ratio: 0.1,
    });
  });

  it('tells empty strings from NULL and keeps quotes, commas, newlines and a 3 MB text through the CSV spool', async () => {
    const long = `"${'x,'.repeat(1_500_000)}\n"`;
    await load(
      lines(
        {
          type: 'SCHEMA',
          stream: 'texts',
          key_properties: ['id'],
          schema: { type: 'object', properties: { id: { type: 'integer' }, t: { type: ['string', 'null'] } } },
        },
        ...[null, '', 'a "quoted", comma\r\nline', long, '\\N'].map((t, id) => ({ type: 'RECORD', stream: 'texts', record: { id, t } })),
      ),
    );
    expect(await query(`SELECT t FROM main.texts ORDER BY id`)).toEqual([
      { t: null },
      { t: '' },
      { t: 'a "quoted", comma\r\nline' },
      { t: long },
      { t: '\\N' },
    ]);
  });

  it('maps each kind to its DuckDB type', async () => {
    await load(
      lines({
        type: 'SCHEMA',
        stream: 'kinds',
        key_properties: [],
        schema: {
          type: 'object',
          properties: {
            i: { type: ['integer', 'null'] },
            n: { type: 'number' },
            s: { type: 'string' },
            b: { type: 'boolean' },
            ts: { type: 'string', format: 'date-time' },
            d: { type: 'string', format: 'date' },
            t: { type: 'string', format: 'time' },
            o: { type: 'object', properties: {} },
            a: { type: 'array' },
            any: {},
          },
        },
      }),
      { add_record_metadata: false },
    );
    const types = await query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'kinds' ORDER BY ordinal_position`,
    );
    expect(Object.fromEntries(types.map((row) => [row.column_name, row.data_type]))).toEqual({
      i: 'BIGINT',
      n: 'DOUBLE',
      s: 'VARCHAR',
      b: 'BOOLEAN',
      ts: 'TIMESTAMP WITH TIME ZONE',
      d: 'DATE',
      t: 'TIME',
      o: 'JSON',
      a: 'JSON',
      any: 'JSON',
    });
  });
});

describe('exact decimals land as DuckDB numbers', () => {
  const decimalSchema = (stream: string, properties: Record<string, unknown>) => ({
    type: 'SCHEMA',
    stream,
    key_properties: ['id'],
    schema: { type: 'object', properties: { id: { type: 'integer' }, ...properties } },
  });
  const typeOf = async (table: string, column: string) =>
    (await query(`SELECT data_type FROM information_schema.columns WHERE table_name = '${table}' AND column_name = '${column}'`))[0]
      ?.data_type;

  it('sizes DECIMAL(p,s) from the values and widens it when a batch brings more digits, rounding nothing', async () => {
    const schema = decimalSchema('scores', { score: { type: 'string', format: 'x-singer.decimal' } });
    const record = (id: number, score: string) => ({ type: 'RECORD', stream: 'scores', record: { id, score } });
    // Testpress sends scores as text ("2.00"); a later batch brings a longer fraction and a larger number.
    await load(
      lines(
        schema,
        record(1, '2.00'),
        record(2, '-0.50'),
        { type: 'STATE', value: { n: 1 } },
        record(3, '123456789012.125'),
        record(4, '1e3'),
      ),
      { batch_size_rows: 2 },
    );
    expect(await typeOf('scores', 'score')).toBe('DECIMAL(18,3)');
    expect(await query(`SELECT id, CAST(score AS VARCHAR) AS score FROM main.scores ORDER BY id`)).toEqual([
      { id: 1n, score: '2.000' },
      { id: 2n, score: '-0.500' },
      { id: 3n, score: '123456789012.125' },
      { id: 4n, score: '1000.000' },
    ]);
    // An analyst computes with it directly, exactly.
    expect(await query(`SELECT CAST(sum(score) AS VARCHAR) AS total FROM main.scores`)).toEqual([{ total: '123456790013.625' }]);

    // A later run with 22 digits of fraction: 12 + 22 digits fit DECIMAL(38,22) with every earlier value.
    await load(lines(schema, record(5, '0.0000000000000000000001')));
    expect(await typeOf('scores', 'score')).toBe('DECIMAL(38,22)');
    expect(await query(`SELECT CAST(score AS VARCHAR) AS score FROM main.scores WHERE id IN (3, 5) ORDER BY id`)).toEqual([
      { score: '123456789012.1250000000000000000000' },
      { score: '0.0000000000000000000001' },
    ]);
  });

  it('keeps integers beyond int64 as HUGEINT, and only beyond 38 digits falls back to exact text', async () => {
    const schema = decimalSchema('bigs', { n: { type: 'integer' } });
    const record = (id: number, n: string) => `{"type":"RECORD","stream":"bigs","record":{"id":${id},"n":${n}}}`;
    await load(lines(schema, record(1, '5'), record(2, '-170141183460469231731687303715884105727')));
    expect(await typeOf('bigs', 'n')).toBe('HUGEINT');
    expect(await query(`SELECT CAST(n + 1 AS VARCHAR) AS n FROM main.bigs ORDER BY id`)).toEqual([
      { n: '6' },
      { n: '-170141183460469231731687303715884105726' },
    ]);

    await load(lines(schema, record(3, '1234567890123456789012345678901234567890')));
    expect(await typeOf('bigs', 'n')).toBe('VARCHAR');
    expect((await place.columns('bigs')).n).toBe('decimal'); // a later run still knows it as exact
    expect(await query(`SELECT n FROM main.bigs ORDER BY id`)).toEqual([
      { n: '5' },
      { n: '-170141183460469231731687303715884105727' },
      { n: '1234567890123456789012345678901234567890' },
    ]);
  });

  it('turns a double column exact when a value needs it, keeping the doubles already stored', async () => {
    const schema = decimalSchema('pct', { percentage: { type: 'number' } });
    await load(
      lines(
        schema,
        '{"type":"RECORD","stream":"pct","record":{"id":1,"percentage":87.5}}',
        { type: 'STATE', value: { n: 1 } },
        '{"type":"RECORD","stream":"pct","record":{"id":2,"percentage":66.66666666666666666666}}',
      ),
      { batch_size_rows: 1 },
    );
    expect(await typeOf('pct', 'percentage')).toBe('DECIMAL(38,20)');
    expect(await query(`SELECT CAST(percentage AS VARCHAR) AS p FROM main.pct ORDER BY id`)).toEqual([
      { p: '87.50000000000000000000' },
      { p: '66.66666666666666666666' },
    ]);
  });

  it('sizes the DECIMAL from stored doubles that print with an exponent (1e-05, 1.5e-07, 1e+16), rather than falling back to text', async () => {
    const schema = decimalSchema('rates', { rate: { type: 'number' } });
    const rate = (id: number, value: string) => `{"type":"RECORD","stream":"rates","record":{"id":${id},"rate":${value}}}`;
    await load(lines(schema, rate(1, '0.00001'), rate(2, '1.5e-7'), rate(3, '1e16'), rate(4, '-0.5')));
    // A double a double would round turns the column exact; the stored ones print as 1e-05 and 1.5e-07.
    await load(lines(schema, rate(5, '0.12345678901234567890')));
    expect(await typeOf('rates', 'rate')).toBe('DECIMAL(38,20)');
    expect(await query(`SELECT id, CAST(rate AS VARCHAR) AS rate FROM main.rates ORDER BY id`)).toEqual([
      { id: 1n, rate: '0.00001000000000000000' },
      { id: 2n, rate: '0.00000015000000000000' },
      { id: 3n, rate: '10000000000000000.00000000000000000000' },
      { id: 4n, rate: '-0.50000000000000000000' },
      { id: 5n, rate: '0.12345678901234567890' },
    ]);
  });
});

describe('merging by key', () => {
  const schema = {
    type: 'SCHEMA',
    stream: 'results',
    key_properties: ['exam', 'user'],
    schema: { type: 'object', properties: { exam: { type: 'integer' }, user: { type: 'string' }, score: { type: ['number', 'null'] } } },
  };
  const record = (exam: number, user: string, score: number | null) => ({
    type: 'RECORD',
    stream: 'results',
    record: { exam, user, score },
  });

  it('keeps the last record per composite key, within a batch and across batches', async () => {
    const input = lines(
      schema,
      record(1, 'ann', 10),
      record(1, 'bob', 20),
      record(1, 'ann', 11),
      { type: 'STATE', value: { n: 1 } },
      record(1, 'bob', 21),
      record(2, 'ann', null),
      record(1, 'bob', 22),
      { type: 'STATE', value: { n: 2 } },
    );
    const { states } = await load(input, { batch_size_rows: 2 });
    expect(await query(`SELECT exam, "user", score FROM main.results ORDER BY exam, "user"`)).toEqual([
      { exam: 1n, user: 'ann', score: 11 },
      { exam: 1n, user: 'bob', score: 22 },
      { exam: 2n, user: 'ann', score: null },
    ]);
    expect(states.at(-1)).toBe('{"n":2}');
  });

  it('keeps two composite keys apart whatever their parts hold: ("x\\u0000y", "z") and ("x", "y\\u0000z") are two rows', async () => {
    const nul = {
      type: 'SCHEMA',
      stream: 'nul_keys',
      key_properties: ['a', 'b'],
      schema: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' }, v: { type: 'integer' } } },
    };
    const row = (a: string, b: string, v: number) => ({ type: 'RECORD', stream: 'nul_keys', record: { a, b, v } });
    await load(
      lines(nul, row('x\u0000y', 'z', 1), row('x', 'y\u0000z', 2), row('1', '2', 3), row('1\u00002', '', 4), row('x', 'y\u0000z', 5)),
    );
    expect(await query(`SELECT a, b, v FROM main.nul_keys ORDER BY v`)).toEqual([
      { a: 'x\u0000y', b: 'z', v: 1n },
      { a: '1', b: '2', v: 3n },
      { a: '1\u00002', b: '', v: 4n },
      { a: 'x', b: 'y\u0000z', v: 5n },
    ]);
  });

  it('still updates in place when, after batches of growing ids (inserted), a batch brings ids already stored', async () => {
    const byId = {
      type: 'SCHEMA',
      stream: 'exams',
      key_properties: ['id'],
      schema: { type: 'object', properties: { id: { type: 'integer' }, v: { type: 'string' } } },
    };
    const exam = (id: number, v: string) => ({ type: 'RECORD', stream: 'exams', record: { id, v } });
    await load(lines(byId, exam(1, 'a'), exam(2, 'b'), exam(3, 'c'), exam(4, 'd'), exam(2, 'b2'), exam(5, 'e'), exam(6, 'f')), {
      batch_size_rows: 2,
    });
    expect(await query(`SELECT id, v FROM main.exams ORDER BY id, v`)).toEqual([
      { id: 1n, v: 'a' },
      { id: 2n, v: 'b2' },
      { id: 3n, v: 'c' },
      { id: 4n, v: 'd' },
      { id: 5n, v: 'e' },
      { id: 6n, v: 'f' },
    ]);
  });

  it('upserts into rows from an earlier run, keeping columns the new schema no longer sends', async () => {
    const wide = { ...schema, schema: { type: 'object', properties: { ...schema.schema.properties, note: { type: 'string' } } } };
    await load(lines(wide, { type: 'RECORD', stream: 'results', record: { exam: 1, user: 'ann', score: 1, note: 'kept' } }));
    await load(lines(schema, record(1, 'ann', 2), record(3, 'cid', 3)));
    expect(await query(`SELECT exam, "user", score, note FROM main.results ORDER BY exam`)).toEqual([
      { exam: 1n, user: 'ann', score: 2, note: 'kept' },
      { exam: 3n, user: 'cid', score: 3, note: null },
    ]);
  });
});

describe('tables made by hand', () => {
  it("a table an analyst made with capitals (Exams (ID, Name)) is the stream's: DuckDB matches names without ASCII case, and so does the target", async () => {
    await query(`CREATE TABLE main.Exams (ID BIGINT, Name VARCHAR)`);
    await query(`INSERT INTO main.Exams VALUES (1, 'old'), (2, 'kept')`);
    const byId = {
      type: 'SCHEMA',
      stream: 'exams',
      key_properties: ['id'],
      schema: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, extra: { type: 'string' } } },
    };
    const exam = (id: number, name: string) => ({ type: 'RECORD', stream: 'exams', record: { id, name, extra: 'x' } });
    await load(lines(byId, exam(1, 'new'), exam(3, 'added')));
    await load(lines(byId, exam(3, 'again'))); // a second run reads the table afresh
    expect(await query(`SELECT ID, Name, extra FROM main.Exams ORDER BY ID`)).toEqual([
      { ID: 1n, Name: 'new', extra: 'x' },
      { ID: 2n, Name: 'kept', extra: null },
      { ID: 3n, Name: 'again', extra: 'x' },
    ]);
  });
});

describe('schema evolution', () => {
  it('adds columns and widens types without losing a value', async () => {
    const v1 = {
      type: 'SCHEMA',
      stream: 'ev',
      key_properties: ['id'],
      schema: { type: 'object', properties: { id: { type: 'integer' }, code: { type: 'integer' } } },
    };
    const v2 = {
      ...v1,
      schema: { type: 'object', properties: { id: { type: 'integer' }, code: { type: 'string' }, extra: { type: 'object' } } },
    };
    await load(
      lines(v1, { type: 'RECORD', stream: 'ev', record: { id: 1, code: 42 } }, v2, {
        type: 'RECORD',
        stream: 'ev',
        record: { id: 2, code: 'B-7', extra: { a: [1] } },
      }),
    );
    expect(await query(`SELECT id, code, typeof(code) AS type, CAST(extra AS VARCHAR) AS extra FROM main.ev ORDER BY id`)).toEqual([
      { id: 1n, code: '42', type: 'VARCHAR', extra: null },
      { id: 2n, code: 'B-7', type: 'VARCHAR', extra: '{"a":[1]}' },
    ]);
  });
});

describe('state and failures', () => {
  const schema = {
    type: 'SCHEMA',
    stream: 's',
    key_properties: ['id'],
    schema: { type: 'object', properties: { id: { type: 'integer' }, day: { type: 'string', format: 'date' } } },
  };

  it('stores each emitted state in state_table with its rows', async () => {
    const { states } = await load(
      lines(schema, { type: 'RECORD', stream: 's', record: { id: 1 } }, { type: 'STATE', value: { bookmark: 1 } }),
      {
        state_table: 'tapline_state',
        state_id: 'pipeline-a',
      },
    );
    expect(states).toEqual(['{"bookmark":1}']);
    expect(await query(`SELECT id, CAST(value AS VARCHAR) AS value FROM main.tapline_state`)).toEqual([
      { id: 'pipeline-a', value: '{"bookmark":1}' },
    ]);
  });

  it('names the input line and column of a value DuckDB refuses (validation off)', async () => {
    const input = lines(
      schema,
      { type: 'RECORD', stream: 's', record: { id: 1, day: '2024-01-01' } },
      { type: 'RECORD', stream: 's', record: { id: 2, day: 'not a day' } },
    );
    await expect(load(input, { validate_records: false })).rejects.toThrow(
      /line 3 \(stream "s", table main\.s, column day\): DuckDB cannot store "not a day" as DATE/,
    );
  });

  it('creates the folder of a database file that is not there yet', async () => {
    const path = `${place.path}.d/nested/folder/warehouse.duckdb`;
    await load(lines(schema, { type: 'RECORD', stream: 's', record: { id: 1 } }), { path });
    expect(await withDuckDB(path, (run) => run('SELECT id FROM main.s'))).toEqual([{ id: 1n }]);
  });

  it('reads a leading ~ as the home folder, as DuckDB does, and makes the folder there', async () => {
    const home = process.env.HOME;
    const cwd = process.cwd();
    process.env.HOME = `${place.path}.home`;
    process.chdir(dirname(place.path));
    try {
      await load(lines(schema, { type: 'RECORD', stream: 's', record: { id: 1 } }), { path: '~/nested/warehouse.duckdb' });
      expect(await withDuckDB(`${place.path}.home/nested/warehouse.duckdb`, (run) => run('SELECT id FROM main.s'))).toEqual([{ id: 1n }]);
      expect(existsSync(join(dirname(place.path), '~'))).toBe(false);
    } finally {
      process.env.HOME = home;
      process.chdir(cwd);
    }
  });

  it('says which path it cannot make a folder for (a file stands where the folder would go)', async () => {
    const path = `${place.path}/nested/warehouse.duckdb`; // place.path is the database file itself
    await load(lines(schema));
    await expect(load(lines(schema), { path })).rejects.toThrow(`cannot open the DuckDB file ${path}: ENOTDIR`);
  });

  // Node 20's recursive mkdirSync spins at 100% CPU there (ENOENT for a parent that exists), so
  // the CLI runs as a child with a deadline: a hang fails the test instead of stalling the run.
  it.skipIf(!existsSync('/proc/self'))('says which folder it cannot make where the system refuses one (/proc), instead of hanging', () => {
    const bin = fileURLToPath(new URL('../bin/target-duckdb.js', import.meta.url));
    const config = `${place.path}.config.json`;
    writeFileSync(config, JSON.stringify({ path: '/proc/nope/w.duckdb' }));
    const result = spawnSync(process.execPath, [bin, '--config', config], {
      input: '',
      encoding: 'utf8',
      timeout: 30_000,
      killSignal: 'SIGKILL',
    });
    expect(result.signal).toBeNull();
    expect(result.status).toBe(7);
    expect(result.stderr.trim()).toBe(
      "CRITICAL cannot open the DuckDB file /proc/nope/w.duckdb: ENOENT: no such file or directory, mkdir '/proc/nope'",
    );
  });

  it('says clearly when another process holds the database file', async () => {
    await load(lines(schema));
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { DuckDBInstance } from '@duckdb/node-api'; const db = await DuckDBInstance.create(${JSON.stringify(place.path)}); console.log('open'); setTimeout(() => {}, 30000);`,
      ],
      { cwd: new URL('..', import.meta.url) },
    );
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      await expect(load(lines(schema), { lock_timeout_seconds: 0 })).rejects.toThrow(
        /is locked by .*PID \d+.*one writing process at a time/,
      );
    } finally {
      holder.kill();
    }
  });
});
