import { describe, expect, it } from 'vitest';
import {
  activateVersionMessageSchema,
  assertSchemaHasProperties,
  describeValue,
  parseMessage,
  recordMessageSchema,
  SingerInputError,
  type SingerWarning,
  schemaMessageSchema,
  stateMessageSchema,
} from '../src/index.js';

function errorOf(text: string, line = 1): SingerInputError {
  try {
    parseMessage(text, line);
  } catch (error) {
    if (error instanceof SingerInputError) return error;
    throw error;
  }
  throw new Error(`expected ${text} to be rejected`);
}

describe('parseMessage', () => {
  it('reads the four message types, matching their zod schemas', () => {
    const schema = parseMessage(
      '{"type":"SCHEMA","stream":"users","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}',
      1,
    );
    expect(schemaMessageSchema.parse(schema)).toEqual(schema);
    const record = parseMessage(
      '{"type":"RECORD","stream":"users","record":{"id":1},"version":3,"time_extracted":"2024-01-01T00:00:00Z"}',
      2,
    );
    expect(recordMessageSchema.parse(record)).toEqual(record);
    const state = parseMessage('{"type":"STATE","value":{"bookmarks":{}}}', 3);
    expect(stateMessageSchema.parse(state)).toEqual(state);
    const activate = parseMessage('{"type":"ACTIVATE_VERSION","stream":"users","version":1640995200}', 4);
    expect(activateVersionMessageSchema.parse(activate)).toEqual(activate);
  });

  it('matches message types case-insensitively', () => {
    expect(parseMessage('{"type":"record","stream":"s","record":{}}', 1)?.type).toBe('RECORD');
    expect(parseMessage('{"type":"Schema","stream":"s","schema":{"properties":{}}}', 1)?.type).toBe('SCHEMA');
    expect(parseMessage('{"type":"activate_version","stream":"s","version":1}', 1)?.type).toBe('ACTIVATE_VERSION');
  });

  it('returns null and warns for an unknown type', () => {
    const warnings: SingerWarning[] = [];
    expect(parseMessage('{"type":"FOO","stream":"s"}', 9, { onWarning: (w) => warnings.push(w) })).toBeNull();
    expect(warnings).toEqual([{ line: 9, message: 'line 9: skipping message of unknown type "FOO"' }]);
  });

  it('rejects BATCH clearly', () => {
    const error = errorOf('{"type":"BATCH","stream":"users","encoding":{"format":"jsonl"},"manifest":[]}', 5);
    expect(error.message).toMatch(/^line 5 \(stream "users"\): BATCH messages are not supported/);
    expect(error.stream).toBe('users');
  });

  it('names the line of invalid JSON', () => {
    expect(errorOf('{"type": "RECORD",', 3).message).toMatch(/^line 3: invalid JSON \(.+\)$/);
  });

  it.each([
    ['[1,2]', 'line 1: a Singer message must be a JSON object (got an array)'],
    ['{"stream":"s"}', 'line 1 (stream "s"): message has no "type" (got nothing)'],
    ['{"type":"RECORD","record":{}}', 'line 1: RECORD has no "stream" (got nothing)'],
    ['{"type":"RECORD","stream":"s","record":[1]}', 'line 1 (stream "s"): RECORD "record" must be a JSON object (got an array)'],
    ['{"type":"RECORD","stream":"s","record":{},"version":"v1"}', 'line 1 (stream "s"): RECORD "version" must be an integer (got "v1")'],
    [
      '{"type":"SCHEMA","stream":"s","schema":{"properties":{}},"key_properties":"id"}',
      'line 1 (stream "s"): SCHEMA "key_properties" must be an array of property names (got "id")',
    ],
    ['{"type":"STATE"}', 'line 1: STATE has no "value"'],
    ['{"type":"ACTIVATE_VERSION","stream":"s"}', 'line 1 (stream "s"): ACTIVATE_VERSION "version" must be an integer (got nothing)'],
  ])('rejects %s', (text, message) => {
    expect(errorOf(text).message).toBe(message);
  });

  it('describes any value for an error message, even one JSON cannot write (a function)', () => {
    expect(describeValue(Object)).toMatch(/^function Object/);
    expect(describeValue(undefined)).toBe('nothing');
    expect([NaN, -Infinity, 10n ** 20n].map(describeValue)).toEqual(['NaN', '-Infinity', '100000000000000000000']);
  });

  it('names the line of a message nested too deeply to read', () => {
    const depth = 200_000; // with a number a double cannot hold, which is revived by recursion
    const line = `{"type":"RECORD","stream":"deep","record":{"d":${'['.repeat(depth)}1e400${']'.repeat(depth)}}}`;
    expect(() => parseMessage(line, 9)).toThrow(/^line 9 \(stream "deep"\): the message nests arrays or objects too deeply to read$/);
  });

  it('rejects a stream schema without properties (invalid_schema.singer)', () => {
    const error = errorOf('{"type": "SCHEMA", "stream": "test_invalid_schema", "schema": {"type": "object"}, "key_properties": []}', 7);
    expect(error.message).toMatch(/^line 7 \(stream "test_invalid_schema"\): SCHEMA has no "properties"/);
    expect(() => assertSchemaHasProperties({ stream: 's', schema: { properties: {} } }, 1)).not.toThrow();
  });

  it('reads a missing or null key_properties as no key', () => {
    const missing = parseMessage('{"type":"SCHEMA","stream":"s","schema":{"properties":{}}}', 1);
    const nulled = parseMessage('{"type":"SCHEMA","stream":"s","schema":{"properties":{}},"key_properties":null}', 1);
    expect(missing?.type === 'SCHEMA' && missing.key_properties).toBeUndefined();
    expect(nulled?.type === 'SCHEMA' && nulled.key_properties).toBeUndefined();
  });

  it('reads a version too big for a double as a bigint', () => {
    const message = parseMessage('{"type":"ACTIVATE_VERSION","stream":"s","version":99999999999999999}', 1);
    expect(message?.type === 'ACTIVATE_VERSION' && message.version).toBe(99999999999999999n);
  });
});
