// packageVersion: a connector's --version comes from its own package.json.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packageVersion } from '../src/index.js';

const own = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

describe('packageVersion', () => {
  it('reads the version of the named package one or two folders above the module (src/ or dist/src/)', () => {
    expect(packageVersion(new URL('../src/index.ts', import.meta.url).href, own.name)).toBe(own.version);
    expect(packageVersion(new URL('../dist/src/index.js', import.meta.url).href, own.name)).toBe(own.version);
  });

  it('says 0.0.0 rather than report another package’s version', () => {
    expect(packageVersion(new URL('../src/index.ts', import.meta.url).href, '@tapline/not-this-one')).toBe('0.0.0');
  });
});
