// The naming rule: snake_case, Unicode-aware, deterministic, and never two properties in one column.
import { describe, expect, it } from 'vitest';
import { columnNamesFor, normaliseName, tableRefForStream } from '../src/names.js';

describe('normaliseName', () => {
  it.each([
    ['clientName', 'client_name'],
    ['HTTPServer', 'http_server'],
    ['minus-column', 'minus_column'],
    ['a:b.c d', 'a_b_c_d'],
    ['_sdc_deleted_at', '_sdc_deleted_at'],
    ['Ονομα', 'ονομα'],
    ['ORDER', 'order'],
    ['test:SpecialChars!in?attributes', 'test_special_chars_in_attributes'],
    ['', '_'],
  ])('%j -> %j', (raw, expected) => {
    expect(normaliseName(raw, 63)).toBe(expected);
  });

  it('shortens long names to the byte limit with a hash, keeping them distinct', () => {
    const a = normaliseName(`${'x'.repeat(80)}a`, 63);
    const b = normaliseName(`${'x'.repeat(80)}b`, 63);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(Buffer.byteLength(normaliseName('é'.repeat(60), 63))).toBeLessThanOrEqual(63);
  });
});

describe('columnNamesFor', () => {
  it('gives colliding properties distinct columns, independent of order', () => {
    const one = columnNamesFor(['a-b', 'a_b', 'aB'], 63);
    const two = columnNamesFor(['aB', 'a_b', 'a-b'], 63);
    expect(one).toEqual(two);
    expect(one.get('a_b')).toBe('a_b');
    expect(new Set(one.values()).size).toBe(3);
  });

  it('reserves metadata names for properties spelled exactly like them', () => {
    const names = columnNamesFor(['_sdc_deleted_at', '_SDC_deleted_at'], 63, new Set(['_sdc_deleted_at']));
    expect(names.get('_sdc_deleted_at')).toBe('_sdc_deleted_at');
    expect(names.get('_SDC_deleted_at')).not.toBe('_sdc_deleted_at');
  });

  it('gives a property spelled like a reserved name that is not claimable a hashed column of its own', () => {
    const reserved = new Set(['_sdc_deleted_at', '_sdc_sequence']);
    const names = columnNamesFor(['_sdc_deleted_at', '_sdc_sequence'], 63, reserved, new Set(['_sdc_deleted_at']));
    expect(names.get('_sdc_deleted_at')).toBe('_sdc_deleted_at');
    expect(names.get('_sdc_sequence')).toMatch(/^_sdc_sequence__[0-9a-f]{8}$/);
  });
});

describe('tableRefForStream', () => {
  const options = { defaultSchema: 'public', maxBytes: 63 };
  it('splits `schema-table` unless default_target_schema is set', () => {
    expect(tableRefForStream('tap_mysql-orders', { ...options, schemaIsExplicit: false })).toEqual({
      schema: 'tap_mysql',
      table: 'orders',
    });
    expect(tableRefForStream('db-sales-orders', { ...options, schemaIsExplicit: false })).toEqual({ schema: 'sales', table: 'orders' });
    expect(tableRefForStream('tap_mysql-orders', { ...options, schemaIsExplicit: true })).toEqual({ schema: 'public', table: 'orders' });
    expect(tableRefForStream('users', { ...options, schemaIsExplicit: false })).toEqual({ schema: 'public', table: 'users' });
  });
});
