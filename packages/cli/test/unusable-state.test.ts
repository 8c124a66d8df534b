// A stored state the tap cannot resume from (a STATE value of null, a string, an array) never wedges
// a pipeline: the next run says so and starts from no state, on both warehouses.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { loadStoredState, type PipelinePlan, planPipeline, runPipeline } from '../src/pipeline.js';
import { bundledTarget, type Warehouse } from '../src/plugins.js';
import { parseProject } from '../src/project.js';
import { FAKE_TAP, PG_URL, pgSchema, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const built = bundledTarget('postgres') !== undefined && bundledTarget('duckdb') !== undefined;

/** A pipeline of the fake tap into a bundled warehouse target; `tap` adds to the tap's config. */
function plan(warehouse: Warehouse, schema: string, tap: Record<string, unknown>): PipelinePlan {
  const target =
    warehouse === 'postgres' ? { connection_string: PG_URL, default_target_schema: schema } : { path: path.join(dir, 'w.duckdb') };
  const project = parseProject(
    {
      taps: {
        fake: {
          command: ['node', FAKE_TAP],
          config: { records: 10, state_every: 5, state_copy: path.join(dir, 'state-given.json'), ...tap },
        },
      },
      targets: { [warehouse]: { config: target } },
    },
    path.join(dir, 'tapline.yml'),
  );
  return planPipeline(project, undefined, { tap: 'fake', target: warehouse }, dir);
}

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger('text', (line) => lines.push(line)) };
}

describe.skipIf(!built)('a stored state the tap cannot use', () => {
  for (const warehouse of ['duckdb', 'postgres'] as const) {
    for (const [what, value] of [
      ['null', null],
      ['a string', 'garbage'],
      ['an array', [1, 2]],
    ] as const) {
      it(`${warehouse}: a tap that committed ${what} as its state does not wedge the pipeline; the next run starts from no state, saying so`, async () => {
        const pgTest = warehouse === 'postgres' ? await pgSchema('cli_unusable_state') : undefined;
        try {
          const first = await runPipeline(plan(warehouse, pgTest?.schema ?? '', { final_state: value }), { log: capture().log });
          expect(first.status, first.error).toBe('succeeded');
          expect(await loadStoredState(plan(warehouse, pgTest?.schema ?? '', {}))).toEqual(value);

          const { lines, log } = capture();
          const second = await runPipeline(plan(warehouse, pgTest?.schema ?? '', {}), { log });
          expect(second.status, second.error).toBe('succeeded');
          expect(second.incremental).toBe(false);
          expect(await readFile(path.join(dir, 'state-given.json'), 'utf8')).toBe(''); // no --state given
          expect(lines).toContainEqual(
            `WARN pipeline fake-to-${warehouse}: the stored state is ${what === 'null' ? 'null' : what}, not an object a tap can resume from; this run starts from no state (a full sync) and replaces it`,
          );
          // The pipeline is free again: the third run resumes from what the second committed.
          expect(await loadStoredState(plan(warehouse, pgTest?.schema ?? '', {}))).toEqual({ bookmarks: { events: { offset: 10 } } });
          const third = await runPipeline(plan(warehouse, pgTest?.schema ?? '', {}), { log: capture().log });
          expect(third).toMatchObject({ status: 'succeeded', incremental: true });
        } finally {
          await pgTest?.drop();
        }
      }, 60_000);
    }
  }
});
