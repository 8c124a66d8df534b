// What the summary counts: records per stream, and which of them a state the target committed covers.
import { describe, expect, it } from 'vitest';
import { MessageCounter } from '../src/message-counter.js';

const lines = (...messages: unknown[]) => Buffer.from(messages.map((m) => `${typeof m === 'string' ? m : JSON.stringify(m)}\n`).join(''));
const record = (n: number) => ({ type: 'RECORD', stream: 'events', record: { n } });
const state = (value: unknown) => ({ type: 'STATE', value });

describe('MessageCounter', () => {
  it('a state the tap repeated covers the records up to its last repetition the target had read', () => {
    const counter = new MessageCounter();
    // Nothing new since the first STATE, so the tap repeats it after more records (a full-table stream).
    counter.push(lines(record(1), record(2), state({ at: 1 }), record(3), record(4), state({ at: 1 })));
    expect(counter.acknowledge('{"at":1}')?.get('events')).toBe(4);
  });

  it('matches states exactly, big integers included', () => {
    const counter = new MessageCounter();
    counter.push(
      lines(record(1), '{"type":"STATE","value":{"id":9007199254740992}}', record(2), '{"type":"STATE","value":{"id":9007199254740993}}'),
    );
    expect(counter.acknowledge('{"id":9007199254740992}')?.get('events')).toBe(1);
    expect(counter.acknowledge('{"id":9007199254740993}')?.get('events')).toBe(2);
  });

  it('does not count a torn last line (the tap died mid-record) as a record', () => {
    const counter = new MessageCounter();
    counter.push(lines(record(1), record(2)));
    counter.push(Buffer.from('{"type":"RECORD","stream":"events","rec'));
    counter.end();
    expect(counter.streams.get('events')?.records).toBe(2);

    const whole = new MessageCounter();
    whole.push(Buffer.from(JSON.stringify(record(1)))); // a last line without its newline, but whole
    whole.end();
    expect(whole.streams.get('events')?.records).toBe(1);
  });
});
