// The inbox: what append resolved is on disk and read back once, across restarts and torn lines.
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainMessages, Inbox, PayloadError, REJECTS_STREAM, VERSIONS_STREAM, type WebhookDefinition } from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tapline-inbox-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bodies = (entries: { body: Buffer }[]) => entries.map((e) => e.body.toString());

describe('Inbox', () => {
  it('reads back every appended body, in order, byte for byte', async () => {
    const inbox = await Inbox.open(dir);
    const sent = Array.from({ length: 50 }, (_, i) => `{"n":${i},"path":"a\\/b"}`);
    await Promise.all(sent.map((body) => inbox.append(Buffer.from(body))));
    const entries = await inbox.read(await inbox.start(), 1_000);
    expect(bodies(entries)).toEqual(sent);
    const rest = await inbox.read(entries[19]!.end, 1_000);
    expect(bodies(rest)).toEqual(sent.slice(20));
    await inbox.close();
  });

  it('starts a new segment on each open and skips a line torn by a crash', async () => {
    const first = await Inbox.open(dir);
    await first.append(Buffer.from('one'));
    await first.close();
    const [segment] = (await readdir(dir)).filter((name) => name.endsWith('.jsonl'));
    await appendFile(path.join(dir, segment!), '{"at":"2026-01-01T00:00:00.000Z","body":"dG9y'); // torn: never acknowledged
    const second = await Inbox.open(dir);
    await second.append(Buffer.from('two'));
    expect(await readdir(dir)).toHaveLength(3); // two segments and the inbox id
    expect(bodies(await second.read(await second.start(), 10))).toEqual(['one', 'two']);
    await second.close();
  });

  it('deletes only segments wholly before a released position', async () => {
    const first = await Inbox.open(dir);
    await first.append(Buffer.from('one'));
    await first.close();
    const second = await Inbox.open(dir);
    await second.append(Buffer.from('two'));
    const [one, two] = await second.read(await second.start(), 10);
    const segments = async () => (await readdir(dir)).filter((name) => name.endsWith('.jsonl')).length;
    await second.release(one!.end);
    expect(await segments()).toBe(2);
    await second.release(two!.end);
    expect(await segments()).toBe(1);
    expect(bodies(await second.read(two!.end, 10))).toEqual([]);
    await second.close();
  });

  it('reads a position of a folder since replaced as "nothing loaded yet"', async () => {
    const old = await Inbox.open(dir);
    await old.append(Buffer.from('old'));
    const [loaded] = await old.read(await old.start(), 10);
    await old.close();
    await rm(dir, { recursive: true });
    const fresh = await Inbox.open(dir);
    await fresh.append(Buffer.from('new'));
    expect(bodies(await fresh.read(loaded!.end, 10))).toEqual(['new']);
    await fresh.close();
  });

  it('refuses appends once closed', async () => {
    const inbox = await Inbox.open(dir);
    await inbox.close();
    await expect(inbox.append(Buffer.from('late'))).rejects.toThrow(/closed/);
  });
});

