// The shared target contract suite (every peer-test stream) against a real DuckDB file per test.
import { defineTargetContract } from '@tapline/testing/target-contract';
import { duckdbHarness } from './duckdb-harness.js';

defineTargetContract(duckdbHarness);
