// A batch held as encoded bytes: rows stay whole and in order, keep their input lines, and can be cut, filtered and filled in.
import { describe, expect, it } from 'vitest';
import { EncodedRows } from '../src/encoded-rows.js';

const text = (rows: EncodedRows) => Buffer.concat(rows.buffers()).toString('utf8');

describe('EncodedRows', () => {
  it('keeps rows whole, in order, as UTF-8, each with its input line', () => {
    const rows = new EncodedRows();
    rows.push('a\tÉmile\n', 3);
    rows.push('b\t😀\n', 5);
    expect(rows.count).toBe(2);
    expect(text(rows)).toBe('a\tÉmile\nb\t😀\n');
    expect(rows.lines).toEqual([3, 5]);
    expect(rows.rowText(1)).toBe('b\t😀\n');
    expect(rows.longestRowBytes).toBe(Buffer.byteLength('a\tÉmile\n'));
  });

  it('never splits a row across chunks, even rows larger than a chunk', () => {
    const rows = new EncodedRows();
    const big = `${'x'.repeat(700_000)}\n`;
    for (let i = 0; i < 4; i++) rows.push(big, i + 1);
    rows.push(`${'y'.repeat(3_000_000)}\n`, 5);
    for (const buffer of rows.buffers()) expect(buffer[buffer.length - 1]).toBe(10);
    expect(text(rows)).toBe(`${big.repeat(4)}${'y'.repeat(3_000_000)}\n`);
    expect(rows.rowText(4).length).toBe(3_000_001);
  });

  it('truncates to the rows before a STATE, across chunk boundaries', () => {
    const rows = new EncodedRows();
    const line = `${'z'.repeat(400_000)}\n`;
    for (let i = 0; i < 6; i++) rows.push(line, i + 1);
    rows.truncate(3);
    expect(rows.count).toBe(3);
    expect(text(rows)).toBe(line.repeat(3));
    rows.push('tail\n', 9);
    expect(text(rows)).toBe(`${line.repeat(3)}tail\n`);
    expect(rows.lines).toEqual([1, 2, 3, 9]);
    rows.truncate(0);
    expect(rows.count).toBe(0);
    expect(text(rows)).toBe('');
  });

  it('keeps only the chosen rows (last-wins dedupe) with their lines', () => {
    const rows = new EncodedRows();
    for (const [i, row] of ['1\ta\n', '2\tb\n', '1\tc\n'].entries()) rows.push(row, i + 10);
    const kept = rows.keepOnly([false, true, true]);
    expect(text(kept)).toBe('2\tb\n1\tc\n');
    expect(kept.lines).toEqual([11, 12]);
  });

  it('fills a value reserved at the end of every row', () => {
    const rows = new EncodedRows();
    rows.push('1\t    \n', 1);
    rows.push('22\t    \n', 2);
    rows.overwriteRowTails(5, 'abcd');
    expect(text(rows)).toBe('1\tabcd\n22\tabcd\n');
  });

  it('crosses to another thread as parts and joins a batch as views: runs of rows, then more rows, in order', () => {
    const worker = new EncodedRows();
    const line = (n: number) => `${n}\t${'w'.repeat(300_000)}\n`;
    for (let n = 1; n <= 7; n++) worker.push(line(n), n <= 2 ? 10 + n : 11 + n); // line 13 is handled by the main thread
    const { parts, transfer } = worker.toParts();
    expect(worker.count).toBe(0);
    expect(transfer.length).toBe(parts.chunks.length);
    const arrived = EncodedRows.fromParts(structuredClone(parts, { transfer }));

    const batch = new EncodedRows();
    batch.push('before\n', 1);
    batch.appendRows(arrived, 0, 2); // a run, then a line the main thread handled itself
    batch.push('between\n', 13);
    batch.appendRows(arrived, 2, 5); // the rest, across the parts' chunk boundaries
    batch.push('after\n', 20);
    const expected = ['before\n', line(1), line(2), 'between\n', line(3), line(4), line(5), line(6), line(7), 'after\n'];
    expect(text(batch)).toBe(expected.join(''));
    expect(batch.lines).toEqual([1, 11, 12, 13, 14, 15, 16, 17, 18, 20]);
    expect(batch.rowText(4)).toBe(line(3));
    for (const buffer of batch.buffers()) expect(buffer[buffer.length - 1]).toBe(10);
    const deduplicated = batch.keepOnly(expected.map((_, i) => i % 2 === 0));
    expect(text(deduplicated)).toBe(expected.filter((_, i) => i % 2 === 0).join(''));
  });
});