describe('drainMessages', () => {
  const definition: WebhookDefinition = {
    type: 'test',
    streams: [
      {
        name: 'results',
        key: ['id'],
        schema: { type: 'object', properties: { id: { type: 'integer' }, v: { type: 'integer' }, note: { type: 'string' } } },
        version: (r) => Number(r.v),
      },
    ],
    verify: () => ({ ok: true }),
    read: (body) => {
      const value = JSON.parse(body.toString()) as Record<string, unknown>;
      if (value.bad) throw new PayloadError('bad');
      return { sample: false, label: 'x', records: [{ stream: 'results', record: value }] };
    },
  };
  const log = { info: () => {}, warn: () => {}, error: () => {} };

  it('keeps one record per key, the newest version, and skips what is older than the warehouse holds', async () => {
    const inbox = await Inbox.open(dir);
    for (const body of ['{"id":1,"v":2}', '{"id":1,"v":1}', '{"id":2,"v":1,"note":"x"}', '{"id":3,"v":1}', '{"bad":true}'])
      await inbox.append(Buffer.from(body));
    const entries = await inbox.read(await inbox.start(), 10);
    const { lines } = await drainMessages(definition, entries, entries.at(-1)!.end, log, 'r', async () => new Map([['[3]', 5]]));
    const messages = lines.map((line) => JSON.parse(line) as Record<string, any>);
    const records = messages.filter((m) => m.type === 'RECORD' && m.stream === 'results').map((m) => m.record);
    expect(records).toEqual([
      { id: 1, v: 2 },
      { id: 2, v: 1, note: 'x' },
    ]);
    // Each SCHEMA names only the fields its records carry, so other columns keep their values.
    const schemas = messages.filter((m) => m.type === 'SCHEMA' && m.stream === 'results').map((m) => Object.keys(m.schema.properties));
    expect(schemas).toEqual([
      ['id', 'v'],
      ['id', 'v', 'note'],
    ]);
    expect(messages.at(-1)).toEqual({ type: 'STATE', value: { inbox: entries.at(-1)!.end } });
    await inbox.close();
  });

  it('sets a delivery that does not read aside whole, with the reason, and loads the rest', async () => {
    const inbox = await Inbox.open(dir);
    for (const body of ['{"id":1,"v":1}', '{"bad":true}', '{"id":2,"v":1}', 'not json']) await inbox.append(Buffer.from(body));
    const entries = await inbox.read(await inbox.start(), 10);
    const errors: string[] = [];
    const batch = await drainMessages(
      definition,
      entries,
      entries.at(-1)!.end,
      { ...log, error: (m) => errors.push(m) },
      'r',
      async () => new Map(),
    );
    const messages = batch.lines.map((line) => JSON.parse(line) as Record<string, any>);
    expect(messages.filter((m) => m.type === 'RECORD' && m.stream === 'results').map((m) => m.record.id)).toEqual([1, 2]);
    const rejects = messages.filter((m) => m.type === 'RECORD' && m.stream === REJECTS_STREAM).map((m) => m.record);
    expect(rejects.map((r) => [r.body, r.reason, r.replayed_at])).toEqual([
      ['{"bad":true}', 'bad', null],
      ['not json', expect.stringMatching(/^the mapping failed: .*JSON/), null],
    ]);
    expect(rejects[0].reject_id).toMatch(/^[0-9a-f]{64}$/);
    expect(batch).toMatchObject({ rejected: 2, replayed: 0 });
    expect(errors).toHaveLength(2);
    expect(errors.join('\n')).not.toContain('{"bad":true}'); // bodies are never logged
    expect(messages.at(-1)!.type).toBe('STATE');
    await inbox.close();
  });

  it('loads a stored reject that reads now and marks only its replayed_at; one that still fails is left as it is', async () => {
    const stored = [
      { body: Buffer.from('{"id":7,"v":1}'), receivedAt: '2026-12-01T00:00:00.000Z', rejectId: 'r7' },
      { body: Buffer.from('{"bad":true}'), receivedAt: '2026-12-01T00:00:01.000Z', rejectId: 'rbad' },
    ];
    const position = { id: 'x', segment: 1, offset: 0 };
    const batch = await drainMessages(definition, stored, position, log, 'r', async () => new Map(), new Date('2026-12-07T00:00:00Z'));
    const messages = batch.lines.map((line) => JSON.parse(line) as Record<string, any>);
    expect(messages.filter((m) => m.type === 'RECORD').map((m) => [m.stream, m.record])).toEqual([
      ['results', { id: 7, v: 1 }],
      [VERSIONS_STREAM, { stream: 'results', record_key: '[7]', version: 1 }],
      [REJECTS_STREAM, { reject_id: 'r7', replayed_at: '2026-12-07T00:00:00.000Z' }],
    ]);
    const schema = messages.find((m) => m.type === 'SCHEMA' && m.stream === REJECTS_STREAM)!.schema;
    expect(Object.keys(schema.properties)).toEqual(['reject_id', 'replayed_at']); // body and reason keep their values
    expect(batch).toMatchObject({ rejected: 0, replayed: 1 });
  });
});
