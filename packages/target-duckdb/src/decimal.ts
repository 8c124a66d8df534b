// Exact decimals as DuckDB numbers: the DECIMAL(p,s) / HUGEINT a column needs, sized from the values it holds.

/**
 * What a set of decimal values needs: the most integer digits (leading zeros not counted), the
 * most fraction digits, whether an integer lies outside HUGEINT's range, and whether some value
 * is not a decimal literal at all (possible with validate_records off).
 */
export interface DecimalShape {
  integerDigits: number;
  scale: number;
  beyondHugeint: boolean;
  text: boolean;
}

export const emptyShape = (): DecimalShape => ({ integerDigits: 0, scale: 0, beyondHugeint: false, text: false });

export function mergeShapes(a: DecimalShape, b: DecimalShape): DecimalShape {
  return {
    integerDigits: Math.max(a.integerDigits, b.integerDigits),
    scale: Math.max(a.scale, b.scale),
    beyondHugeint: a.beyondHugeint || b.beyondHugeint,
    text: a.text || b.text,
  };
}

/** DuckDB's DECIMAL holds at most 38 digits; past 18 it is stored as 128 bits anyway. */
const MAX_PRECISION = 38;
const SMALL_PRECISION = 18;
/** HUGEINT is a signed 128-bit integer; DuckDB refuses -2^127 itself, so the range is symmetric. */
const HUGEINT_MAX = 2n ** 127n - 1n;

const PLAIN = /^-?\d+(?:\.\d+)?$/;
const SCIENTIFIC = /^([+-]?)(\d*)(?:\.(\d*))?[eE]([+-]?\d+)$/;
/** What x-singer.decimal also admits without an exponent: a sign `+`, no digit before or after the point (`+1`, `.5`, `5.`, `-.5`). */
const LOOSE = /^([+-]?)(\d*)\.?(\d*)$/;

/**
 * The plain decimal text (`-12.50`) of a decimal cell, or null when the cell is not a decimal
 * literal. Exponent forms (`1e+21`, from a JSON number) are rewritten digit by digit, never
 * through a double; `.5` and `5.` (x-singer.decimal admits them) become `0.5` and `5`.
 */
export function plainDecimal(text: string): string | null {
  if (PLAIN.test(text)) return text;
  const match = SCIENTIFIC.exec(text);
  if (match === null) {
    const loose = LOOSE.exec(text);
    if (loose === null) return null;
    const [, sign, whole = '', fraction = ''] = loose;
    if (whole === '' && fraction === '') return null;
    return `${sign === '-' ? '-' : ''}${whole === '' ? '0' : whole}${fraction === '' ? '' : `.${fraction}`}`;
  }
  const [, sign, whole = '', fraction = '', exponentText = '0'] = match;
  if (whole === '' && fraction === '') return null;
  const digits = whole + fraction;
  const exponent = Number(exponentText);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 1000) return null;
  const point = whole.length + exponent;
  let result: string;
  if (point <= 0) result = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) result = digits + '0'.repeat(point - digits.length);
  else result = `${digits.slice(0, point)}.${digits.slice(point)}`;
  result = result.replace(/^0+(?=\d)/, '');
  if (result.includes('.')) result = result.replace(/\.?0+$/, '');
  return (sign === '-' && /[1-9]/.test(result) ? '-' : '') + (result === '' ? '0' : result);
}

/** Add one plain decimal (from `plainDecimal`) to a shape. */
export function widenShape(shape: DecimalShape, plain: string): void {
  const negative = plain.charCodeAt(0) === 45; // '-'
  const point = plain.indexOf('.');
  const end = point < 0 ? plain.length : point;
  let first = negative ? 1 : 0;
  while (first < end - 1 && plain.charCodeAt(first) === 48) first++; // leading '0'
  const integerDigits = end - first === 1 && plain.charCodeAt(first) === 48 ? 0 : end - first;
  if (integerDigits > shape.integerDigits) shape.integerDigits = integerDigits;
  const scale = point < 0 ? 0 : plain.length - point - 1;
  if (scale > shape.scale) shape.scale = scale;
  if (point < 0 && integerDigits >= 39 && !shape.beyondHugeint) {
    const value = BigInt(plain);
    if (value > HUGEINT_MAX || value < -HUGEINT_MAX) shape.beyondHugeint = true;
  }
}

/**
 * The DuckDB type for values of this shape (README, "Types"): integers of up to 18 digits
 * DECIMAL(18,0), larger ones HUGEINT; fractions DECIMAL(18,s) or DECIMAL(38,s) (the two storage
 * sizes, so a column seldom needs altering as values grow); VARCHAR beyond 38 digits, beyond
 * HUGEINT, or for text that is no number, since DuckDB would round or refuse those.
 */
export function decimalSqlType(shape: DecimalShape): string {
  if (shape.text) return 'VARCHAR';
  const { integerDigits, scale } = shape;
  if (scale === 0) {
    if (integerDigits <= SMALL_PRECISION) return `DECIMAL(${SMALL_PRECISION},0)`;
    return shape.beyondHugeint ? 'VARCHAR' : 'HUGEINT';
  }
  if (integerDigits + scale <= SMALL_PRECISION) return `DECIMAL(${SMALL_PRECISION},${scale})`;
  if (integerDigits + scale <= MAX_PRECISION) return `DECIMAL(${MAX_PRECISION},${scale})`;
  return 'VARCHAR';
}

/** Whether a column of this SQL type holds every value of the shape exactly. */
export function typeHolds(sqlType: string, shape: DecimalShape): boolean {
  const type = sqlType.toUpperCase();
  if (type === 'VARCHAR') return true;
  if (shape.text) return false;
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) {
    const precision = Number(decimal[1]);
    const scale = Number(decimal[2]);
    return shape.scale <= scale && shape.integerDigits <= precision - scale;
  }
  if (type === 'HUGEINT') return shape.scale === 0 && !shape.beyondHugeint;
  if (type === 'BIGINT') return shape.scale === 0 && shape.integerDigits <= 18;
  return false;
}

/** True for the SQL types an exact-decimal column may have (DECIMAL(p,s), HUGEINT). */
export function isDecimalSqlType(sqlType: string): boolean {
  const type = sqlType.toUpperCase();
  return type === 'HUGEINT' || /^DECIMAL\(\d+,\s*\d+\)$/.test(type);
}
