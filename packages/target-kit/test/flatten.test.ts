// Flattening: which properties become parent__child columns, and how a record is spread over them.
import { describe, expect, it } from 'vitest';
import { flattenedProperties, flattenRecord } from '../src/flatten.js';

const where = { stream: 's', line: 1 };
const object = (properties: Record<string, unknown>) => ({ type: 'object', properties });

describe('flattenedProperties', () => {
  it('flattens objects with declared properties (also nullable, anyOf with null and $ref) to the depth, in schema order', () => {
    const schema = {
      type: 'object',
      definitions: { point: object({ x: { type: 'number' } }) },
      properties: {
        a: { anyOf: [{ type: 'null' }, object({ b: { type: 'integer' }, c: object({ d: { type: 'string' } }) })] },
        p: { $ref: '#/definitions/point' },
        z: { type: 'string' },
      },
    };
    expect(Object.keys(flattenedProperties(schema, [], 1, where))).toEqual(['a__b', 'a__c', 'p__x', 'z']);
    expect(Object.keys(flattenedProperties(schema, [], 2, where))).toEqual(['a__b', 'a__c__d', 'p__x', 'z']);
  });

  it('keeps key properties, property-less objects, arrays and mixed types whole', () => {
    const schema = {
      type: 'object',
      properties: {
        id: object({ k: { type: 'integer' } }),
        bag: { type: ['null', 'object'] },
        empty: object({}),
        list: { type: 'array', items: object({ x: { type: 'integer' } }) },
        either: { type: ['object', 'string'], properties: { x: { type: 'integer' } } },
      },
    };
    expect(Object.keys(flattenedProperties(schema, ['id'], 5, where))).toEqual(['id', 'bag', 'empty', 'list', 'either']);
  });

  it('refuses two properties that flatten to one name, naming both', () => {
    const schema = { type: 'object', properties: { a: object({ b: { type: 'integer' } }), a__b: { type: 'integer' } } };
    expect(() => flattenedProperties(schema, [], 1, where)).toThrow(/"a"\."b" and "a__b" both flatten to the column name "a__b"/);
  });
});

describe('flattenRecord', () => {
  it('spreads objects that have no column of their own, to the depth; keeps columns, arrays and numbers that are objects', () => {
    const columns = new Set(['keep', 'a__b']);
    const record = { keep: { x: 1 }, a: { b: 1, c: { d: 2 }, e: [1] }, n: 3 };
    expect(flattenRecord(record, columns, 1, where)).toEqual({ keep: { x: 1 }, a__b: 1, a__c: { d: 2 }, a__e: [1], n: 3 });
    expect(flattenRecord(record, columns, 2, where)).toEqual({ keep: { x: 1 }, a__b: 1, a__c__d: 2, a__e: [1], n: 3 });
  });

  it('keeps a property named __proto__ as a property, in the schema and in records', () => {
    const schema = JSON.parse(
      '{"type":"object","properties":{"__proto__":{"type":"object","properties":{"x":{"type":"integer"}}},"y":{"type":"string"}}}',
    ) as never;
    expect(Object.keys(flattenedProperties(schema, [], 0, where))).toEqual(['__proto__', 'y']);
    expect(Object.keys(flattenedProperties(schema, [], 1, where))).toEqual(['__proto____x', 'y']);
    const record = JSON.parse('{"__proto__":{"x":1},"y":"a"}') as Record<string, unknown>;
    expect(Object.entries(flattenRecord(record, new Set(['__proto__']), 1, where))).toEqual([
      ['__proto__', { x: 1 }],
      ['y', 'a'],
    ]);
  });

  it('refuses a name reached twice, by field', () => {
    expect(() => flattenRecord({ a__b: 1, a: { b: 2 } }, new Set(), 1, where)).toThrow(/"a__b"/);
  });
});
