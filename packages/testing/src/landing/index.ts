// @tapline/testing/landing: run a tap, parse its Singer output, and land it through the real targets.

export { queryDuckDB, withDuckDB } from '../duckdb.js';
export { jsonFile, lastState, recordsOf, runTap, spawnTap, type TapRun, type TapUnderTest } from '../run-tap.js';
export type { TargetRun } from '../target-contract/harness.js';
export { type Landed, type LandOptions, landSync, landTwoSyncs } from './land.js';
export { perTest } from './per-test.js';
export { duckdbWarehouse, postgresWarehouse, targetCommand, type Warehouse, type WarehouseOptions } from './warehouse.js';
