#!/usr/bin/env node
// Where Tapline's source lives, in one place: the root package.json's `repository.url`. Every
// package's `repository`, `homepage` and `bugs`, and the Meltano definitions' `repo` and `docs`,
// are made from it. `https://github.com/tapline/tapline` is a placeholder until the project has a
// public remote; RELEASING.md says when to set the real one:
//   node scripts/repository.mjs https://github.com/OWNER/NAME   (then pnpm format and regenerate)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** The repository's web address, e.g. https://github.com/tapline/tapline (no `git+`, no `.git`). */
export function repositoryUrl() {
  const url = readJson(join(root, 'package.json')).repository?.url;
  if (typeof url !== 'string') throw new Error('the root package.json has no repository.url.');
  return url.replace(/^git\+/, '').replace(/\.git$/, '');
}

/** The `repository`, `homepage` and `bugs` fields of the package in `dir` (relative to the root). */
export function packageLinks(dir, web = repositoryUrl()) {
  return {
    repository: { type: 'git', url: `git+${web}.git`, directory: dir },
    homepage: `${web}/tree/main/${dir}#readme`,
    bugs: { url: `${web}/issues` },
  };
}

/** Every workspace package folder, relative to the root (packages/*, connectors/*). */
export function workspaceDirs() {
  return ['packages', 'connectors'].flatMap((parent) =>
    readdirSync(join(root, parent))
      .sort()
      .map((entry) => `${parent}/${entry}`)
      .filter((dir) => existsSync(join(root, dir, 'package.json'))),
  );
}

function setRepository(web) {
  const rootFile = join(root, 'package.json');
  const rootPkg = readJson(rootFile);
  rootPkg.repository = { type: 'git', url: `git+${web}.git` };
  writeFileSync(rootFile, `${JSON.stringify(rootPkg, null, 2)}\n`);
  for (const dir of workspaceDirs()) {
    const file = join(root, dir, 'package.json');
    const pkg = readJson(file);
    if (pkg.repository === undefined) continue; // a private package that does not say where it lives
    Object.assign(pkg, packageLinks(dir, web));
    writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
    console.log(`set ${relative(root, file)}`);
  }
  console.log('Now run `pnpm format`, `pnpm build` and `node scripts/meltano-plugins.mjs` (the definitions name the repository).');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const web = process.argv[2]?.replace(/\/$/, '');
  if (!web || !/^https:\/\/\S+\/\S+$/.test(web)) {
    console.error('usage: node scripts/repository.mjs https://github.com/OWNER/NAME');
    process.exit(2);
  }
  setRepository(web);
}
