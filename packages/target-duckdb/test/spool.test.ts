// The spool's CSV lines: what each cell becomes, and what the encoder measures on the way.
import type { ColumnDef } from '@tapline/target-kit';
import { describe, expect, it } from 'vitest';
import { CsvRowEncoder, csvFields } from '../src/spool.js';

const Q = '\u0001'; // the spool's quote byte

describe('CsvRowEncoder', () => {
  const columns: ColumnDef[] = [
    { name: 'id', kind: 'integer' },
    { name: 't', kind: 'string' },
    { name: 'x', kind: 'number' },
    { name: 'd', kind: 'decimal' },
    { name: 'j', kind: 'json' },
    { name: 'b', kind: 'boolean' },
  ];

  it('quotes text (so "" is not NULL), doubles the quote byte, and writes numbers bare, -0 included', () => {
    const encoder = new CsvRowEncoder(columns, false);
    expect(encoder.encode([1, '', -0, '1e3', '{"a":"b,c"}', true])).toBe(`1,${Q}${Q},-0,${Q}1000${Q},${Q}{"a":"b,c"}${Q},true\n`);
    expect(encoder.encode([2n ** 70n, `a${Q}b\n"c"\u0000`, 0.1, null, null, null])).toBe(
      `1180591620717411303424,${Q}a${Q}${Q}b\n"c"\u0000${Q},0.1,,,\n`,
    );
  });

  it('reads its own lines back field by field, NULL as null', () => {
    const encoder = new CsvRowEncoder(columns, false);
    const line = encoder.encode([7, `x${Q}y,z`, null, '-0.50', '[1]', false]);
    expect(csvFields(line)).toEqual(['7', `x${Q}y,z`, null, '-0.50', '[1]', 'false']);
  });

  it('measures decimal columns: most integer digits, longest fraction', () => {
    const encoder = new CsvRowEncoder(columns, false);
    encoder.encode([1, 'a', 1, '123.4', null, null]);
    encoder.encode([2, 'b', 2, '-0.125', null, null]);
    expect(encoder.shapes[3]).toEqual({ integerDigits: 3, scale: 3, beyondHugeint: false, text: false });
    expect(encoder.shapes[0]).toBeNull();
  });

  it('measures integer columns: least and greatest, and says so when a cell was no integer', () => {
    const encoder = new CsvRowEncoder(columns, false);
    encoder.encode([5, 'a', 1, null, null, null]);
    encoder.encode([2n ** 64n, 'b', 1, null, null, null]);
    encoder.encode([-3, 'c', 1, null, null, null]);
    expect(encoder.integerRanges[0]).toEqual({ min: -3, max: 2n ** 64n, onlyIntegers: true });
    encoder.encode([2.5, 'd', 1, null, null, null]);
    expect(encoder.integerRanges[0]?.onlyIntegers).toBe(false);
    expect(encoder.integerRanges[1]).toBeNull();
  });

  it('takes in what another encoder measured (rows encoded on a worker), only ever widening', () => {
    const worker = new CsvRowEncoder(columns, false);
    worker.encode([-7, 'a', 1, '12345.6', null, null]);
    worker.encode([3, 'b', 1, '1', null, null]);
    const batch = new CsvRowEncoder(columns, false);
    batch.encode([10, 'c', 1, '1.25', null, null]);
    batch.absorb(structuredClone(worker.learned()));
    batch.absorb(structuredClone(worker.learned())); // again: no change
    expect(batch.shapes[3]).toEqual({ integerDigits: 5, scale: 2, beyondHugeint: false, text: false });
    expect(batch.integerRanges[0]).toEqual({ min: -7, max: 10, onlyIntegers: true });
    // What the batch writes from now on is still measured (the writers kept the same objects).
    batch.encode([2n ** 64n, 'd', 1, '0.0001', null, null]);
    expect(batch.integerRanges[0]?.max).toBe(2n ** 64n);
    expect(batch.shapes[3]?.scale).toBe(4);
    const notOnlyIntegers = new CsvRowEncoder(columns, false);
    notOnlyIntegers.encode([1.5, 'e', 1, null, null, null]);
    batch.absorb(notOnlyIntegers.learned());
    expect(batch.integerRanges[0]?.onlyIntegers).toBe(false);
  });

  it('leaves _sdc_batched_at (the last column) out of the line', () => {
    const encoder = new CsvRowEncoder([...columns.slice(0, 2), { name: '_sdc_batched_at', kind: 'timestamp' }], true);
    expect(encoder.encode([1, 'a'])).toBe(`1,${Q}a${Q}\n`);
  });
});
