import { createReadStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isLosslessNumber, type ParsedLine, readMessages, SingerInputError, type SingerWarning } from '../src/index.js';
import { peerFile, peerTestsDir } from './peer-tests.js';

const encoder = new TextEncoder();

async function* chunks<T>(...parts: T[]): AsyncGenerator<T> {
  for (const part of parts) yield part;
}

/** Split bytes at the given offsets. */
function splitAt(bytes: Uint8Array, ...offsets: number[]): Uint8Array[] {
  const bounds = [0, ...offsets, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end));
}

async function readAll(input: AsyncIterable<Uint8Array | string>, onWarning?: (w: SingerWarning) => void) {
  const lines: ParsedLine[] = [];
  const batches: number[] = [];
  for await (const batch of readMessages(input, { onWarning })) {
    batches.push(batch.length);
    lines.push(...batch);
  }
  return { lines, batches };
}

const record = (stream: string, value: string) => JSON.stringify({ type: 'RECORD', stream, record: { value } });
// Two-, three- and four-byte UTF-8 characters, CRLF endings and a final line without newline.
const text = [
  JSON.stringify({ type: 'SCHEMA', stream: 'words', schema: { properties: { value: { type: 'string' } } }, key_properties: [] }),
  record('words', 'café'),
  record('words', '中文'),
  record('words', 'party 🎉'),
].join('\r\n');
const bytes = encoder.encode(text);

