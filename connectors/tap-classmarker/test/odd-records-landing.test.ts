// Odd vendor records through the real targets, `tap-classmarker | target-duckdb` and `| target-postgres`:
// undeclared fields land in _sdc_extra, a record that cannot be read lands whole in
// _sdc_rejected_records while the stream goes on, and a reject read again lands on the same row.
import { fileURLToPath } from 'node:url';
import { duckdbWarehouse, type Landed, landSync, perTest, postgresWarehouse, type Warehouse } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { startClassMarkerSimulator } from '../simulator/index.js';

const tapBin = { bin: [process.execPath, fileURLToPath(new URL('../bin/tap-classmarker.js', import.meta.url))] };
const startSimulator = perTest(afterEach, startClassMarkerSimulator, (sim) => sim.close());
const duckdb = perTest(afterEach, duckdbWarehouse, (warehouse) => warehouse.drop());
const postgres = perTest(afterEach, postgresWarehouse, (warehouse) => warehouse.drop());

const codes = (landed: Landed) => ({
  tap: landed.tap.code,
  target: landed.target.code,
  stderr: landed.tap.stderr.slice(-3000) + landed.target.stderr.slice(-2000),
});
/** A JSON column as an object: DuckDB hands JSON back as text, PostgreSQL's jsonb as a value. */
const json = (cell: unknown) => (typeof cell === 'string' ? JSON.parse(cell) : cell);

async function oddRecordsLand(place: Warehouse) {
  const sim = await startSimulator({ seed: 'odd-records', linkResults: 40, groupResults: 10, rateLimitPerHour: 1000 });
  const inOrder = [...sim.data.linkResults].sort((a, b) => a.result.time_finished - b.result.time_finished);
  // A vendor field the stream does not declare, and, further on, a score no one can read.
  const extended = inOrder[5]!.result;
  Object.assign(extended, { proctor_note: 'late start', seat: { row: 3, col: 'B' } });
  const unreadable = inOrder[10]!.result;
  (unreadable as unknown as Record<string, unknown>).points_scored = 'n/a';
  const table = (name: string) => `"${place.schema}".${name}`;

  const first = await landSync(tapBin, place, { config: sim.config });
  expect(codes(first), codes(first).stderr).toMatchObject({ tap: 6, target: 0 });
  const [withExtra] = await place.query(
    `SELECT _sdc_extra FROM ${table('link_results')} WHERE link_result_id = ${extended.link_result_id}`,
  );
  expect(json(withExtra!._sdc_extra)).toEqual({ proctor_note: 'late start', seat: { row: 3, col: 'B' } });
  const landedIds = (await place.query(`SELECT link_result_id FROM ${table('link_results')}`)).map((r) => Number(r.link_result_id));
  expect(landedIds.sort((a, b) => a - b)).toEqual(
    inOrder
      .map((e) => e.result.link_result_id)
      .filter((id) => id !== unreadable.link_result_id)
      .sort((a, b) => a - b),
  );
  const rejects = await place.query(`SELECT stream, record_json, field, reason FROM ${table('_sdc_rejected_records')}`);
  expect(rejects.map((r) => ({ ...r, record_json: JSON.parse(String(r.record_json)) }))).toEqual([
    {
      stream: 'link_results',
      // The record as the simulator served it (which leaves out some optional fields).
      record_json: expect.objectContaining({ link_result_id: unreadable.link_result_id, points_scored: 'n/a', first: unreadable.first }),
      field: 'points_scored',
      reason: 'field "points_scored": expected a decimal number, got "n/a"',
    },
  ]);

  // The next run starts past it: nothing is read again, and the run is complete.
  const next = await landSync(tapBin, place, { config: sim.config, state: first.target.states.at(-1) });
  expect(codes(next), codes(next).stderr).toMatchObject({ tap: 0, target: 0 });
  // A run from scratch reads it again: it lands on its row, not beside it.
  const again = await landSync(tapBin, place, { config: sim.config });
  expect(codes(again), codes(again).stderr).toMatchObject({ tap: 6, target: 0 });
  expect(await place.query(`SELECT count(*)::INTEGER AS n FROM ${table('_sdc_rejected_records')}`)).toEqual([{ n: 1 }]);
}

describe('odd records landing', () => {
  it('keeps undeclared fields and an unreadable record in DuckDB, and the stream goes on', async () => {
    await oddRecordsLand(await duckdb());
  }, 90_000);

  it('does the same in PostgreSQL', async () => {
    await oddRecordsLand(await postgres());
  }, 90_000);
});
