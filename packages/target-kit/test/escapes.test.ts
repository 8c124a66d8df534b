// The promise behind `escapeFree`: a JSON line without a backslash holds no character a bulk format must escape.
import { parseMessage, SingerInputError } from '@tapline/singer';
import { describe, expect, it } from 'vitest';
import { hasNoEscapes, hasUnpairedSurrogate, replaceUnpairedSurrogates } from '../src/encode.js';

const line = (value: string) => JSON.stringify({ type: 'RECORD', stream: 's', record: { [value]: value, nested: { value } } });

describe('hasNoEscapes', () => {
  it('is false for every line whose strings hold a control character, NUL, a backslash or a quote (JSON spells each with a backslash)', () => {
    const special = ['\\', '"', ...Array.from({ length: 0x20 }, (_, code) => String.fromCharCode(code))];
    for (const character of special) expect(hasNoEscapes(line(`a${character}b`)), JSON.stringify(character)).toBe(false);
  });

  it('is false for a line holding an unpaired surrogate: JSON.stringify writes one as an escape, and UTF-8 input cannot hold one', () => {
    expect(hasNoEscapes(line('a\ud800b'))).toBe(false);
    expect(hasNoEscapes(line('\ud83d\ude00'))).toBe(true); // a pair is a character
  });

  it('is true for plain text, whatever its script', () => {
    expect(hasNoEscapes(line('Brzęczyszczykiewicz — 試験 \u2028 ✓'))).toBe(true);
  });

  it('rests on JSON: a raw control character inside a string is not JSON, so it never reaches an encoder', () => {
    expect(() => parseMessage('{"type":"RECORD","stream":"s","record":{"a":"x\ty"}}', 7)).toThrow(SingerInputError);
    expect(() => parseMessage('{"type":"RECORD","stream":"s","record":{"a":"x\ny"}}', 7)).toThrow(/line 7/);
  });
});

describe('unpaired surrogates', () => {
  it('are found in text cells, and in JSON text only as escapes (an escaped backslash before "ud800" is text)', () => {
    expect(hasUnpairedSurrogate('a\ud800b', 'string')).toBe(true);
    expect(hasUnpairedSurrogate('\udc00', 'string')).toBe(true);
    expect(hasUnpairedSurrogate('\ud83d\ude00', 'string')).toBe(false);
    expect(hasUnpairedSurrogate(JSON.stringify({ s: 'x\ud800' }), 'json')).toBe(true);
    expect(hasUnpairedSurrogate(JSON.stringify({ s: '\ud83d\ude00' }), 'json')).toBe(false);
    expect(hasUnpairedSurrogate(JSON.stringify({ s: '\\ud800' }), 'json')).toBe(false);
    expect(hasUnpairedSurrogate(JSON.stringify({ s: '\\\ud800' }), 'json')).toBe(true);
  });

  it('are replaced by U+FFFD, each of them, adjacent ones too, and nothing else changes', () => {
    expect(replaceUnpairedSurrogates('a\ud800\udc00\udc00b', 'string')).toBe('a\u{10000}\ufffdb');
    const json = replaceUnpairedSurrogates(JSON.stringify({ s: '\udc00\udc00', t: '\\ud800', u: '\ud83d\ude00' }), 'json');
    expect(JSON.parse(json)).toEqual({ s: '\ufffd\ufffd', t: '\\ud800', u: '\ud83d\ude00' });
  });
});
