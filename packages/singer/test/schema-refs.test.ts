// Column types read through local $refs, as some taps send their schemas.
import { describe, expect, it } from 'vitest';
import { logicalTypeOf, resolveLocalRefs } from '../src/index.js';

const root = {
  type: 'object',
  definitions: { ts: { type: ['null', 'string'], format: 'date-time' }, alias: { $ref: '#/definitions/ts' }, 'a/b~c': { type: 'integer' } },
  $defs: {
    money: { type: 'number' },
    tree: { type: 'object', properties: { child: { $ref: '#/$defs/tree' } } },
    loop: { $ref: '#/$defs/loop' },
  },
  properties: {},
};
const kindOf = (schema: unknown) => logicalTypeOf(resolveLocalRefs(schema as Record<string, unknown>, root)).kind;

describe('resolveLocalRefs', () => {
  it('follows #/definitions and #/$defs, chains of them, and JSON Pointer escapes', () => {
    expect(kindOf({ $ref: '#/definitions/ts' })).toBe('timestamp');
    expect(kindOf({ $ref: '#/definitions/alias' })).toBe('timestamp');
    expect(kindOf({ $ref: '#/$defs/money' })).toBe('number');
    expect(kindOf({ $ref: '#/definitions/a~1b~0c' })).toBe('integer');
    expect(kindOf({ $ref: '#/definitions/a%7E1b%7E0c' })).toBe('integer'); // a URI fragment, percent-encoded
  });

  it('follows references inside anyOf, oneOf and allOf, and keeps the keywords beside a $ref', () => {
    expect(logicalTypeOf(resolveLocalRefs({ anyOf: [{ $ref: '#/$defs/money' }, { type: 'null' }] }, root))).toEqual({
      kind: 'number',
      nullable: true,
    });
    expect(kindOf({ allOf: [{ $ref: '#/definitions/ts' }] })).toBe('timestamp');
    expect(resolveLocalRefs({ $ref: '#/$defs/money', description: 'price' }, root)).toEqual({ type: 'number', description: 'price' });
  });

  it('reads a reference that points nowhere, outside the document or back into itself as untyped (JSON)', () => {
    for (const $ref of ['#/definitions/missing', 'https://example.com/s.json#/x', '#/$defs/loop', '#anchor', '#/%E0']) {
      expect(kindOf({ $ref }), $ref).toBe('json');
    }
    expect(kindOf({ $ref: '#/$defs/tree' })).toBe('json'); // an object: JSON, its recursion never followed
  });

  it('copies nothing when there is no reference', () => {
    const plain = { anyOf: [{ type: 'string' }, { type: 'null' }] };
    expect(resolveLocalRefs(plain, root)).toBe(plain);
  });
});
