// Schema diff -> column plan: add new columns, widen when needed, never narrow or drop.

import { LosslessNumber } from '@tapline/singer';
import { describe, expect, it } from 'vitest';
import { planColumns, widenKind } from '../src/column-plan.js';
import { encodeCell, InvalidValue, NeedsWiderColumn } from '../src/encode.js';

describe('widenKind', () => {
  it.each([
    ['integer', 'number', 'decimal'],
    ['integer', 'decimal', 'decimal'],
    ['date', 'timestamp', 'timestamp'],
    ['integer', 'json', 'json'],
    ['json', 'string', 'string'],
    ['timestamp', 'string', 'string'],
    ['boolean', 'integer', 'string'],
    ['bytes', 'json', 'string'],
    ['bytes', 'integer', 'string'],
  ] as const)('%s + %s -> %s', (a, b, expected) => {
    expect(widenKind(a, b)).toBe(expected);
    expect(widenKind(b, a)).toBe(expected);
  });
});

describe('planColumns', () => {
  it('adds new columns, widens where needed, keeps wider existing columns, leaves unmapped types alone', () => {
    const existing = new Map<string, 'string' | 'integer' | null>([
      ['id', 'integer'],
      ['name', 'string'],
      ['blob', null],
    ]);
    const plan = planColumns(existing as never, [
      { name: 'id', kind: 'number' },
      { name: 'name', kind: 'integer' },
      { name: 'blob', kind: 'string' },
      { name: 'added', kind: 'boolean' },
    ]);
    expect(plan.add).toEqual([{ name: 'added', kind: 'boolean' }]);
    expect(plan.widen).toEqual([{ column: { name: 'id', kind: 'decimal' }, from: 'integer' }]);
  });
});

describe('encodeCell', () => {
  it('keeps integers exact and asks for a wider column beyond int64', () => {
    expect(encodeCell('integer', new LosslessNumber('9223372036854775807'))).toBe(9223372036854775807n);
    expect(encodeCell('integer', new LosslessNumber('9223372036854775808'))).toBeInstanceOf(NeedsWiderColumn);
    expect(encodeCell('decimal', new LosslessNumber('123456789012345678901234567890.5'))).toBe('123456789012345678901234567890.5');
  });

  it('stores other values in text columns as their text, and never invents timestamps', () => {
    expect(encodeCell('string', 12)).toBe('12');
    expect(encodeCell('string', { a: 1 })).toBe('{"a":1}');
    expect(encodeCell('string', '')).toBe('');
    expect(encodeCell('timestamp', '')).toBeNull();
    expect(encodeCell('json', 'text')).toBe('"text"');
  });

  it('reads base16 text into bytes as lower-case hex: 0x optional, odd length has a leading zero, anything else is refused', () => {
    expect(encodeCell('bytes', '0xA1B2')).toBe('a1b2');
    expect(encodeCell('bytes', 'A12')).toBe('0a12');
    expect(encodeCell('bytes', '0X')).toBe('');
    expect(encodeCell('bytes', '')).toBe('');
    expect(encodeCell('bytes', null)).toBeNull();
    expect(encodeCell('bytes', '0xfg')).toBeInstanceOf(InvalidValue);
    expect(encodeCell('bytes', 'x12')).toBeInstanceOf(InvalidValue);
    expect(encodeCell('bytes', 12)).toBeInstanceOf(InvalidValue);
  });

  it('reads text in an integer or boolean column (validate_records off) as PostgreSQL does, for both databases', () => {
    expect(encodeCell('integer', ' 7 ')).toBe('7');
    expect(encodeCell('integer', '+007')).toBe('+007');
    // DuckDB's reader rounded these (2, 1000); PostgreSQL refuses them: now both, by line and field.
    for (const text of ['1.5', '1e3', '', 'seven', '0x10']) expect(encodeCell('integer', text), text).toBeInstanceOf(InvalidValue);
    for (const text of ['yes', 'Y', 'on', ' true ', 'tr', 't', '1']) expect(encodeCell('boolean', text), text).toBe(true);
    for (const text of ['no', 'n', 'off', 'of', 'FALSE', 'f', '0']) expect(encodeCell('boolean', text), text).toBe(false);
    for (const text of ['o', 'maybe', '2', '', 'yess']) expect(encodeCell('boolean', text), text).toBeInstanceOf(InvalidValue);
  });
});
