// Things a test starts (simulators, warehouses) and that must be gone after it, in one line each.

/**
 * Wraps a start function so everything it starts in a test is ended after that test:
 * `const startSim = perTest(afterEach, startOemSimulator, (sim) => sim.close())`,
 * `const duckdb = perTest(afterEach, duckdbWarehouse, (w) => w.drop())`. Takes vitest's `afterEach`
 * as an argument, so this module never loads vitest itself.
 */
export function perTest<TArgs extends unknown[], T>(
  afterEach: (hook: () => Promise<void>) => void,
  start: (...args: TArgs) => Promise<T>,
  end: (started: T) => Promise<unknown>,
): (...args: TArgs) => Promise<T> {
  const started: T[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((thing) => end(thing)));
  });
  return async (...args) => {
    const thing = await start(...args);
    started.push(thing);
    return thing;
  };
}
