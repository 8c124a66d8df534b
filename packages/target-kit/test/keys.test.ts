// Two spellings of one key in a batch must be one row, as the database compares keys.
import { describe, expect, it } from 'vitest';
import { compositeKey, decimalKey, keyOf } from '../src/keys.js';

describe('decimalKey', () => {
  it('is one text for one decimal, however it is written', () => {
    for (const same of ['1.1', '1.10', '01.1', '11e-1', '0.011E2', '+1.1']) expect(decimalKey(same), same).toBe(decimalKey('1.1'));
    for (const zero of ['0', '-0', '0.000', '0e5']) expect(decimalKey(zero), zero).toBe('0');
    expect(decimalKey('100')).toBe(decimalKey('1e2'));
    expect(decimalKey('-1.1')).not.toBe(decimalKey('1.1'));
    expect(decimalKey('123456789012345678901234567890.5')).not.toBe(decimalKey('123456789012345678901234567890.50001'));
  });

  it('is null for text that is no decimal (the cell is then its own key)', () => {
    for (const text of ['', '.', 'abc', '1.2.3', 'NaN', 'e5']) expect(decimalKey(text), text).toBeNull();
  });
});

describe('compositeKey', () => {
  it('never gives two different keys one text, whatever their parts hold (U+0000 too)', () => {
    const keys = [
      ['x\u0000y', 'z'],
      ['x', 'y\u0000z'],
      ['1', '2'],
      ['1\u00002', ''],
      ['1', '2\u0000'],
      ['a","b', 'c'],
      ['a', 'b","c'],
    ];
    const texts = keys.map((parts) => compositeKey(parts.map((part) => keyOf(part, 'string'))));
    expect(new Set(texts).size).toBe(keys.length);
  });

  it('is one text for one key spelled alike in each part (1, 1n and "1" in an integer column)', () => {
    const key = compositeKey([keyOf(1, 'integer'), keyOf('a', 'string')]);
    expect(compositeKey([keyOf(1n, 'integer'), keyOf('a', 'string')])).toBe(key);
    expect(compositeKey([keyOf('1', 'integer'), keyOf('a', 'string')])).toBe(key);
  });
});
