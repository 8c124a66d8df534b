// The --state file: a STATE message is unwrapped, null or an empty file is "no state" (said so), and
// any other shape the tap cannot use stops the run before a request, instead of silently re-reading
// everything from the start (and spending the vendor's budget on it).
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineApi, defineTap } from '../src/index.js';
import { type FakeApi, fakeApiPerTest } from './support/fake-api.js';
import { jsonFile, lastState, runCli } from './support/run-cli.js';

const api = defineApi({
  config: z.object({ base_url: z.string() }),
  baseUrl: (config) => config.base_url,
  records: 'data',
});
const events = api.stream({
  name: 'events',
  path: '/events',
  key: ['id'],
  record: z.object({ id: z.number().int(), updated_at: z.string() }),
  incremental: { cursor: 'updated_at', send: { query: 'since' }, sorted: true },
  pagination: null,
});
const tap = defineTap({ name: 'tap-events', description: 'One incremental stream.', version: '0.0.1', api, streams: [events] });

const BOOKMARK = '2024-05-01T10:00:00Z';
const saved = { bookmarks: { events: { replication_key: 'updated_at', replication_key_value: BOOKMARK } }, currently_syncing: null };

const fakeApi = fakeApiPerTest(afterEach);
let fake: FakeApi;

async function start(): Promise<string> {
  fake = await fakeApi.start({ 'GET /events': () => ({ body: { data: [{ id: 1, updated_at: '2024-05-02T00:00:00Z' }] } }) });
  return jsonFile({ base_url: fake.baseUrl });
}

function textFile(text: string): string {
  const path = jsonFile(null);
  writeFileSync(path, text);
  return path;
}

describe('a --state file the tap can use', () => {
  it('is the value of the last STATE: the run goes on from its bookmark', async () => {
    const config = await start();
    const run = await runCli(tap, ['--config', config, '--state', jsonFile(saved)]);
    expect(run.code).toBe(0);
    expect(fake.requests.map((r) => r.query.since)).toEqual([BOOKMARK]);
  });

  it('may be a whole STATE message, which is unwrapped (said in an INFO line)', async () => {
    const config = await start();
    const file = jsonFile({ type: 'STATE', value: saved });
    const run = await runCli(tap, ['--config', config, '--state', file]);
    expect(run.code).toBe(0);
    expect(fake.requests.map((r) => r.query.since)).toEqual([BOOKMARK]);
    expect(run.stderr).toContain(`INFO The state file ${file} holds a whole STATE message; using its value.`);
    expect(lastState(run).bookmarks.events.replication_key_value).toBe('2024-05-02T00:00:00Z');
  });

  it('may be a Meltano state export ({"singer_state": …}), which is unwrapped too', async () => {
    const config = await start();
    const run = await runCli(tap, ['--config', config, '--state', jsonFile({ singer_state: saved })]);
    expect(run.code).toBe(0);
    expect(fake.requests.map((r) => r.query.since)).toEqual([BOOKMARK]);
  });

  it.each([
    ['null', 'null', 'holds null'],
    ['an empty file', '  \n', 'is empty'],
    ['a STATE message with a null value', '{"type":"STATE","value":null}', 'holds a STATE message with a null value'],
  ])('may be %s: no state, as on a first run, said in an INFO line', async (_name, text, said) => {
    const config = await start();
    const file = textFile(text);
    const run = await runCli(tap, ['--config', config, '--state', file]);
    expect(run.code).toBe(0);
    expect(fake.requests.map((r) => r.query.since)).toEqual([undefined]);
    expect(run.stderr).toContain(`INFO The state file ${file} ${said}: starting without state, as on a first run.`);
  });

  it('may be {} or keep keys the tap does not know next to its own', async () => {
    const config = await start();
    expect((await runCli(tap, ['--config', config, '--state', jsonFile({})])).code).toBe(0);
    expect((await runCli(tap, ['--config', config, '--state', jsonFile({ ...saved, written_by: 'someone' })])).code).toBe(0);
    expect(fake.requests.map((r) => r.query.since)).toEqual([undefined, BOOKMARK]);
  });
});

