// canonicalTimestamp: the one timestamp form every dialect reads alike.
import { describe, expect, it } from 'vitest';
import { canonicalTime, canonicalTimestamp, extractedAtCell, InvalidTimestamp, timestampInstantKey } from '../src/timestamp.js';

describe('canonicalTimestamp', () => {
  it('passes the common forms through untouched', () => {
    for (const text of ['2024-03-01T12:00:00Z', '2024-03-01 12:00:00.123456+05:30', '2024-03-28T00:00:00', '2024-03-01T12:00:00-0800']) {
      expect(canonicalTimestamp(text)).toBe(text);
    }
  });

  it('cuts fractions to microseconds, never rounding into the next second', () => {
    expect(canonicalTimestamp('2024-12-31T23:59:59.9999999Z')).toBe('2024-12-31T23:59:59.999999Z');
    expect(canonicalTimestamp('2024-03-01T12:00:00.123456789+01:00')).toBe('2024-03-01T12:00:00.123456+01:00');
  });

  it('accepts lower-case t and z and a missing seconds part', () => {
    expect(canonicalTimestamp('2024-03-01t12:00z')).toBe('2024-03-01T12:00:00Z');
  });

  it('reads a leap second as the next second, in UTC', () => {
    expect(canonicalTimestamp('2016-12-31T23:59:60Z')).toBe('2017-01-01T00:00:00Z');
    expect(canonicalTimestamp('2016-12-31T23:59:60.25+01:00')).toBe('2016-12-31T23:00:00.25Z');
    expect(canonicalTimestamp('0001-01-01T00:00:60Z')).toBe('0001-01-01T00:01:00Z');
  });

  it('refuses dates that are not in the calendar, and knows leap years', () => {
    expect(canonicalTimestamp('2023-02-30T00:00:00Z')).toBeInstanceOf(InvalidTimestamp);
    expect(canonicalTimestamp('1900-02-29T00:00:00Z')).toBeInstanceOf(InvalidTimestamp);
    expect(canonicalTimestamp('2000-02-29T00:00:00Z')).toBe('2000-02-29T00:00:00Z');
    expect(canonicalTimestamp('2024-04-31')).toBeInstanceOf(InvalidTimestamp);
  });

  it('leaves text that is no timestamp for the database to judge', () => {
    expect(canonicalTimestamp('garbage')).toBe('garbage');
    expect(canonicalTimestamp('2024-03-01')).toBe('2024-03-01');
  });
});

describe('canonicalTime', () => {
  it('cuts fractions to microseconds', () => {
    expect(canonicalTime('12:00:00.1234567')).toBe('12:00:00.123456');
    expect(canonicalTime('12:00:00')).toBe('12:00:00');
    expect(canonicalTime('12:00')).toBe('12:00');
  });

  it('honours an offset, as timestamps do: the UTC time of day (a time column has no zone, and both databases would drop it)', () => {
    expect(canonicalTime('12:00:00.1234567+02:00')).toBe('10:00:00.123456');
    expect(canonicalTime('10:00:00Z')).toBe('10:00:00');
    expect(canonicalTime('01:30:00+0200')).toBe('23:30:00');
    expect(canonicalTime('22:00-05:00')).toBe('03:00:00');
    expect(canonicalTime('10:00:00+00:00')).toBe('10:00:00');
  });

  it('reads a leap second as the next second, as PostgreSQL does (DuckDB refuses :60 but reads 24:00:00)', () => {
    expect(canonicalTime('23:59:60')).toBe('24:00:00');
    expect(canonicalTime('10:00:60.5')).toBe('10:01:00.5');
    expect(canonicalTime('24:00:00')).toBe('24:00:00');
  });

  it('leaves text that is no time of day to the database', () => {
    for (const text of ['25:00:00', 'noon', '10:61:00+01:00']) expect(canonicalTime(text)).toBe(text);
  });
});

describe('timestampInstantKey', () => {
  it('is one text for one instant, whatever the offset, separator or fraction padding', () => {
    const key = timestampInstantKey('2020-01-01T00:00:00Z');
    for (const same of [
      '2020-01-01T01:00:00+01:00',
      '2019-12-31 19:00:00.000000-05:00',
      '2020-01-01t00:00:00z',
      '2020-01-01T00:00:00',
      '2020-01-01T05:30:00+0530',
    ]) {
      expect(timestampInstantKey(same), same).toBe(key);
    }
    expect(timestampInstantKey('2020-01-01T00:00:00.000001Z')).not.toBe(key);
    expect(timestampInstantKey('0001-01-01T00:00:00Z')).not.toBe(timestampInstantKey('1901-01-01T00:00:00Z'));
    expect(timestampInstantKey('not a time')).toBeNull();
  });
});

describe('extractedAtCell (time_extracted: metadata, so text that names no instant is null, never an error)', () => {
  it('reads RFC 3339 as record timestamps are read', () => {
    expect(extractedAtCell('2024-03-01T12:00:00+05:30')).toBe('2024-03-01T12:00:00+05:30');
    expect(extractedAtCell('2016-12-31T23:59:60Z')).toBe('2017-01-01T00:00:00Z');
    expect(extractedAtCell('2024-03-01 12:00:00.1234567')).toBe('2024-03-01T12:00:00.123456');
  });

  it('reads an RFC 2822 / HTTP date with its zone as its UTC instant', () => {
    expect(extractedAtCell('Mon, 01 Feb 2021 00:00:00 GMT')).toBe('2021-02-01T00:00:00Z');
    expect(extractedAtCell('1 Feb 2021 10:00 +0530')).toBe('2021-02-01T04:30:00Z');
    expect(extractedAtCell('Sun, 31 Jan 2021 23:00:00 -0130')).toBe('2021-02-01T00:30:00Z');
  });

  it('is null for text that names no instant, or only by guessing', () => {
    for (const text of [
      '',
      '1612345678',
      '2021-01-01T00:00:00+00:00Z',
      '2024-02-30T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-01-01T25:00:00Z',
      '31 Feb 2021 00:00:00 GMT',
      'Feb 1 2021',
      'Mon, 01 Feb 2021 00:00:00',
      'yesterday',
    ]) {
      expect(extractedAtCell(text), text).toBeNull();
    }
  });
});
