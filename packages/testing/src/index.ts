// @tapline/testing: the simulator kit (re-exported from @tapline/simulator-kit), the tap contract suite and the target contract suite.
export * from '@tapline/simulator-kit';
export * from './pg.js';
