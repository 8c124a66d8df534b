// `tap-classmarker | target-duckdb` and `| target-postgres` as real processes: exactly the simulator's results land.
import { fileURLToPath } from 'node:url';
import { duckdbWarehouse, type Landed, landSync, postgresWarehouse, type Warehouse } from '@tapline/testing/landing';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClassMarkerSimulator, startClassMarkerSimulator } from '../simulator/index.js';

const tapBin = { bin: [process.execPath, fileURLToPath(new URL('../bin/tap-classmarker.js', import.meta.url))] };

/** Both exit codes and the stderr of both processes, for the assertions and their messages. */
const outcome = (landed: Landed) => ({
  tap: landed.tap.code,
  target: landed.target.code,
  stderr: landed.tap.stderr + landed.target.stderr,
});

/** link_result_id -> time_finished (UNIX seconds), as the simulator holds them. */
const heldLinks = (sim: ClassMarkerSimulator) =>
  new Map(sim.data.linkResults.map((e) => [e.result.link_result_id, e.result.time_finished]));
const heldGroupKeys = (sim: ClassMarkerSimulator) =>
  sim.data.groupResults.map((e) => `${e.result.user_id}/${e.result.test_id}/${e.result.group_id}/${e.result.time_started}`).sort();

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

/** The groups and links as landed: id -> deleted (its `_sdc_deleted_at` is set), for rows still in the table. */
async function catalogRows(place: Warehouse) {
  const deleted = (rows: Record<string, unknown>[], id: string) => new Map(rows.map((r) => [Number(r[id]), r._sdc_deleted_at !== null]));
  return {
    groups: deleted(await place.query(`SELECT group_id, _sdc_deleted_at FROM "${place.schema}".groups`), 'group_id'),
    links: deleted(await place.query(`SELECT link_id, _sdc_deleted_at FROM "${place.schema}".links`), 'link_id'),
  };
}

/** A group and a link deleted in ClassMarker between two runs; the second run's ACTIVATE_VERSION retires their rows. */
async function deleteBetweenRuns(place: Warehouse, targetConfig: Record<string, unknown>) {
  warehouse = place;
  sim = await startClassMarkerSimulator({ seed: 'deletions', linkResults: 50, groupResults: 20, rateLimitPerHour: 1000 });
  const firstRun = await landSync(tapBin, place, { config: sim.config, targetConfig });
  expect(outcome(firstRun), outcome(firstRun).stderr).toMatchObject({ tap: 0, target: 0 });
  const [group, link] = [sim.data.groups[0]!.group_id, sim.data.links[0]!.link_id];
  await sim.act('delete-group', { group_id: group });
  await sim.act('delete-link', { link_id: link });
  const secondRun = await landSync(tapBin, place, { config: sim.config, state: firstRun.target.states.at(-1), targetConfig });
  expect(outcome(secondRun), outcome(secondRun).stderr).toMatchObject({ tap: 0, target: 0 });
  expect(secondRun.tap.messages.filter((m) => m.type === 'ACTIVATE_VERSION').map((m) => m.stream)).toEqual(['groups', 'links', 'tests']);
  return { group, link, landed: await catalogRows(place) };
}

describe('landing', () => {
  it('lands exactly the simulator’s results in DuckDB, and a second run adds only new ones', async () => {
    await twoRuns(await duckdbWarehouse(), (column) => `epoch(${column})::BIGINT`);
  }, 60_000);

  it('lands the same in PostgreSQL', async () => {
    await twoRuns(await postgresWarehouse(), (column) => `extract(epoch FROM ${column})::bigint`);
  }, 60_000);

  it('marks a group and a link deleted in ClassMarker as deleted in DuckDB (_sdc_deleted_at), keeping the rest live', async () => {
    const { group, link, landed } = await deleteBetweenRuns(await duckdbWarehouse(), {});
    expect(landed.groups.get(group)).toBe(true);
    expect(landed.links.get(link)).toBe(true);
    expect(
      [...landed.groups]
        .filter(([, deleted]) => !deleted)
        .map(([id]) => id)
        .sort(),
    ).toEqual(sim!.data.groups.map((g) => g.group_id).sort());
    expect(
      [...landed.links]
        .filter(([, deleted]) => !deleted)
        .map(([id]) => id)
        .sort(),
    ).toEqual(sim!.data.links.map((l) => l.link_id).sort());
  }, 60_000);

  it('removes them from PostgreSQL with hard_delete', async () => {
    const { landed } = await deleteBetweenRuns(await postgresWarehouse(), { hard_delete: true });
    expect([...landed.groups.keys()].sort()).toEqual(sim!.data.groups.map((g) => g.group_id).sort());
    expect([...landed.links.keys()].sort()).toEqual(sim!.data.links.map((l) => l.link_id).sort());
  }, 60_000);
});
