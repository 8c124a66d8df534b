// A setting's value from text (an environment variable, a `${VAR}` reference), typed by its JSON Schema.
import { describe, expect, it } from 'vitest';
import { settingFromText } from '../src/setting-text.js';

describe('settingFromText', () => {
  it.each<[string, string, Record<string, unknown> | undefined, unknown]>([
    ['a text setting keeps the text, even when it looks like a number', '00123', { type: 'string' }, '00123'],
    ['an unknown setting keeps the text', '50', undefined, '50'],
    ['an integer', ' 50 ', { type: 'integer' }, 50],
    ['a number', '0.25', { type: 'number' }, 0.25],
    ['a boolean: true', 'TRUE', { type: 'boolean' }, true],
    ['a boolean: 0', '0', { type: 'boolean' }, false],
    ['a boolean: yes', 'yes', { type: 'boolean' }, true],
    ['an array as JSON', '[1, 2]', { type: 'array' }, [1, 2]],
    ['an object as JSON', '{"a": 1}', { type: 'object' }, { a: 1 }],
    ['an enum of strings (zod writes the type)', 'wait', { type: 'string', enum: ['stop', 'wait'] }, 'wait'],
    ['a union, by its members', '7', { anyOf: [{ type: 'integer' }, { type: 'null' }] }, 7],
    ['null where the setting admits it', 'null', { type: ['integer', 'null'] }, null],
  ])('%s', (_name, text, schema, value) => {
    expect(settingFromText(text, schema)).toEqual({ ok: true, value });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['5O', { type: 'integer' }, 'an integer'],
    ['1.5', { type: 'integer' }, 'an integer'],
    ['9007199254740993', { type: 'integer' }, 'an integer'],
    ['maybe', { type: 'boolean' }, 'true or false'],
    ['1,2', { type: 'array' }, 'a JSON array'],
    ['{"a": 1}', { type: 'array' }, 'a JSON array'],
  ])('refuses %j for %j, saying what was wanted', (text, schema, expected) => {
    expect(settingFromText(text, schema)).toEqual({ ok: false, expected });
  });
});
