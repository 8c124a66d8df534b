// The shared target contract suite (every peer-test stream) against a real DuckDB file per test.
import { defineTargetContract, withEncodeWorkers } from '@tapline/testing/target-contract';
import { duckdbHarness } from './duckdb-harness.js';

defineTargetContract(duckdbHarness);

// The same contract with the records parsed, validated and encoded on encode workers.
defineTargetContract(withEncodeWorkers(duckdbHarness));
