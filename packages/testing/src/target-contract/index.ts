// @tapline/testing/target-contract: the shared target contract suite (imports vitest; test files only).
export { defineTargetContract, PEER_TESTS_DIR } from './suite.js';
export { runTargetCommand, withEncodeWorkers, type TargetHarness, type TargetPlace, type TargetRun } from './harness.js';
