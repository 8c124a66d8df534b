import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CODE_TABLE, EXIT_CODES, exitCodesHelp, exitCodesMarkdown, exitCodesOf, RUNNER_EXIT_CODES } from '../src/index.js';

describe('the exit-code table', () => {
  it('gives every code one name and one meaning, for taps, targets and the runner alike', () => {
    const codes = EXIT_CODE_TABLE.map((entry) => entry.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [name, code] of Object.entries({ ...EXIT_CODES, ...RUNNER_EXIT_CODES })) {
      if (name === 'interrupted') continue; // the signal row: 128 + n
      expect(EXIT_CODE_TABLE.find((entry) => entry.code === code)?.name, name).toBe(name);
    }
  });

  it('keeps the runner outer layer (tap failed, target failed) apart from the shared codes', () => {
    const shared = new Set<number>(Object.values(EXIT_CODES));
    expect(shared.has(RUNNER_EXIT_CODES.tapFailed)).toBe(false);
    expect(shared.has(RUNNER_EXIT_CODES.targetFailed)).toBe(false);
    expect(exitCodesOf('tap').map((e) => e.name)).toEqual(['ok', 'system', 'usage', 'config', 'transient', 'partial', 'signal']);
    expect(exitCodesOf('target').map((e) => e.name)).toEqual([
      'ok',
      'system',
      'usage',
      'config',
      'transient',
      'resource',
      'data',
      'signal',
    ]);
  });

  it('prints a --help block of the codes a program uses, one code a line', () => {
    const help = exitCodesHelp('target', 100);
    expect(help.split('\n')[0]).toBe('Exit codes:');
    expect(help).toContain('  7     The Singer input was bad');
    expect(help).toContain('  128+n Stopped by signal n');
    expect(help).not.toContain('partial');
    for (const line of help.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('is documented in the README as exitCodesMarkdown() renders it', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = /<!-- exit-codes:start -->\n([\s\S]*?)<!-- exit-codes:end -->/.exec(readme)?.[1];
    expect(documented, 'paste exitCodesMarkdown() between the exit-codes markers of packages/singer/README.md').toBe(exitCodesMarkdown());
  });
});
