// `tap-classmarker | target-duckdb` and `| target-postgres` as real processes: exactly the simulator's results land.
import { fileURLToPath } from 'node:url';
import { duckdbWarehouse, landSync, postgresWarehouse, type Landed, type Warehouse } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { startClassMarkerSimulator, type ClassMarkerSimulator } from '../simulator/index.js';

const tapBin = { bin: [process.execPath, fileURLToPath(new URL('../bin/tap-classmarker.js', import.meta.url))] };

/** Both exit codes and the stderr of both processes, for the assertions and their messages. */
const outcome = (landed: Landed) => ({ tap: landed.tap.code, target: landed.target.code, stderr: landed.tap.stderr + landed.target.stderr });

/** link_result_id -> time_finished (UNIX seconds), as the simulator holds them. */
const heldLinks = (sim: ClassMarkerSimulator) => new Map(sim.data.linkResults.map((e) => [e.result.link_result_id, e.result.time_finished]));
const heldGroupKeys = (sim: ClassMarkerSimulator) => sim.data.groupResults.map((e) => `${e.result.user_id}/${e.result.test_id}/${e.result.group_id}/${e.result.time_started}`).sort();

let sim: ClassMarkerSimulator | undefined;
let warehouse: Warehouse | undefined;
afterEach(async () => {
  await sim?.close();
  await warehouse?.drop();
  sim = undefined;
  warehouse = undefined;
});

/** What landed, read back with the same SQL in both warehouses (only the epoch function differs). */
async function read(place: Warehouse, epoch: (column: string) => string) {
  const links = await place.query(`SELECT link_result_id, ${epoch('time_finished')} AS t FROM "${place.schema}".link_results`);
  const groups = await place.query(`SELECT user_id, test_id, group_id, ${epoch('time_started')} AS s FROM "${place.schema}".group_results`);
  return {
    links: new Map(links.map((r) => [Number(r.link_result_id), Number(r.t)])),
    groupKeys: groups.map((r) => `${r.user_id}/${r.test_id}/${r.group_id}/${r.s}`).sort(),
  };
}

async function twoRuns(place: Warehouse, epoch: (column: string) => string) {
  warehouse = place;
  sim = await startClassMarkerSimulator({ seed: 'landing', linkResults: 2000, groupResults: 500, rateLimitPerHour: 1000 });
  const firstRun = await landSync(tapBin, place, { config: sim.config });
  const first = outcome(firstRun);
  expect(first, first.stderr).toMatchObject({ tap: 0, target: 0 });
  const landed = await read(place, epoch);
  expect(landed.links).toEqual(heldLinks(sim));
  expect(landed.groupKeys).toEqual(heldGroupKeys(sim));

  // Between runs: new results, and re-opened exams re-sent with a later time_finished.
  sim.addResults('link', 25);
  sim.addResults('group', 10);
  sim.reopenResults('link', 3);
  sim.reopenResults('group', 3);
  sim.requests.clear();
  // From the state the target released, as a runner keeps it.
  const second = outcome(await landSync(tapBin, place, { config: sim.config, state: firstRun.target.states.at(-1) }));
  expect(second, second.stderr).toMatchObject({ tap: 0, target: 0 });
  expect(sim.requests.count('links_recent_results')).toBe(1); // only what is new
  const after = await read(place, epoch);
  expect(after.links).toEqual(heldLinks(sim));
  expect(after.groupKeys).toEqual(heldGroupKeys(sim));
}

describe('landing', () => {
  it('lands exactly the simulator’s results in DuckDB, and a second run adds only new ones', async () => {
    await twoRuns(await duckdbWarehouse(), (column) => `epoch(${column})::BIGINT`);
  }, 60_000);

  it('lands the same in PostgreSQL', async () => {
    await twoRuns(await postgresWarehouse(), (column) => `extract(epoch FROM ${column})::bigint`);
  }, 60_000);
});
