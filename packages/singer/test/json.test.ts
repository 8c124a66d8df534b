import { describe, expect, it } from 'vitest';
import {
  containsNonFinite,
  isLosslessNumber,
  LosslessNumber,
  mayContainUnsafeNumber,
  nestingDepth,
  parseJson,
  parseJsonAllowingNonFinite,
  parseMessage,
  stringifyJson,
} from '../src/index.js';

describe('parseJson', () => {
  it.each([
    ['99999999999999999', 'an integer above 2^53'],
    ['-9223372036854775809', 'an integer below int64'],
    ['123456789012345678901234567890', 'a 30-digit integer'],
    ['3.14159265358979323846264338327950288', 'a long decimal'],
    ['1234567890.123456789', 'a decimal with 19 significant digits'],
    ['1e400', 'a number that overflows a double'],
    ['1e-400', 'a number that underflows a double'],
  ])('keeps %s (%s) exact as a LosslessNumber', (literal) => {
    const value = parseJson(`{"n": ${literal}}`) as { n: unknown };
    expect(isLosslessNumber(value.n)).toBe(true);
    expect(String(value.n)).toBe(literal);
  });

  it.each([
    ['9007199254740991', 9007199254740991],
    ['0.30000000000000004', 0.30000000000000004],
    ['1640995200000000', 1640995200000000],
    ['12345678901234.5', 12345678901234.5],
    ['1.50000000000000000000', 1.5],
    // How Python (repr) and Java print doubles: the same double, spelled another way.
    ['6.666666666666667e-06', 6.666666666666667e-6],
    ['1.0000000000000002e+16', 10000000000000002],
    ['1.2345678901234566e-07', 1.2345678901234566e-7],
    ['1.5E7', 15000000],
    ['1.0E-10', 1e-10],
    ['0E-800', 0],
  ])('returns %s as a plain number because a double holds it exactly', (literal, expected) => {
    expect(parseJson(`[${literal}]`)).toEqual([expected]);
  });

  it('leaves strings of digits alone', () => {
    expect(parseJson('{"phone": "12345678901234567890", "n": 1}')).toEqual({ phone: '12345678901234567890', n: 1 });
  });

  it('revives big numbers anywhere in the tree, leaving look-alike strings untouched', () => {
    const text =
      '{"a": [1, 99999999999999999, {"b": -123456789012345678901}], "s": "x: 99999999999999999", "q": "\\": 12345678901234567890", "n": 2}';
    const value = parseJson(text) as { a: [number, unknown, { b: unknown }]; s: string; q: string; n: number };
    expect(String(value.a[1])).toBe('99999999999999999');
    expect(isLosslessNumber(value.a[2].b) && value.a[2].b.toString()).toBe('-123456789012345678901');
    expect(value.s).toBe('x: 99999999999999999');
    expect(value.q).toBe('": 12345678901234567890');
    expect(value.n).toBe(2);
    expect(stringifyJson(value)).toBe(
      '{"a":[1,99999999999999999,{"b":-123456789012345678901}],"s":"x: 99999999999999999","q":"\\": 12345678901234567890","n":2}',
    );
  });

  it('stays exact when the data contains the internal sentinel text', () => {
    const value = parseJson('{"s": "\\u0000#lossless#1", "n": 99999999999999999}') as { s: string; n: unknown };
    expect(value.s).toBe('\u0000#lossless#1');
    expect(String(value.n)).toBe('99999999999999999');
  });

  it('keeps the last of duplicate keys, as JSON.parse does, on both paths', () => {
    expect(parseJson('{"a": 1, "a": 2}')).toEqual({ a: 2 });
    expect(parseJson('{"a": 1, "a": 99999999999999999}')).toEqual({ a: new LosslessNumber('99999999999999999') });
  });

  it('throws a SyntaxError on invalid JSON on both paths', () => {
    expect(() => parseJson('{"a": ')).toThrow(SyntaxError);
    expect(() => parseJson('{"a": 99999999999999999')).toThrow();
  });

  it('only sends lines that may hold an unsafe number to the slow path', () => {
    const typical =
      '{"type":"RECORD","stream":"results","record":{"id":123456,"score":87.5,"taken_at":"2024-05-01T10:00:00.000000Z","uuid":"3e456a1b-0c2d-4e5f-9a8b-7c6d5e4f3a2b"}}';
    expect(mayContainUnsafeNumber(typical)).toBe(false);
    expect(mayContainUnsafeNumber('{"id":99999999999999999}')).toBe(true);
    expect(mayContainUnsafeNumber('{"x":[1, 2e308]}')).toBe(true);
  });

  it('finds an unsafe literal wherever it sits in the line (the pre-check samples every 16th character)', () => {
    for (let pad = 0; pad < 40; pad++) {
      const prefix = `{"${'k'.repeat(pad)}":`;
      for (const literal of ['12345678901234567', '1234567890.12345678', '1e-400', '-1.5E+999']) {
        const value = parseJson(`${prefix}${literal}}`) as Record<string, unknown>;
        expect(String(Object.values(value)[0])).toBe(literal);
        expect(isLosslessNumber(Object.values(value)[0])).toBe(true);
      }
      expect(mayContainUnsafeNumber(`${prefix}123456789012345}`)).toBe(false);
    }
  });
});

