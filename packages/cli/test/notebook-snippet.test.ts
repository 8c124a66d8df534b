// The README's Node notebook snippet, run as written against the snapshot `tapline demo` publishes.
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo.js';
import { silentLogger } from '../src/log.js';
import { bundledSimulator, bundledTap, bundledTarget, findPackageDir, PROVIDERS } from '../src/plugins.js';
import { tempDir } from './helpers.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));
let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

/** The first code block of `language` in the README's "Notebooks" section. */
async function readmeSnippet(language: string): Promise<string> {
  const text = await readFile(README, 'utf8');
  const section = text.slice(text.indexOf('\n## Notebooks'));
  const block = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(section);
  if (!block) throw new Error(`no ${language} block in the README's Notebooks section`);
  return block[1]!;
}

describe('the README notebook snippet (Node, @duckdb/node-api)', () => {
  const ready = bundledTarget('duckdb') !== undefined && PROVIDERS.every((p) => bundledTap(p) && bundledSimulator(p));
  it.skipIf(!ready)(
    'reads the unified model from the published snapshot, as written',
    async () => {
      let out = '';
      const code = await runDemo({
        cwd: dir,
        log: silentLogger,
        write: (text) => (out += text),
        simulatorFlags: {
          classmarker: ['--group-results', '20', '--link-results', '20'],
          testpress: ['--exams', '3', '--attempts-per-exam', '4'],
          onlineexammaker: ['--exams', '2', '--results-per-exam', '5'],
          cbthost: ['--tests', '4', '--students-per-test', '4'],
        },
      });
      expect(code, out).toBe(0);
      // As `npm install @duckdb/node-api` in the notebook's folder would.
      await mkdir(path.join(dir, 'node_modules', '@duckdb'), { recursive: true });
      await symlink(findPackageDir('@duckdb/node-api')!, path.join(dir, 'node_modules', '@duckdb', 'node-api'));
      await writeFile(path.join(dir, 'notebook.mjs'), await readmeSnippet('js'));
      const run = spawnSync(process.execPath, ['notebook.mjs'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      for (const provider of PROVIDERS) expect(run.stdout).toContain(provider);
    },
    180_000,
  );
});
