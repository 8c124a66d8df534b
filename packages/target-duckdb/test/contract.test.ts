// The shared target contract suite (every peer-test stream) against a real DuckDB file per test.
import { describe, it } from 'vitest';
import { duckdbHarness } from './duckdb-harness.js';

// Loaded by a computed specifier until @tapline/testing exports "./target-contract" (being added
// by the suite's author); then this becomes a plain import.
const specifier = '@tapline/testing/target-contract';
const contract = (await import(specifier).catch(() => undefined)) as
  | { defineTargetContract(harness: typeof duckdbHarness): void }
  | undefined;

if (contract) contract.defineTargetContract(duckdbHarness);
else describe('target contract', () => it.skip('@tapline/testing does not export ./target-contract yet', () => {}));
