// @tapline/testing: the simulator kit, the tap contract suite and the target contract suite.
export * from './simulator/index.js';
export * from './pg.js';
