// A table's comment records the stream that owns it; the disambiguated table of another stream is stable and fits.
import { describe, expect, it } from 'vitest';
import { disambiguatedTableName } from '../src/names.js';
import { commentWithOwner, ownerOf } from '../src/table-owner.js';

describe('table owner comment', () => {
  it('round-trips any raw stream name', () => {
    for (const stream of ['aliased.stream', 'MYSTREAM', 'db-schema-name', 'quote"and\nnewline', 'Ονομα']) {
      expect(ownerOf(commentWithOwner(null, stream))).toBe(stream);
    }
  });

  it('a table without a comment, or with one we did not write, has no owner', () => {
    expect(ownerOf(null)).toBeNull();
    expect(ownerOf('orders, maintained by finance')).toBeNull();
    expect(ownerOf('tapline stream: not json')).toBeNull();
  });

  it('a hand-written comment is kept when the owner is recorded; a new owner replaces the old line', () => {
    const adopted = commentWithOwner('orders, maintained by finance', 'orders');
    expect(adopted).toBe('orders, maintained by finance\ntapline stream: "orders"');
    expect(ownerOf(adopted)).toBe('orders');
    expect(commentWithOwner(adopted, 'other')).toBe('orders, maintained by finance\ntapline stream: "other"');
  });
});

describe('disambiguatedTableName', () => {
  it('is the table plus 8 hex of the stream name, the same every time, distinct per stream', () => {
    expect(disambiguatedTableName('aliased_stream', 'aliased.stream', 63)).toBe('aliased_stream_ad65edae');
    expect(disambiguatedTableName('mystream', 'MYSTREAM', 63)).toMatch(/^mystream_[0-9a-f]{8}$/);
    expect(disambiguatedTableName('mystream', 'MYSTREAM', 63)).not.toBe(disambiguatedTableName('mystream', 'MyStream', 63));
  });

  it('fits the identifier limit', () => {
    const name = disambiguatedTableName('t'.repeat(63), 'T'.repeat(63), 63);
    expect(Buffer.byteLength(name)).toBe(63);
    expect(name).toMatch(/^t{54}_[0-9a-f]{8}$/);
  });
});