describe('readMessages', () => {
  it('gives every message its 1-based line number', async () => {
    const { lines } = await readAll(chunks(bytes));
    expect(lines.map((l) => l.line)).toEqual([1, 2, 3, 4]);
    expect(lines.map((l) => l.message.type)).toEqual(['SCHEMA', 'RECORD', 'RECORD', 'RECORD']);
  });

  it('reads the same messages wherever the chunks split (inside characters and inside CRLF)', async () => {
    const { lines: whole } = await readAll(chunks(bytes));
    for (let offset = 1; offset < bytes.length; offset++) {
      const { lines } = await readAll(chunks(...splitAt(bytes, offset)));
      expect(lines, `split at byte ${offset}`).toEqual(whole);
    }
  });

  it('reads one byte at a time', async () => {
    const { lines } = await readAll(chunks(...splitAt(bytes, ...Array.from({ length: bytes.length - 1 }, (_, i) => i + 1))));
    expect(lines.map((l) => (l.message.type === 'RECORD' ? l.message.record.value : l.message.type))).toEqual([
      'SCHEMA',
      'café',
      '中文',
      'party 🎉',
    ]);
  });

  it('skips blank and whitespace-only lines but counts them', async () => {
    const input = `\n${record('s', 'a')}\r\n\r\n   \n${record('s', 'b')}\n\n`;
    const { lines } = await readAll(chunks(input));
    expect(lines.map((l) => l.line)).toEqual([2, 5]);
  });

  it('yields one batch per input chunk, not one per message', async () => {
    const { batches } = await readAll(chunks(`${record('s', 'a')}\n${record('s', 'b')}\n${record('s', 'c')}`, `\n${record('s', 'd')}\n`));
    expect(batches).toEqual([2, 2]);
  });

  it('accepts text chunks and a leading byte-order mark', async () => {
    const { lines } = await readAll(chunks(`\uFEFF${record('s', 'a')}\n`, record('s', 'b')));
    expect(lines.map((l) => l.line)).toEqual([1, 2]);
    const fromBytes = await readAll(chunks(encoder.encode(`\uFEFF${record('s', 'a')}`)));
    expect(fromBytes.lines).toHaveLength(1);
  });

  it('rejects a truncated last line as invalid JSON, after yielding the lines before it', async () => {
    const input = `${record('s', 'a')}\n{"type": "RECORD", "stream": "s", "record": {"va`;
    const seen: number[] = [];
    const reading = (async () => {
      for await (const batch of readMessages(chunks(input))) seen.push(...batch.map((l) => l.line));
    })();
    await expect(reading).rejects.toThrow(/^line 2 \(stream "s"\): invalid JSON \(/);
    expect(seen).toEqual([1]);
  });

  it('yields the good lines of a chunk before failing on a bad line in the same chunk', async () => {
    const input = `${record('s', 'a')}\n${record('s', 'b')}\nnot json\n${record('s', 'c')}\n`;
    const seen: number[] = [];
    let error: unknown;
    try {
      for await (const batch of readMessages(chunks(input))) seen.push(...batch.map((l) => l.line));
    } catch (caught) {
      error = caught;
    }
    expect(seen).toEqual([1, 2]);
    expect(error).toBeInstanceOf(SingerInputError);
    expect((error as SingerInputError).line).toBe(3);
  });

  it('rejects bytes that are not UTF-8, naming the line', async () => {
    const bad = new Uint8Array([
      ...encoder.encode(`${record('s', 'a')}\n{"type":"RECORD","stream":"s","record":{"v":"`),
      0xff,
      0xfe,
      ...encoder.encode('"}}\n'),
    ]);
    await expect(readAll(chunks(bad))).rejects.toThrow(/^line 2: input is not valid UTF-8/);
  });

  it('bytes that are not UTF-8 fail after every line before them was yielded, even in the same chunk (a STATE before them is kept)', async () => {
    const bad = new Uint8Array([
      ...encoder.encode(`${record('s', 'a')}\n{"type":"STATE","value":{"at":1}}\n{"type":"RECORD","stream":"s","record":{"v":"`),
      0xff,
      ...encoder.encode('"}}\n'),
    ]);
    const seen: string[] = [];
    let error: unknown;
    try {
      for await (const batch of readMessages(chunks(bad))) seen.push(...batch.map((l) => `${l.line} ${l.message.type}`));
    } catch (caught) {
      error = caught;
    }
    expect(seen).toEqual(['1 RECORD', '2 STATE']);
    expect((error as SingerInputError).message).toMatch(/^line 3: input is not valid UTF-8/);
  });

  it('says so when the input is UTF-16 (what Windows PowerShell redirection writes)', async () => {
    const utf16 = Buffer.from(`\ufeff${record('s', 'a')}\n`, 'utf16le');
    await expect(readAll(chunks(new Uint8Array(utf16)))).rejects.toThrow(/^line 1: input is UTF-16 .*re-encode it as UTF-8/);
  });

  it('skips an unknown message type with one warning per type', async () => {
    const warnings: SingerWarning[] = [];
    const input = `{"type":"FOO"}\n${record('s', 'a')}\n{"type":"foo"}\n{"type":"BAR"}\n`;
    const { lines } = await readAll(chunks(input), (w) => warnings.push(w));
    expect(lines.map((l) => l.line)).toEqual([2]);
    expect(warnings.map((w) => w.message)).toEqual([
      'line 1: skipping message of unknown type "FOO"',
      'line 4: skipping message of unknown type "BAR"',
    ]);
  });
});

describe.skipIf(!peerTestsDir)('readMessages on peer-test streams', () => {
  it('keeps the integer above 2^53 in large_int.singer exact', async () => {
    const { lines } = await readAll(createReadStream(peerFile('target-postgres/large_int.singer')));
    const first = lines.find((l) => l.message.type === 'RECORD');
    const id = first?.message.type === 'RECORD' ? first.message.record.id : undefined;
    expect(isLosslessNumber(id)).toBe(true);
    expect(String(id)).toBe('99999999999999999');
    const second = lines.filter((l) => l.message.type === 'RECORD')[1];
    expect(second?.message.type === 'RECORD' && second.message.record.id).toBe(2);
  });

  it('fails fixerio-invalid-truncated.json at line 2 as invalid JSON', async () => {
    const reading = readAll(createReadStream(peerFile('singer-tools/fixerio-invalid-truncated.json')));
    await expect(reading).rejects.toThrow(/^line 2 \(stream "exchange_rate"\): invalid JSON/);
  });

  it('skips the FOO message of fixerio-invalid-bad-type.json with a warning', async () => {
    const warnings: SingerWarning[] = [];
    const { lines } = await readAll(createReadStream(peerFile('singer-tools/fixerio-invalid-bad-type.json')), (w) => warnings.push(w));
    expect(lines.length).toBeGreaterThan(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/unknown type "FOO"/);
  });
});
