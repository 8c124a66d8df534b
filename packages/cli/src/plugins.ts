// Where the executables come from: bundled Tapline taps/targets/simulators, or any Singer command.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TaplineError } from './errors.js';

/** A process to start: the executable and its leading arguments. */
export interface Command {
  file: string;
  args: string[];
}

/** The exam platforms Tapline ships a connector (and a simulator) for. */
export const PROVIDERS = ['classmarker', 'testpress', 'onlineexammaker', 'cbthost'] as const;
export type Provider = (typeof PROVIDERS)[number];
export const isProvider = (name: string): name is Provider => (PROVIDERS as readonly string[]).includes(name);

export const WAREHOUSES = ['duckdb', 'postgres'] as const;
export type Warehouse = (typeof WAREHOUSES)[number];
export const isWarehouse = (name: string): name is Warehouse => (WAREHOUSES as readonly string[]).includes(name);

const here = path.dirname(fileURLToPath(import.meta.url));

/** The folder of an installed @tapline package, found the way Node resolves packages from here. */
export function findPackageDir(packageName: string, from: string = here): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', packageName);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The bin `binName` of package `packageName`, run with this Node (no shell shim in between, so a
 * signal reaches the real process). Undefined when the package is not installed or not built.
 */
export function bundledBin(packageName: string, binName: string): Command | undefined {
  const dir = findPackageDir(packageName);
  if (!dir) return undefined;
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[binName];
  if (!bin) return undefined;
  const file = path.join(dir, bin);
  if (!existsSync(file) || !isBuilt(file)) return undefined;
  return { file: process.execPath, args: [file] };
}

/** A bin script that imports ../dist/... only works once the package is built. */
function isBuilt(binFile: string): boolean {
  const text = readFileSync(binFile, 'utf8');
  const target = /import\s+['"](\.\.\/dist\/[^'"]+)['"]/.exec(text)?.[1];
  return target === undefined || existsSync(path.resolve(path.dirname(binFile), target));
}

export const tapPackage = (provider: Provider) => `@tapline/tap-${provider}`;
export const targetPackage = (warehouse: Warehouse) => `@tapline/target-${warehouse}`;

export function bundledTap(provider: Provider): Command | undefined {
  return bundledBin(tapPackage(provider), `tap-${provider}`);
}
export function bundledTarget(warehouse: Warehouse): Command | undefined {
  return bundledBin(targetPackage(warehouse), `target-${warehouse}`);
}
export function bundledSimulator(provider: Provider): Command | undefined {
  return bundledBin(tapPackage(provider), `${provider}-simulator`);
}

/** A command from tapline.yml: a string is split on whitespace, an array is taken as is. */
export function parseCommand(command: string | string[], cwd: string): Command {
  const parts = typeof command === 'string' ? command.trim().split(/\s+/) : command;
  const [file, ...args] = parts;
  if (!file) throw new TaplineError('An empty command was given.');
  // A relative path (./tap.js) is relative to the project, a bare name is looked up on PATH.
  const resolved = file.includes('/') ? path.resolve(cwd, file) : file;
  // A JavaScript file runs with this Node, so it works without an executable bit or shebang.
  if (/\.[cm]?js$/.test(resolved) && existsSync(resolved) && statSync(resolved).isFile()) {
    return { file: process.execPath, args: [resolved, ...args] };
  }
  return { file: resolved, args };
}

export const describeCommand = (command: Command): string =>
  [command.file === process.execPath ? 'node' : command.file, ...command.args].join(' ');
