// The kind a column for an undeclared property gets from its first value: no format guessing, exact when needed.
import { parseJson } from '@tapline/singer';
import { describe, expect, it } from 'vitest';
import { kindOfValue } from '../src/sink.js';

describe('kindOfValue', () => {
  it.each([
    ['true', 'boolean'],
    ['1', 'integer'],
    ['1.0', 'integer'], // JSON has one number type; 1.0 is the integer 1
    ['1.5', 'number'],
    ['123456789012345678901234567890', 'integer'], // beyond int64: the encoder widens it to decimal
    ['0.123456789012345678901234567890', 'decimal'],
    ['"2024-01-01T00:00:00Z"', 'string'],
    ['""', 'string'],
    ['{"a":1}', 'json'],
    ['[1,2]', 'json'],
  ])('%s -> %s', (json, kind) => {
    expect(kindOfValue((parseJson(`{"v":${json}}`) as { v: unknown }).v)).toBe(kind);
  });
});
