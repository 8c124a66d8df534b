// A look-back and a pending rule read from the config: `lookback: config => duration`, `pending: (record, config) => boolean`.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { coerce, defineApi, defineTap } from '../src/index.js';
import { fakeApiPerTest } from './support/fake-api.js';
import { jsonFile, lastState, runCli } from './support/run-cli.js';

const Config = z.object({ base_url: z.string(), lookback_days: z.number().int().min(0).default(0), hold_open: z.boolean().default(false) });
const api = defineApi({ config: Config, baseUrl: (config) => config.base_url, records: 'results' });
const attempts = api.stream({
  name: 'attempts',
  path: '/attempts/',
  key: ['id'],
  record: z.object({ id: z.number().int(), date: coerce.isoDateTime(), open: z.boolean() }),
  incremental: {
    cursor: 'date',
    sorted: true,
    lookback: (config) => (config.lookback_days > 0 ? `${config.lookback_days}d` : undefined),
    pending: (attempt, config) => config.hold_open && attempt.open,
  },
});
const tap = defineTap({ name: 'tap-attempts', description: 'Attempts.', version: '0.0.1', api, streams: [attempts] });

const fakeApi = fakeApiPerTest(afterEach);
const day = (d: number) => new Date(Date.UTC(2024, 0, d)).toISOString().replace('.000Z', 'Z');
const NOW = () => new Date(Date.UTC(2024, 1, 1));
/** Attempts on days 1..9; the one on day 4 is still open. */
const rows = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => ({ id: d, date: day(d), open: d === 4 }));
const ids = (run: { messages: Array<Record<string, any>> }) => run.messages.filter((m) => m.type === 'RECORD').map((m) => m.record.id);

async function baseUrl() {
  return (await fakeApi.start({ 'GET /attempts/': () => ({ body: { results: rows } }) })).baseUrl;
}

describe('a look-back read from the config', () => {
  it('re-reads as many days before the bookmark as the setting says, and none when it returns undefined', async () => {
    const base_url = await baseUrl();
    const state = jsonFile({ bookmarks: { attempts: { replication_key: 'date', replication_key_value: day(9) } } });
    const three = await runCli(tap, ['--config', jsonFile({ base_url, lookback_days: 3 }), '--state', state], {}, NOW);
    expect(three.code, three.stderr).toBe(0);
    expect(ids(three)).toEqual([6, 7, 8, 9]);
    const none = await runCli(tap, ['--config', jsonFile({ base_url }), '--state', state], {}, NOW);
    expect(ids(none)).toEqual([9]);
  });
});

describe('a pending rule that reads the config', () => {
  it('holds the bookmark at an open attempt only when the config says so', async () => {
    const base_url = await baseUrl();
    const held = await runCli(tap, ['--config', jsonFile({ base_url, hold_open: true })], {}, NOW);
    expect(lastState(held).bookmarks.attempts.replication_key_value).toBe(day(4));
    const free = await runCli(tap, ['--config', jsonFile({ base_url })], {}, NOW);
    expect(lastState(free).bookmarks.attempts.replication_key_value).toBe(day(9));
  });
});
