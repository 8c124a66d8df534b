#!/usr/bin/env node
// Checks every publishable package as npm would ship it: packs it with `pnpm pack`, then runs
// publint and arethetypeswrong over the tarball and checks what they do not: the metadata a
// registry page needs, a LICENSE file, no `workspace:` range left, and that every source map
// points at sources inside the tarball. Usage: node scripts/check-packages.mjs [--keep DIR] [name...]
// (with --keep, the tarballs stay in DIR for an install test). Exit 1 when any package fails.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPackage as checkTypes, createPackageFromTarballData } from '@arethetypeswrong/core';
import { problemKindInfo } from '@arethetypeswrong/core/problems';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { packageLinks } from './repository.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The non-private workspace packages, as { name, dir }. */
export function publishablePackages() {
  const globs = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8').match(/^\s+-\s+(\S+)\/\*\s*$/gm) ?? [];
  const parents = globs.map((line) => line.trim().replace(/^-\s+/, '').replace(/\/\*$/, ''));
  const found = [];
  for (const parent of parents) {
    for (const entry of readdirSync(join(root, parent)).sort()) {
      const file = join(root, parent, entry, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      if (!pkg.private) found.push({ name: pkg.name, dir: join(root, parent, entry) });
    }
  }
  return found;
}

/** Packs the given packages (one `pnpm -r pack`) into `into`; returns name -> tarball path. */
export function packAll(packages, into) {
  const filters = packages.flatMap((pkg) => ['--filter', pkg.name]);
  execFileSync('pnpm', ['-r', ...filters, 'pack', '--pack-destination', into], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const tarballs = new Map();
  for (const pkg of packages) {
    const { version } = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8'));
    tarballs.set(pkg.name, join(into, `${pkg.name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`));
  }
  return tarballs;
}

function filesUnder(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Problems publint and attw do not look for, one sentence each. */
function tarballProblems(tarball, scratch, dir) {
  const unpacked = mkdtempSync(join(scratch, 'unpacked-'));
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
  const pkgDir = join(unpacked, 'package');
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const problems = [];
  for (const field of ['license', 'repository', 'engines', 'publishConfig', 'files', 'exports']) {
    if (pkg[field] === undefined) problems.push(`package.json has no "${field}".`);
  }
  if (dir !== undefined) {
    // One repository address for every package (scripts/repository.mjs sets them all at once).
    const expected = packageLinks(dir);
    for (const field of ['repository', 'homepage', 'bugs']) {
      if (JSON.stringify(pkg[field]) !== JSON.stringify(expected[field])) {
        problems.push(
          `"${field}" is ${JSON.stringify(pkg[field])}, not ${JSON.stringify(expected[field])} (node scripts/repository.mjs sets it).`,
        );
      }
    }
  }
  if (pkg.engines && pkg.engines.node !== '>=22') problems.push(`engines.node is ${JSON.stringify(pkg.engines.node)}, not ">=22".`);
  if (!existsSync(join(pkgDir, 'LICENSE'))) problems.push('the tarball has no LICENSE file.');
  const ranges = { ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies };
  for (const [dep, range] of Object.entries(ranges)) {
    if (String(range).startsWith('workspace:')) problems.push(`dependency ${dep} is still "${range}".`);
  }
  const files = filesUnder(pkgDir);
  for (const map of files.filter((file) => file.endsWith('.map'))) {
    const { sources = [] } = JSON.parse(readFileSync(map, 'utf8'));
    for (const source of sources) {
      const target = resolve(dirname(map), source);
      if (!existsSync(target)) problems.push(`${relative(pkgDir, map)} points at ${source}, which is not in the tarball.`);
    }
  }
  return problems;
}

// Tapline's packages are ESM only: a CommonJS `require` of them is not a way in (attw's esm-only profile).
const ignoredResolutions = ['node10', 'node16-cjs'];

async function typesProblems(data) {
  const analysis = await checkTypes(createPackageFromTarballData(data));
  if (!analysis.types) return ['arethetypeswrong: the package ships no types.'];
  return analysis.problems
    .filter((problem) => !('resolutionKind' in problem) || !ignoredResolutions.includes(problem.resolutionKind))
    .map(
      (problem) =>
        `arethetypeswrong: ${problem.kind}${'entrypoint' in problem ? ` at ${problem.entrypoint}` : ''}${'resolutionKind' in problem ? ` (${problem.resolutionKind})` : ''}: ${problemKindInfo[problem.kind].description}`,
    );
}

async function lintProblems(data) {
  const { messages, pkg } = await publint({ pack: { tarball: data.buffer }, strict: true });
  return messages.map((message) => `publint (${message.type}): ${formatMessage(message, pkg, { color: false })}`);
}

/**
 * Checks one packed package; returns its problems (empty when it is fit to publish). With `dir`
 * (its folder relative to the root), its repository links are checked too.
 */
export async function checkTarball(tarball, scratch, dir) {
  const data = new Uint8Array(readFileSync(tarball));
  return [...tarballProblems(tarball, scratch, dir), ...(await lintProblems(data)), ...(await typesProblems(data))];
}

async function main(argv) {
  const keepAt = argv.indexOf('--keep');
  const keep = keepAt >= 0 ? resolve(argv[keepAt + 1]) : undefined;
  const names = argv.filter((_, i) => keepAt < 0 || (i !== keepAt && i !== keepAt + 1));
  const scratch = mkdtempSync(join(tmpdir(), 'tapline-check-packages-'));
  const into = keep ?? join(scratch, 'tarballs');
  mkdirSync(into, { recursive: true });
  let failed = 0;
  try {
    const packages = publishablePackages().filter((p) => names.length === 0 || names.includes(p.name));
    const tarballs = packAll(packages, into);
    for (const pkg of packages) {
      const problems = await checkTarball(tarballs.get(pkg.name), scratch, relative(root, pkg.dir));
      if (problems.length === 0) {
        console.log(`ok   ${pkg.name}`);
      } else {
        failed += 1;
        console.log(`FAIL ${pkg.name}\n${problems.map((p) => `  - ${p}`).join('\n')}`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (failed > 0) {
    console.error(`${failed} package(s) are not fit to publish (see above).`);
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
