// Keys as the database compares them: how a batch tells that two records carry the same key.
import { isPlainObject, parseJson, setOwn, stringifyJson } from '@tapline/singer';
import type { CellValue, ColumnKind } from './dialect.js';
import { timestampInstantKey } from './timestamp.js';

const DECIMAL_PARTS = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** An exact decimal's text as equal decimals share it (`1.10`, `1.1`, `0011e-1`), or null for text that is no decimal. */
export function decimalKey(text: string): string | null {
  const parts = DECIMAL_PARTS.exec(text);
  if (parts === null || (parts[2] === '' && (parts[3] ?? '') === '')) return null;
  const [, sign, whole = '', fraction = '', exponent = '0'] = parts;
  const digits = (whole + fraction).replace(/^0+/, '');
  if (digits === '') return '0';
  const significant = digits.replace(/0+$/, '');
  const power = BigInt(exponent) - BigInt(fraction.length) + BigInt(digits.length - significant.length);
  return `${sign === '-' ? '-' : ''}${significant}e${power}`;
}

const shortInteger = /^-?[0-9]{1,16}$/;

/**
 * Map key for a key cell: the same key whatever its spelling, as the database compares them (1,
 * 1n and "1" in an integer column are one key, and so are two spellings of one instant or one
 * decimal; numbers stay numbers, so the common case allocates nothing). Two records of a batch
 * with one key must be one row: the load would otherwise fail on the primary key (PostgreSQL)
 * or keep both (DuckDB).
 */
export function keyOf(cell: CellValue, kind: ColumnKind): unknown {
  if (typeof cell === 'string') {
    if (kind === 'timestamp') return timestampInstantKey(cell) ?? cell;
    if (kind === 'decimal') return decimalKey(cell) ?? cell;
  }
  switch (typeof cell) {
    case 'number':
      return Number.isSafeInteger(cell) ? cell : String(cell);
    case 'bigint':
      return cell >= -9007199254740991n && cell <= 9007199254740991n ? Number(cell) : String(cell);
    case 'string':
      if (shortInteger.test(cell)) {
        const number = Number(cell);
        if (Number.isSafeInteger(number) && String(number) === cell) return number;
      }
      return cell;
    default:
      return cell;
  }
}

/**
 * The key of a row with several key columns, from each column's `keyOf`: the JSON of the parts'
 * text, which no two different keys share. (Joined with U+0000 instead, `("x\u0000y", "z")` and
 * `("x", "y\u0000z")` were one key, and DuckDB kept only one of the two rows.) Both the parsing
 * path and plain records (plain/plain-records.ts) key rows with this.
 */
export function compositeKey(parts: readonly unknown[]): string {
  return JSON.stringify(parts.map(String));
}

/**
 * A JSON key cell with every object's keys in one order. PostgreSQL's jsonb compares objects
 * whatever their key order, so two records keyed `{"a":1,"b":2}` and `{"b":2,"a":1}` in one batch
 * failed the load on the primary key; DuckDB compares JSON as text, so they were two rows. Stored
 * so, one key is one row in both, in a batch and across batches.
 */
export function canonicalJsonKey(text: string): string {
  return stringifyJson(sortedKeys(parseJson(text)));
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (!isPlainObject(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) setOwn(sorted, key, sortedKeys(value[key]));
  return sorted;
}
