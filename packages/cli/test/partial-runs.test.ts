// A run the vendor's rate limit cuts short is `partial` (exit 6), naming the streams it left for the
// next run; a --full-refresh forgets bookmarks but not the requests already spent (ClassMarker:
// 30 requests per hour), so it never sends the hour's 31st request.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundledTap, bundledTarget } from '../src/plugins.js';
import { tapline, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const built = bundledTap('classmarker') !== undefined && bundledTarget('duckdb') !== undefined;

describe.skipIf(!built)('runs the ClassMarker rate limit cuts short', () => {
  it("are partial (exit 6) naming the unfinished streams; a --full-refresh keeps the hour's spent requests and sends none past the limit", async () => {
    const { startClassMarkerSimulator } = await import('@tapline/tap-classmarker/simulator');
    const sim = await startClassMarkerSimulator({ seed: 'partial-runs', linkResults: 2000, groupResults: 500, rateLimitPerHour: 30 });
    try {
      // 50 results a page: a whole sync needs more than the hour's 30 requests.
      await writeFile(path.join(dir, 'cm.json'), JSON.stringify({ ...sim.config, page_size: 50 }));
      await writeFile(path.join(dir, 'wh.json'), JSON.stringify({ path: path.join(dir, 'w.duckdb') }));
      const run = (...flags: string[]) =>
        tapline(['run', 'classmarker', 'duckdb', '--tap-config', 'cm.json', '--target-config', 'wh.json', '--summary-json', ...flags], {
          cwd: dir,
        });

      const first = await run();
      expect(first.code, first.stderr).toBe(6);
      const summary = JSON.parse(first.stdout.trim());
      expect(summary).toMatchObject({ pipeline: 'classmarker-to-duckdb', status: 'partial', exit_code: 6 });
      expect(summary.tap_summary).toMatchObject({ status: 'partial', rate_limited: { retry_at: expect.any(String) } });
      const unfinished = Object.entries(summary.tap_summary.streams as Record<string, { unfinished: boolean }>)
        .filter(([, stream]) => stream.unfinished)
        .map(([name]) => name);
      expect(unfinished.length).toBeGreaterThan(0);
      // The text summary says what was left, by stream name.
      const line = first.stderr.split('\n').find((l) => l.startsWith('WARN pipeline classmarker-to-duckdb partial'));
      expect(line, first.stderr).toMatch(
        /the vendor's rate limit stopped the run \(run again after \d{4}-\d\d-\d\dT[^)]+\); streams not finished: /,
      );
      for (const name of unfinished) expect(line).toContain(name);
      expect(sim.requests.count()).toBeLessThanOrEqual(30);
      expect(sim.errorsSent).toEqual([]); // the tap's budget stopped it before ClassMarker had to refuse

      // Straight after, a full refresh: the hour's requests are spent, so it sends none and is partial again.
      const spent = sim.requests.count();
      const refresh = await run('--full-refresh', '--log-format', 'json');
      expect(refresh.code, refresh.stderr).toBe(6);
      expect(JSON.parse(refresh.stdout.trim())).toMatchObject({ status: 'partial', incremental: false, tap_summary: { rate_limited: {} } });
      expect(sim.requests.count()).toBe(spent);
      expect(sim.errorsSent).toEqual([]);
      const logs = refresh.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(logs).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: expect.stringMatching(/^pipeline classmarker-to-duckdb partial in .*streams not finished: /),
        }),
      );
    } finally {
      await sim.close();
    }
  }, 120_000);
});
