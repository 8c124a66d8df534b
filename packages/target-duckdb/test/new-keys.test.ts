// An upsert batch whose single integer key lies above every key in the table is inserted, not merged; anything uncertain merges.
import { type CellValue, type ColumnDef, EncodedRows, type RowBatch, type TableRef, type WriteMode } from '@tapline/target-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DuckDBSession, openDuckDBSession } from '../src/session.js';
import type { CsvRowEncoder } from '../src/spool.js';
import { type DuckDBPlace, duckdbHarness, withDuckDB } from './duckdb-harness.js';

let place: DuckDBPlace;
let session: DuckDBSession;
/** Whether `session` still holds the file (closed before reading the table). */
let sessionOpen: boolean;
/** The first word of each load statement the session ran (INSERT or MERGE). */
let loads: string[];

beforeEach(async () => {
  place = await duckdbHarness.open();
  loads = [];
  session = await openSession();
});
afterEach(async () => {
  if (sessionOpen) await session.close();
  await place.close();
});

function openSession(): Promise<DuckDBSession> {
  sessionOpen = true;
  return openDuckDBSession(place.path, '256MB', {
    trace: (line) => {
      const statement = /^TRACE \d+ms (INSERT|MERGE)/.exec(line)?.[1];
      if (statement !== undefined) loads.push(statement);
    },
  });
}

const results: TableRef = { schema: 'main', table: 'results' };
const columns: ColumnDef[] = [
  { name: 'id', kind: 'integer' },
  { name: 'v', kind: 'string' },
];

/** A batch of `[id, v]` rows, encoded as the kit would hand it over. */
function batch(
  rows: [CellValue, CellValue][],
  options: { tableIsNew?: boolean; mode?: WriteMode; key?: string[] } = {},
): RowBatch<CsvRowEncoder> {
  const encoder = session.rowEncoder(columns, false);
  const encoded = new EncodedRows();
  for (const [index, row] of rows.entries()) encoded.push(encoder.encode(row), index + 1);
  const mode = options.mode ?? 'upsert';
  return {
    stream: 'results',
    table: results,
    columns,
    rows: encoded,
    batchedAt: null,
    encoder,
    mode,
    key: options.key ?? (mode === 'upsert' ? ['id'] : []),
    keyIsPrimaryKey: false,
    tableIsNew: options.tableIsNew ?? false,
  };
}

/** Close the session (DuckDB lets one process hold the file) and read the table. */
async function closeAndRead() {
  await session.close();
  sessionOpen = false;
  return withDuckDB(place.path, (query) => query(`SELECT id, v FROM main.results ORDER BY id, v`));
}

describe('an upsert of keys above the table is an INSERT', () => {
  it('inserts batches of growing keys, merges the one that overlaps, and inserts again after it', async () => {
    await session.begin();
    await session.createTable(results, columns, ['id']);
    await session.writeBatch(
      batch(
        [
          [1, 'a'],
          [2, 'b'],
        ],
        { tableIsNew: true },
      ),
    );
    await session.writeBatch(
      batch([
        [3, 'c'],
        [4, 'd'],
      ]),
    );
    await session.writeBatch(
      batch([
        [4, 'd2'],
        [5, 'e'],
      ]),
    );
    await session.writeBatch(batch([[6, 'f']]));
    await session.commit();
    const rows = await closeAndRead();
    expect(loads).toEqual(['INSERT', 'INSERT', 'MERGE', 'INSERT']);
    expect(rows).toEqual([
      { id: 1n, v: 'a' },
      { id: 2n, v: 'b' },
      { id: 3n, v: 'c' },
      { id: 4n, v: 'd2' },
      { id: 5n, v: 'e' },
      { id: 6n, v: 'f' },
    ]);
  });

  it('reads the highest key of a table loaded by an earlier run before trusting a batch', async () => {
    await session.begin();
    await session.createTable(results, columns, ['id']);
    await session.writeBatch(
      batch(
        [
          [1, 'a'],
          [9, 'i'],
        ],
        { tableIsNew: true },
      ),
    );
    await session.commit();
    await closeAndRead();

    loads = [];
    session = await openSession();
    await session.begin();
    await session.writeBatch(
      batch([
        [5, 'e'],
        [9, 'i2'],
      ]),
    );
    await session.writeBatch(batch([[10, 'j']]));
    await session.commit();
    const rows = await closeAndRead();
    expect(loads).toEqual(['MERGE', 'INSERT']);
    expect(rows).toEqual([
      { id: 1n, v: 'a' },
      { id: 5n, v: 'e' },
      { id: 9n, v: 'i2' },
      { id: 10n, v: 'j' },
    ]);
  });

  it('forgets what it knew on rollback: a table dropped and re-made in the rolled-back transaction is back with its keys', async () => {
    await session.begin();
    await session.createTable(results, columns, ['id']);
    await session.writeBatch(
      batch(
        [
          [1, 'a'],
          [50, 'x'],
          [100, 'z'],
        ],
        { tableIsNew: true },
      ),
    );
    await session.commit();

    await session.begin();
    await session.dropTable(results);
    await session.createTable(results, columns, ['id']);
    await session.writeBatch(
      batch(
        [
          [1, 'a'],
          [2, 'b'],
        ],
        { tableIsNew: true },
      ),
    );
    await session.rollback();

    await session.begin();
    await session.writeBatch(batch([[50, 'x2']]));
    await session.commit();
    const rows = await closeAndRead();
    expect(loads).toEqual(['INSERT', 'INSERT', 'MERGE']);
    expect(rows).toEqual([
      { id: 1n, v: 'a' },
      { id: 50n, v: 'x2' },
      { id: 100n, v: 'z' },
    ]);
  });

  it('forgets what it knew when rows arrive without a known key range (an append)', async () => {
    await session.begin();
    await session.createTable(results, columns, ['id']);
    await session.writeBatch(batch([[1, 'a']], { tableIsNew: true }));
    await session.writeBatch(batch([[10, 'j']], { mode: 'append' }));
    await session.writeBatch(batch([[10, 'j2']]));
    await session.commit();
    const rows = await closeAndRead();
    expect(loads).toEqual(['INSERT', 'INSERT', 'MERGE']);
    expect(rows).toEqual([
      { id: 1n, v: 'a' },
      { id: 10n, v: 'j2' },
    ]);
  });

  it('merges when the key is not one integer column (a composite key, a text key)', async () => {
    await session.begin();
    await session.createTable(results, columns, ['id']);
    await session.writeBatch(batch([[1, 'a']], { tableIsNew: true }));
    await session.writeBatch(batch([[2, 'b']], { key: ['id', 'v'] }));
    await session.writeBatch(batch([[3, 'c']], { key: ['v'] }));
    await session.commit();
    expect(loads).toEqual(['INSERT', 'MERGE', 'MERGE']);
  });
});
