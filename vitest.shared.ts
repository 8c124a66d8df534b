// Vitest settings every package shares: tests spawn real taps, targets and simulators and talk to
// a real PostgreSQL and DuckDB, which on a busy 2-core CI box can exceed vitest's 5 s default.
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// TAPLINE_CHECK_PLAIN_ROWS: every row a target writes straight from a plain record's bytes is
// also encoded the parsing way, and any difference fails the run (target-kit plain/).
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000, env: { TAPLINE_CHECK_PLAIN_ROWS: '1' } } });

/**
 * For the packages whose suites run longest (cli and the two targets), which the whole run waits
 * for after the others are done: their files mostly wait on the processes and databases they
 * drive, so two run at once even where vitest's default (cores - 1) would give one.
 */
export const longSuite = { test: { maxWorkers: Math.max(2, availableParallelism() - 1) } };
