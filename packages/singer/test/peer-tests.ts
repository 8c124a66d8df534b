// Locates the third-party Singer streams (read in place, never copied) for tests that use them.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** PEER_TESTS_DIR, default ../shared/peer-tests next to the repository; undefined when absent. */
export const peerTestsDir: string | undefined = (() => {
  const dir = process.env.PEER_TESTS_DIR ?? resolve(repoRoot, '../shared/peer-tests');
  if (existsSync(dir)) return dir;
  console.warn(`peer tests not found at ${dir} (set PEER_TESTS_DIR); skipping the tests that read them`);
  return undefined;
})();

export function peerFile(relative: string): string {
  return resolve(peerTestsDir ?? '.', relative);
}
