// The simulators post webhooks to a running `tapline serve` after `tapline run` polled the same
// results: webhook rows land on the polled rows' keys (no duplicates), and the rest are added.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resultWebhookBody, sendResultWebhook, startClassMarkerSimulator } from '@tapline/tap-classmarker/simulator';
import { examWebhookBody, sendExamWebhook, startTestpressSimulator } from '@tapline/tap-testpress/simulator';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { loadProject } from '../src/project.js';
import { startServer } from '../src/serve/index.js';
import { duckdbRows, tapline, tempDir } from './helpers.js';

const log = createLogger('text', () => {});
const KEYS = { publicKey: 'pubKEY123', privateKey: 'private-tp-key' };
const env = { CM_SECRET: 'cm-simulated-secret', TP_PRIVATE: KEYS.privateKey };

describe('simulators posting to tapline serve, beside the polling taps', () => {
  it('ClassMarker and Testpress webhook results reconcile with polled rows in DuckDB', async () => {
    const { dir, cleanup } = await tempDir();
    const cm = await startClassMarkerSimulator({ port: 0, seed: 11 });
    const tp = await startTestpressSimulator({ port: 0, seed: 11 });
    try {
      await writeFile(
        path.join(dir, 'tapline.yml'),
        JSON.stringify({
          taps: { classmarker: { config: cm.config }, testpress: { config: tp.config } },
          targets: { duckdb: { config: { path: 'w.duckdb' } } },
          receivers: {
            cm: { type: 'classmarker', secret: '${CM_SECRET}', target: 'duckdb' },
            tp: { type: 'testpress', secret: '${TP_PRIVATE}', public_key: KEYS.publicKey, target: 'duckdb' },
          },
        }),
      );
      for (const provider of ['classmarker', 'testpress']) {
        const run = await tapline(['run', provider, 'duckdb'], { cwd: dir });
        expect(run.code, run.stderr).toBe(0);
      }
      const file = path.join(dir, 'w.duckdb');
      const groupKey = "user_id || ':' || test_id || ':' || group_id || ':' || epoch(time_started)::BIGINT";
      const polledGroups = (await duckdbRows(file, `SELECT ${groupKey} AS k FROM classmarker.group_results`)).map((r) => String(r.k));
      const polledLinks = (await duckdbRows(file, 'SELECT link_result_id AS k FROM classmarker.link_results')).map((r) => Number(r.k));
      const polledAttempts = await duckdbRows(file, `SELECT id, state FROM testpress.attempts ORDER BY id`);
      expect(polledGroups.length).toBeGreaterThan(0);

      const { project, file: projectFile } = await loadProject(undefined, dir);
      const server = await startServer({ project, file: projectFile, cwd: dir, port: 0, host: '127.0.0.1', log, env });
      // The newest results (which the tap polled too) and the oldest (before its window).
      const sample = <T>(all: T[]) => [...all.slice(0, 5), ...all.slice(-25)];
      const groups = sample(cm.data.groupResults.map((s) => s.result));
      const links = sample(cm.data.linkResults.map((s) => s.result));
      await inParallel([...groups, ...links], async (result) => {
        const sent = await sendResultWebhook(server.receivers.cm!, env.CM_SECRET, resultWebhookBody(cm.data, result, { questions: true }));
        expect(sent.acknowledged).toBe(true);
      });
      const completed = tp.world.attempts.filter((a) => a.state === 'Completed').slice(0, 30);
      await inParallel(completed, async (attempt) => {
        const sent = await sendExamWebhook(
          server.receivers.tp!,
          examWebhookBody(tp.world, attempt, 'completed', KEYS, { numbersAsStrings: attempt.id % 2 === 0 }),
        );
        expect(sent.acknowledged).toBe(true);
      });
      await server.stop();

      const groupKeys = new Set([...polledGroups, ...groups.map((g) => `${g.user_id}:${g.test_id}:${g.group_id}:${g.time_started}`)]);
      const groupRows = (await duckdbRows(file, `SELECT ${groupKey} AS k FROM classmarker.group_results ORDER BY k`)).map((r) =>
        String(r.k),
      );
      expect(groupRows).toEqual([...groupKeys].sort());
      const linkKeys = [...new Set([...polledLinks, ...links.map((l) => l.link_result_id)])].sort((a, b) => a - b);
      const linkRows = await duckdbRows(file, 'SELECT link_result_id FROM classmarker.link_results ORDER BY link_result_id');
      expect(linkRows.map((r) => Number(r.link_result_id))).toEqual(linkKeys);
      const questions = await duckdbRows(file, 'SELECT count(*)::INT AS n FROM classmarker.question_responses');
      expect(questions[0]!.n).toBe(groups.length + links.length);
      const attempts = await duckdbRows(file, 'SELECT id, state FROM testpress.attempts ORDER BY id');
      const expectedIds = [...new Set([...polledAttempts.map((a) => Number(a.id)), ...completed.map((a) => a.id)])].sort((a, b) => a - b);
      expect(attempts.map((a) => Number(a.id))).toEqual(expectedIds);
      const completedIds = new Set(completed.map((a) => a.id));
      expect(attempts.filter((a) => completedIds.has(Number(a.id))).every((a) => a.state === 'Completed')).toBe(true);
    } finally {
      await cm.close();
      await tp.close();
      await cleanup();
    }
  }, 180_000);
});

/** Runs `work` on every item, 8 at a time (a vendor sends results concurrently). */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}
