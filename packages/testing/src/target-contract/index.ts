// @tapline/testing/target-contract: the shared target contract suite (imports vitest; test files only).

export { runTargetCommand, type TargetHarness, type TargetPlace, type TargetRun, withEncodeWorkers } from './harness.js';
export { defineTargetContract, PEER_TESTS_DIR } from './suite.js';
