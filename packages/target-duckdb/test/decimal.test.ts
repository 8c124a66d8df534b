// How decimal text is read and which DuckDB type holds it (README, "Types").
import { describe, expect, it } from 'vitest';
import { decimalSqlType, emptyShape, plainDecimal, typeHolds, widenShape } from '../src/decimal.js';

const shapeOf = (...values: string[]) => {
  const shape = emptyShape();
  for (const value of values) {
    const plain = plainDecimal(value);
    if (plain === null) shape.text = true;
    else widenShape(shape, plain);
  }
  return shape;
};

describe('plainDecimal', () => {
  it('keeps plain decimals and rewrites exponent forms digit by digit', () => {
    expect(plainDecimal('2.00')).toBe('2.00');
    expect(plainDecimal('-0.5')).toBe('-0.5');
    expect(plainDecimal('+7')).toBe('7');
    expect(plainDecimal('1e+21')).toBe('1000000000000000000000');
    expect(plainDecimal('1.5e-7')).toBe('0.00000015');
    expect(plainDecimal('-1.25E2')).toBe('-125');
    expect(plainDecimal('12.5e1')).toBe('125');
    // x-singer.decimal admits these spellings: they are the decimals they spell, not text.
    expect(plainDecimal('.5')).toBe('0.5');
    expect(plainDecimal('5.')).toBe('5');
    expect(plainDecimal('-.25')).toBe('-0.25');
    expect(plainDecimal('+.5')).toBe('0.5');
    expect(plainDecimal('.')).toBeNull();
    expect(plainDecimal('-')).toBeNull();
    expect(plainDecimal('abc')).toBeNull();
    expect(plainDecimal('1.2.3')).toBeNull();
    expect(plainDecimal('')).toBeNull();
  });
});

describe('decimalSqlType', () => {
  it('sizes the type from the most integer digits and the longest fraction', () => {
    expect(decimalSqlType(shapeOf('2.00', '87.5'))).toBe('DECIMAL(18,2)');
    expect(decimalSqlType(shapeOf('007', '-0'))).toBe('DECIMAL(18,0)');
    expect(decimalSqlType(shapeOf('12345678901234567.5'))).toBe('DECIMAL(18,1)');
    expect(decimalSqlType(shapeOf('123456789012345678.5'))).toBe('DECIMAL(38,1)');
    expect(decimalSqlType(shapeOf('99999999999999999999'))).toBe('HUGEINT');
    expect(decimalSqlType(shapeOf('170141183460469231731687303715884105727'))).toBe('HUGEINT');
    expect(decimalSqlType(shapeOf('170141183460469231731687303715884105728'))).toBe('VARCHAR');
    expect(decimalSqlType(shapeOf('1234567890123456789012345678901234567.89'))).toBe('VARCHAR');
    expect(decimalSqlType(shapeOf('12', 'n/a'))).toBe('VARCHAR');
  });

  it('knows when a column already holds a batch', () => {
    expect(typeHolds('DECIMAL(18,2)', shapeOf('1.5', '9999999999999999.99'))).toBe(true);
    expect(typeHolds('DECIMAL(18,2)', shapeOf('1.125'))).toBe(false);
    expect(typeHolds('DECIMAL(18,2)', shapeOf('99999999999999999'))).toBe(false);
    expect(typeHolds('HUGEINT', shapeOf('99999999999999999999'))).toBe(true);
    expect(typeHolds('HUGEINT', shapeOf('1.5'))).toBe(false);
    expect(typeHolds('VARCHAR', shapeOf('anything'))).toBe(true);
  });
});
