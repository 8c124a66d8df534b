// The simulator kit lives in @tapline/simulator-kit (no database drivers); re-exported here for tests.
export * from '@tapline/simulator-kit';
