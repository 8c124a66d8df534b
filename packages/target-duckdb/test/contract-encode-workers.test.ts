// The shared target contract with the records parsed, validated and encoded on encode workers.
import { defineTargetContract, withEncodeWorkers } from '@tapline/testing/target-contract';
import { duckdbHarness } from './duckdb-harness.js';

defineTargetContract(withEncodeWorkers(duckdbHarness));