describe('parseJsonAllowingNonFinite (lines JSON.parse refused)', () => {
  it("reads NaN, Infinity and -Infinity where Python's json module writes them, as JavaScript numbers", () => {
    expect(parseJsonAllowingNonFinite('{"a":NaN,"b":[Infinity,-Infinity],"c":-1,"d":1e400}')).toEqual({
      a: NaN,
      b: [Infinity, -Infinity],
      c: -1,
      d: new LosslessNumber('1e400'),
    });
  });

  it('leaves the words alone inside strings, keys included', () => {
    expect(parseJsonAllowingNonFinite('{"NaN":"-Infinity \\" NaN","x":NaN}')).toEqual({ NaN: '-Infinity " NaN', x: NaN });
  });

  it('still refuses what is no JSON with them either', () => {
    for (const text of ['{"a":nan}', '{"a":NaNa}', '{"a":+Infinity}', '{"a":Inf}'])
      expect(() => parseJsonAllowingNonFinite(text), text).toThrow(SyntaxError);
  });

  it('is what parseMessage falls back on, so a record can carry them', () => {
    expect(parseMessage('{"type":"RECORD","stream":"s","record":{"f":NaN}}', 1)).toMatchObject({ record: { f: NaN } });
  });
});

describe('containsNonFinite', () => {
  it('finds NaN or an infinity at any depth, which JSON.stringify would write as null', () => {
    expect(containsNonFinite({ a: [1, { b: NaN }] })).toBe(true);
    expect(containsNonFinite(-Infinity)).toBe(true);
    expect(containsNonFinite({ a: [1, null, 'NaN', new LosslessNumber('1e400')] })).toBe(false);
  });
});

describe('stringifyJson', () => {
  it('writes LosslessNumbers as their digits', () => {
    const text = '{"id":99999999999999999,"price":0.1234567890123456789,"n":2}';
    expect(stringifyJson(parseJson(text))).toBe(text);
  });

  it('writes bigints as integers', () => {
    expect(stringifyJson({ version: 12345678901234567890n })).toBe('{"version":12345678901234567890}');
  });

  it('is JSON.stringify for plain values', () => {
    const value = { a: [1, 'two', null, { b: true }], c: 'x"y' };
    expect(stringifyJson(value)).toBe(JSON.stringify(value));
  });
});

describe('nestingDepth', () => {
  it('counts levels of arrays and objects; scalars and exact numbers are level 0', () => {
    expect(nestingDepth('text')).toBe(0);
    expect(nestingDepth(new LosslessNumber('12345678901234567890'))).toBe(0);
    expect(nestingDepth({})).toBe(1);
    expect(nestingDepth({ a: [1, { b: [] }], c: 2 })).toBe(4);
  });

  it('measures values far too deep for recursion', () => {
    const depth = 200_000;
    expect(nestingDepth(JSON.parse('['.repeat(depth) + ']'.repeat(depth)))).toBe(depth);
  });
});
