// DuckDB refusing a change (here: a view where the stream's table would be) is one sentence saying where, exit 1, not a crash.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DuckDBPlace, duckdbHarness, withDuckDB } from './duckdb-harness.js';

let place: DuckDBPlace;
beforeEach(async () => {
  place = await duckdbHarness.open();
});
afterEach(async () => {
  await place.close();
});

describe('refusals by DuckDB', () => {
  it("a view named like the stream's table: one sentence naming the stream, line and change, exit 1, and the view untouched", async () => {
    await withDuckDB(place.path, (query) => query(`CREATE VIEW main.exams AS SELECT 1 AS id, 'x' AS other`));
    const config = join(place.path, '..', 'config.json');
    writeFileSync(config, JSON.stringify(place.config));
    const input = [
      '{"type":"SCHEMA","stream":"exams","schema":{"type":"object","properties":{"id":{"type":"integer"},"score":{"type":"number"}}},"key_properties":["id"]}',
      '{"type":"RECORD","stream":"exams","record":{"id":1,"score":2.5}}',
    ].join('\n');
    const result = spawnSync(place.command[0]!, [...place.command.slice(1), '--config', config], { input, encoding: 'utf8' });
    expect(result.status).toBe(7);
    expect(result.stderr).toMatch(
      /^CRITICAL line 1 \(stream "exams"\): DuckDB refused to add column "score" to main\.exams: Catalog Error: .*view/m,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await withDuckDB(place.path, (query) => query('SELECT * FROM main.exams'))).toEqual([{ id: 1, other: 'x' }]);
  });
});
