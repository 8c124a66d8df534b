// Declared, not hooked: a stream chooses its endpoint and its response classifier per partition or
// config (`endpoint`, `classify`), and the kit builds the request from them.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineApi, defineTap } from '../src/index.js';
import { fakeApiPerTest } from './support/fake-api.js';
import { jsonFile, runCli } from './support/run-cli.js';

const Config = z.object({ base_url: z.string(), rooms: z.array(z.object({ room: z.number(), wing: z.string().optional() })) });
const api = defineApi({ config: Config, baseUrl: (config) => config.base_url, records: 'items' });
const bookings = api.stream({
  name: 'bookings',
  path: '/bookings',
  partitions: (config) => config.rooms,
  query: ({ context }) => ({ room: context.room }),
  key: ['id'],
  record: z.object({ id: z.string() }),
  // A room in a wing is read from that wing's own list, which wants the room in a header.
  endpoint: ({ context }) =>
    context.wing === undefined
      ? undefined
      : { path: '/wings/{wing}/bookings', query: { all: 'yes' }, headers: { 'x-room': String(context.room) } },
  // A wing that answers 404 was closed: that room is skipped, not the run.
  classify: ({ context }) =>
    context.wing === undefined
      ? undefined
      : (input) =>
          input.kind === 'response' && input.status === 404
            ? { action: 'skip', blame: 'config', message: `wing ${context.wing} is closed` }
            : undefined,
});
const tap = defineTap({ name: 'tap-rooms', description: 'Rooms.', version: '0.0.1', api, streams: [bookings] });
const fakeApi = fakeApiPerTest(afterEach);

describe('a stream that declares its endpoint and classifier per partition', () => {
  it('reads each partition from the endpoint it chose, with that endpoint’s query and headers', async () => {
    const fake = await fakeApi.start({
      'GET /bookings': (request) => ({ body: { items: [{ id: `room-${request.query.room}` }] } }),
      'GET /wings/east/bookings': (request) => ({ body: { items: [{ id: `east-${request.headers['x-room']}-${request.query.all}` }] } }),
      'GET /wings/west/bookings': () => ({ status: 404, body: { error: 'gone' } }),
    });
    const config = { base_url: fake.baseUrl, rooms: [{ room: 1 }, { room: 2, wing: 'east' }, { room: 3, wing: 'west' }] };
    const run = await runCli(tap, ['--config', jsonFile(config)]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.messages.filter((m) => m.type === 'RECORD').map((m) => m.record.id)).toEqual(['room-1', 'east-2-yes']);
    // The chosen endpoint's query replaces the stream's: no `room` goes to the wing's list.
    expect(fake.requests.map((r) => `${r.path}?${new URLSearchParams(r.query)}`)).toEqual([
      '/bookings?room=1',
      '/wings/east/bookings?all=yes',
      '/wings/west/bookings?all=yes',
    ]);
    expect(run.stderr).toMatch(/skipped: wing west is closed/);
  });

  it('is refused beside a custom fetch, which makes its own requests', () => {
    expect(() =>
      api.stream({
        name: 'desks',
        key: ['id'],
        record: z.object({ id: z.string() }),
        classify: () => undefined,
        async *fetch() {},
      }),
    ).toThrow(/a fetch makes its own requests; declare endpoint and classify on those/);
  });
});
