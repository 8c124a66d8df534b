// The promise behind `escapeFree`: a JSON line without a backslash holds no character a bulk format must escape.
import { parseMessage, SingerInputError } from '@tapline/singer';
import { describe, expect, it } from 'vitest';
import { hasNoEscapes } from '../src/encode.js';

const line = (value: string) => JSON.stringify({ type: 'RECORD', stream: 's', record: { [value]: value, nested: { value } } });

describe('hasNoEscapes', () => {
  it('is false for every line whose strings hold a control character, NUL, a backslash or a quote (JSON spells each with a backslash)', () => {
    const special = ['\\', '"', ...Array.from({ length: 0x20 }, (_, code) => String.fromCharCode(code))];
    for (const character of special) expect(hasNoEscapes(line(`a${character}b`)), JSON.stringify(character)).toBe(false);
  });

  it('is true for plain text, whatever its script', () => {
    expect(hasNoEscapes(line('Brzęczyszczykiewicz — 試験 \u2028 ✓'))).toBe(true);
  });

  it('rests on JSON: a raw control character inside a string is not JSON, so it never reaches an encoder', () => {
    expect(() => parseMessage('{"type":"RECORD","stream":"s","record":{"a":"x\ty"}}', 7)).toThrow(SingerInputError);
    expect(() => parseMessage('{"type":"RECORD","stream":"s","record":{"a":"x\ny"}}', 7)).toThrow(/line 7/);
  });
});
