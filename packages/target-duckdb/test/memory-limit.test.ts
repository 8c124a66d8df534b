// Without a configured memory_limit, DuckDB's limit follows the widest table the session loads; a configured one is left alone.
import type { ColumnDef } from '@tapline/target-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLimitMbFor, openDuckDBSession, type DuckDBSession } from '../src/session.js';
import { duckdbHarness, type DuckDBPlace } from './duckdb-harness.js';

let place: DuckDBPlace;
let session: DuckDBSession | undefined;

beforeEach(async () => {
  place = await duckdbHarness.open();
});
afterEach(async () => {
  await session?.close();
  session = undefined;
  await place.close();
});

const wide = (count: number): ColumnDef[] => Array.from({ length: count }, (_, i) => ({ name: `c${i}`, kind: 'string' }));

describe('memory_limit', () => {
  it('starts small and grows with the widest table: 64MB plus a quarter MB a column', async () => {
    session = await openDuckDBSession(place.path, undefined);
    expect(session.memoryLimitMb).toBe(64);
    await session.begin();
    await session.createTable({ schema: 'main', table: 'narrow' }, wide(21), []);
    expect(await session.describeTable({ schema: 'main', table: 'narrow' })).not.toBeNull();
    expect(session.memoryLimitMb).toBe(memoryLimitMbFor(21));
    await session.createTable({ schema: 'main', table: 'wide' }, wide(831), []);
    await session.describeTable({ schema: 'main', table: 'wide' });
    expect(session.memoryLimitMb).toBe(272);
    await session.describeTable({ schema: 'main', table: 'narrow' }); // never lowered
    expect(session.memoryLimitMb).toBe(272);
    await session.commit();
  });

  it('keeps a configured limit as it is', async () => {
    session = await openDuckDBSession(place.path, '96MB');
    expect(session.memoryLimitMb).toBeNull();
    await session.begin();
    await session.createTable({ schema: 'main', table: 'wide' }, wide(831), []);
    await session.describeTable({ schema: 'main', table: 'wide' });
    expect(session.memoryLimitMb).toBeNull();
    await session.commit();
  });
});
