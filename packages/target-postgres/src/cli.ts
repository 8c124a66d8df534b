// The `target-postgres` executable.
import { createRequire } from 'node:module';
import { runTargetCli } from '@tapline/target-kit';
import { postgresConfigSchema } from './config.js';
import { postgresDialect } from './dialect.js';

const { version, description } = createRequire(import.meta.url)('../package.json') as { version: string; description: string };

await runTargetCli({
  name: 'target-postgres',
  version,
  description,
  configSchema: postgresConfigSchema,
  dialect: postgresDialect,
});
