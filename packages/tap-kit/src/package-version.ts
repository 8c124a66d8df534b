// A connector's version, read from its own package.json so --version and --about follow each release.
import { createRequire } from 'node:module';

/**
 * The `version` of the package named `name`, found from `moduleUrl` (a connector passes
 * `import.meta.url` of its src/index.ts): package.json sits one level up from src/ in tests and two
 * up from dist/src/ when built. '0.0.0' when neither is that package.
 */
export function packageVersion(moduleUrl: string, name: string): string {
  const require = createRequire(moduleUrl);
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const found = require(candidate) as { name?: string; version?: string };
      if (found.name === name && found.version) return found.version;
    } catch {
      // not at this depth
    }
  }
  return '0.0.0';
}
