// The target-duckdb command: `target-duckdb --config config.json < messages`.
import { createRequire } from 'node:module';
import { runTargetCli } from '@tapline/target-kit';
import { duckdbConfigSchema } from './config.js';
import { duckdbDialect } from './dialect.js';

const { version, description } = createRequire(import.meta.url)('../package.json') as { version: string; description: string };

await runTargetCli({ name: 'target-duckdb', version, description, configSchema: duckdbConfigSchema, dialect: duckdbDialect });
