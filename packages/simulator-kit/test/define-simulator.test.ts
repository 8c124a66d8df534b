// defineSimulator: one declaration gives a started simulator its world, its extras and the vendor's
// error answers (start option, action, method), over real HTTP.
import { afterEach, describe, expect, it } from 'vitest';
import { commonErrorAnswers, defineSimulator, type SimulatorOptions, seededRandom } from '../src/index.js';

interface ShopOptions extends SimulatorOptions {
  items?: number;
}

const shop = defineSimulator({
  name: 'shop',
  errorAnswers: { 'sold-out-200': { status: 200, body: { error: 'sold out' } }, ...commonErrorAnswers('Shop') },
  build: (options: ShopOptions) => {
    const random = seededRandom(options.seed ?? 1);
    const items = Array.from({ length: options.items ?? 2 }, (_, i) => ({ id: i + 1, price: random.int(1, 9) }));
    return {
      routes: [{ name: 'items', method: 'GET' as const, path: '/items', handle: () => ({ body: { items } }) }],
      tapConfig: (baseUrl: string) => ({ base_url: baseUrl }),
      actions: { restock: () => items.push({ id: items.length + 1, price: 1 }) },
      extra: { items },
    };
  },
  cli: {
    description: 'A shop.',
    flags: { items: { type: 'number', description: 'items', default: 2 } },
    options: (flags) => ({ items: Number(flags.items) }),
  },
});

const started: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

const itemsAt = async (baseUrl: string) => (await fetch(`${baseUrl}/items`)).json();

describe('defineSimulator', () => {
  it('starts the declared world, seeded, with its extras and actions on the kit’s handle', async () => {
    const sim = await shop.start({ seed: 3, items: 3 });
    started.push(sim);
    expect(sim.config).toEqual({ base_url: sim.baseUrl });
    expect(sim.items).toHaveLength(3);
    expect(await itemsAt(sim.baseUrl)).toEqual({ items: sim.items });
    sim.act('restock');
    expect(sim.items).toHaveLength(4);
    const again = await shop.start({ seed: 3, items: 3 });
    started.push(again);
    expect(again.items).toEqual(sim.items.slice(0, 3));
  });

  it('serves the vendor’s error answers from the start option, the action and the method', async () => {
    const sim = await shop.start({ errorAnswers: [{ shape: 'sold-out-200', times: 1 }] });
    started.push(sim);
    expect(await itemsAt(sim.baseUrl)).toEqual({ error: 'sold out' });
    expect(await itemsAt(sim.baseUrl)).toMatchObject({ items: expect.any(Array) });
    sim.errorAnswer({ shape: 'null', times: 1 });
    expect(await itemsAt(sim.baseUrl)).toBeNull();
    await fetch(`${sim.baseUrl}/__simulator/actions/error-answer`, {
      method: 'POST',
      body: JSON.stringify({ shape: 'sold-out-200', times: 1 }),
    });
    expect(await itemsAt(sim.baseUrl)).toEqual({ error: 'sold out' });
    expect(() => sim.errorAnswer({ shape: 'closed' })).toThrow(/no error answer "closed"; the shapes are: sold-out-200, null, html/);
  });
});
