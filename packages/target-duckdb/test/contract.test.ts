// The shared target contract suite (every peer-test stream) against a real DuckDB file per test.
import { defineTargetContract } from '@tapline/testing/target-contract';
import { BIN, duckdbHarness } from './duckdb-harness.js';

defineTargetContract(duckdbHarness);

// The same contract with the records parsed, validated and encoded on encode workers: from the
// first byte, a line per block, so nearly every record of these small inputs takes that path.
defineTargetContract({
  ...duckdbHarness,
  name: 'duckdb, encode workers',
  async open() {
    const place = await duckdbHarness.open();
    return {
      ...place,
      config: { ...place.config, worker_threads: 2 },
      command: ['env', 'TAPLINE_WORKERS_AFTER_BYTES=0', 'TAPLINE_WORKER_BLOCK_BYTES=1', process.execPath, BIN],
    };
  },
});
