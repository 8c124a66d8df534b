// Each contract case spawns the target and opens a DuckDB file; on a busy 2-core CI box that can exceed vitest's 5 s default.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 30_000 } });
