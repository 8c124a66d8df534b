// The shared target contract suite (every peer-test stream) against a real DuckDB file per test.
// The same contract with encode workers is its own file, so the two run side by side.
import { defineTargetContract } from '@tapline/testing/target-contract';
import { duckdbHarness } from './duckdb-harness.js';

defineTargetContract(duckdbHarness);
