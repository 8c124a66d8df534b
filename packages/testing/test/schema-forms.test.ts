// The rules the tap contract checks every emitted schema against (what every peer Singer target reads).
import { describe, expect, it } from 'vitest';
import { undescribedFields } from '../src/tap-contract/descriptions.js';
import { peerSchemaProblems } from '../src/tap-contract/schema-forms.js';

const record = (properties: Record<string, unknown>) => ({ type: 'object', properties });

describe('peerSchemaProblems', () => {
  it('accepts type lists, formats on strings, nested objects and arrays, and a union that only anyOf can say', () => {
    const schema = record({
      rank: { type: ['integer', 'null'], minimum: 0, maximum: 100, description: 'null when ranks are off' },
      score: { type: ['string', 'null'], format: 'x-singer.decimal' },
      answers: { type: ['array', 'null'], items: { type: 'object', properties: { id: { type: 'integer' } } } },
      when: {
        type: ['string', 'integer', 'null'],
        anyOf: [{ type: 'string', format: 'date-time' }, { type: 'integer' }, { type: 'null' }],
      },
    });
    expect(peerSchemaProblems(schema)).toEqual([]);
  });

  it('names the forms pipelinewise-target-postgres cannot read (issue 20: crashes, dropped columns)', () => {
    const schema = record({
      rank: { description: 'null when ranks are off', anyOf: [{ type: 'integer' }, { type: 'null' }] },
      legacy: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      when: { type: ['string', 'null'], anyOf: [{ type: 'string', format: 'date-time' }, { type: 'integer' }, { type: 'null' }] },
      seconds: { type: 'number', format: 'date-time' },
      ref: { $ref: '#/$defs/x' },
    });
    expect(peerSchemaProblems(schema)).toEqual([
      'properties.rank: has no "type" (a JSON type name or a list of them)',
      'properties.rank.anyOf: is a nullable value written as a union; write "null" in the type list instead',
      'properties.legacy: has no "type" (a JSON type name or a list of them)',
      'properties.legacy.anyOf: members differ only in type; write one type list instead',
      'properties.when.anyOf: the type beside the union leaves out integer',
      'properties.seconds: has format "date-time" beside type "number", which does not include "string"',
      'properties.ref: has no "type" (a JSON type name or a list of them)',
      'properties.ref: uses "$ref", which peer targets do not read',
    ]);
  });

  it('checks array items and nested properties at every depth', () => {
    const schema = record({ tags: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'null' }] } } });
    expect(peerSchemaProblems(schema)).toEqual([
      'properties.tags.items: has no "type" (a JSON type name or a list of them)',
      'properties.tags.items.anyOf: is a nullable value written as a union; write "null" in the type list instead',
    ]);
  });
});

describe('undescribedFields: the data dictionary a tap owes its warehouse', () => {
  it('names the record and each property (nested ones too) that carries no description, blank counting as none', () => {
    const schema = {
      type: 'object',
      properties: {
        id: { type: 'integer', description: 'The attempt id.' },
        score: { type: ['string', 'null'], format: 'x-singer.decimal' },
        name: { type: ['string', 'null'], description: '  ' },
        subjects: {
          type: ['array', 'null'],
          description: 'Per subject.',
          items: { type: 'object', properties: { name: { type: 'string' }, marks: { type: 'number', description: 'Marks.' } } },
        },
      },
    };
    expect(undescribedFields(schema)).toEqual([
      '(record)',
      'properties.score',
      'properties.name',
      'properties.subjects.items.properties.name',
    ]);
    expect(undescribedFields({ ...schema, description: 'Attempts.' })).toContain('properties.score');
  });
});
