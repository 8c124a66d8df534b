// The repository address is kept in one place (the root package.json) until the project has a
// public remote; scripts/repository.mjs sets it in every package at once (RELEASING.md, step 0).
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageLinks, repositoryUrl, workspaceDirs } from '../../../scripts/repository.mjs';
import { exitOf } from './processes.js';

const repo = new URL('../../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'tapline-repository-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const published = workspaceDirs().filter((dir) => !readJson(join(repo, dir, 'package.json')).private);

describe('the repository address', () => {
  it('is the one of the root package.json in every published package', () => {
    expect(repositoryUrl()).toMatch(/^https:\/\/github\.com\/[\w-]+\/[\w-]+$/);
    for (const dir of published) {
      const pkg = readJson(join(repo, dir, 'package.json'));
      expect({ repository: pkg.repository, homepage: pkg.homepage, bugs: pkg.bugs }, dir).toEqual(packageLinks(dir));
    }
  });

  it('is set everywhere at once by scripts/repository.mjs (run here on a copy of the package.json files)', async () => {
    for (const file of ['package.json', 'scripts/repository.mjs', ...workspaceDirs().map((dir) => `${dir}/package.json`)]) {
      mkdirSync(dirname(join(scratch, file)), { recursive: true });
      cpSync(join(repo, file), join(scratch, file));
    }
    const run = await exitOf(spawn(process.execPath, ['scripts/repository.mjs', 'https://github.com/acme/exams-etl'], { cwd: scratch }));
    expect(run.code, run.stderr).toBe(0);
    expect(readJson(join(scratch, 'package.json')).repository.url).toBe('git+https://github.com/acme/exams-etl.git');
    for (const dir of published) {
      expect(readJson(join(scratch, dir, 'package.json')).repository, dir).toEqual({
        type: 'git',
        url: 'git+https://github.com/acme/exams-etl.git',
        directory: dir,
      });
      expect(readJson(join(scratch, dir, 'package.json')).bugs.url).toBe('https://github.com/acme/exams-etl/issues');
    }
  });

  it('is refused unless it is a web address of a repository (exit 2)', async () => {
    const run = await exitOf(spawn(process.execPath, ['scripts/repository.mjs', 'tapline'], { cwd: scratch }));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('usage: node scripts/repository.mjs https://github.com/OWNER/NAME');
  });
});