describe('a --state file in a shape the tap cannot use', () => {
  const refused: Array<[string, unknown, string]> = [
    ['bookmarks that are not an object', { bookmarks: 'garbage' }, '"bookmarks" is a string, not an object of stream bookmarks'],
    ['bookmarks that are an array', { bookmarks: [] }, '"bookmarks" is an array, not an object of stream bookmarks'],
    ['an array', [saved], 'it holds an array, not a state object'],
    ['a string', 'bookmarks', 'it holds a string, not a state object'],
    ['a number', 42, 'it holds a number, not a state object'],
    [
      'a stream bookmark that is not an object',
      { bookmarks: { events: 'garbage' } },
      'the bookmark of stream "events" is a string, not an object',
    ],
    [
      'partitions that are not a list',
      { bookmarks: { events: { partitions: {} } } },
      '"partitions" of stream "events" is an object, not an array',
    ],
    [
      'a partition without its context',
      { bookmarks: { events: { partitions: [{ replication_key_value: 1 }] } } },
      'partition 1 of stream "events" has no "context" object',
    ],
    ['a STATE message whose value is an array', { type: 'STATE', value: [1] }, 'its STATE message holds an array, not a state object'],
    ['a STATE message without a value', { type: 'STATE' }, 'its STATE message has no "value"'],
    ['another Singer message', { type: 'RECORD', stream: 'events', record: {} }, 'it holds a RECORD message, not a state'],
    [
      'an object with none of the keys of a state',
      { value: saved },
      'it has none of the keys of a tap state ("bookmarks", "currently_syncing", "rate_budget"), only "value"',
    ],
    [
      'a rate budget in another shape',
      { bookmarks: {}, rate_budget: { request_times: 'lots' } },
      '"rate_budget" is not an object with a "request_times" array of epoch milliseconds',
    ],
    [
      'a rate budget with an entry that is not a time',
      { bookmarks: {}, rate_budget: { request_times: [1, 'soon'] } },
      '"rate_budget" is not an object with a "request_times" array of epoch milliseconds',
    ],
    [
      'currently_syncing that is not a stream name',
      { bookmarks: {}, currently_syncing: 5 },
      '"currently_syncing" is a number, not a stream name or null',
    ],
  ];
  it.each(refused)(
    'is refused before any request when it holds %s: exit 3, one sentence naming the file',
    async (_name, content, problem) => {
      const config = await start();
      const file = jsonFile(content);
      const run = await runCli(tap, ['--config', config, '--state', file]);
      expect(run.code).toBe(3);
      expect(fake.requests).toEqual([]);
      expect(run.messages).toEqual([]);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(
        `CRITICAL The state file ${file} is not a state this tap can use: ${problem}; pass the value of the last STATE message the tap wrote ({"bookmarks": {...}, ...}), or no --state to start from scratch.`,
      );
    },
  );

  it('is refused when it nests far deeper than a state does, instead of overflowing the stack', async () => {
    const config = await start();
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const file = textFile(`{"bookmarks": {"events": {"replication_key": "updated_at", "note": ${deep}}}}`);
    const run = await runCli(tap, ['--config', config, '--state', file]);
    expect(run.code).toBe(3);
    expect(fake.requests).toEqual([]);
    expect(run.stderr.trim()).toBe(
      `CRITICAL The state file ${file} is not a state this tap can use: it nests deeper than 100 levels; pass the value of the last STATE message the tap wrote ({"bookmarks": {...}, ...}), or no --state to start from scratch.`,
    );
  });

  it('is refused by --test too, before its request', async () => {
    const config = await start();
    const run = await runCli(tap, ['--config', config, '--test', '--state', jsonFile({ bookmarks: 'garbage' })]);
    expect(run.code).toBe(3);
    expect(fake.requests).toEqual([]);
  });
});
