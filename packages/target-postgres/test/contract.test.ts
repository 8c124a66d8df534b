// Runs the shared target contract suite against target-postgres on a real PostgreSQL (PG_URL).
// The same contract with encode workers is its own file, so the two run side by side.
import { defineTargetContract } from '@tapline/testing/target-contract';
import { postgresHarness } from './postgres-harness.js';

defineTargetContract(postgresHarness);
