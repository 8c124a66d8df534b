// Vitest settings every package shares: tests spawn real taps, targets and simulators and talk to
// a real PostgreSQL and DuckDB, which on a busy 2-core CI box can exceed vitest's 5 s default.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
