// Vitest settings every package shares: tests spawn real taps, targets and simulators and talk to
// a real PostgreSQL and DuckDB, which on a busy 2-core CI box can exceed vitest's 5 s default.
import { defineConfig } from 'vitest/config';

// TAPLINE_CHECK_PLAIN_ROWS: every row a target writes straight from a plain record's bytes is
// also encoded the parsing way, and any difference fails the run (target-kit plain/).
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000, env: { TAPLINE_CHECK_PLAIN_ROWS: '1' } } });
