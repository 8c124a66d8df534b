// A child stream that reads the URL its parent record carries (`each(..., { follow })`), as sent.
import { nextUrlPaging } from '@tapline/http';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { coerce, defineApi, defineTap } from '../src/index.js';
import { type FakeApi, fakeApiPerTest } from './support/fake-api.js';
import { jsonFile, runCli } from './support/run-cli.js';

const api = defineApi({
  config: z.object({ base_url: z.string(), api_key: z.string() }),
  baseUrl: (config) => config.base_url,
  http: (config) => ({ headers: { 'x-api-key': config.api_key } }),
  records: 'results',
  pagination: nextUrlPaging(),
});
const courses = api.stream({
  name: 'courses',
  path: '/api/courses/',
  key: ['id'],
  record: z.object({ id: z.number().int(), grades_url: z.string().nullable() }),
});
const grades = api.stream({
  name: 'grades',
  parent: courses.each((course) => ({ course_id: course.id }), { follow: 'grades_url' }),
  key: ['id'],
  query: { ordering: 'date' },
  record: z.object({ id: z.number().int(), course_id: z.number().int(), graded_at: coerce.isoDateTime() }),
  incremental: { cursor: 'graded_at', sorted: true, partitioned: true },
});
const tap = defineTap({ name: 'tap-courses', description: 'Courses and their grades.', version: '0.0.1', api, streams: [courses, grades] });

const fakeApi = fakeApiPerTest(afterEach);
let fake: FakeApi | undefined;

/** Courses whose grades_url is absolute (as Testpress's attempts_url is), with a query, and paged by `next`. */
async function start(gradesUrl: (base: string, course: number) => string | null) {
  let base = '';
  fake = await fakeApi.start({
    'GET /api/courses/': () => ({ body: { next: null, results: [1, 2].map((id) => ({ id, grades_url: gradesUrl(base, id) })) } }),
    'GET /api/courses/algebra-1/grades/': ({ query }) =>
      query.page === '2'
        ? { body: { next: null, results: [{ id: 11, graded_at: '2024-01-02T00:00:00Z' }] } }
        : {
            body: {
              next: `${base}/api/courses/algebra-1/grades/?term=final&page=2`,
              results: [{ id: 10, graded_at: '2024-01-01T00:00:00Z' }],
            },
          },
    'GET /api/courses/biology-2/grades/': () => ({ body: { next: null, results: [{ id: 20, graded_at: '2024-02-01T00:00:00Z' }] } }),
  });
  base = fake.baseUrl;
  return jsonFile({ base_url: fake.baseUrl, api_key: 'k-123456' });
}
const slug = (course: number) => (course === 1 ? 'algebra-1' : 'biology-2');

describe('a child that follows its parent record’s URL', () => {
  it('requests the URL as sent (query kept, stream query added), pages on, and keeps only the context in the state', async () => {
    const config = await start((base, id) => `${base}/api/courses/${slug(id)}/grades/?term=final`);
    const run = await runCli(tap, ['--config', config]);
    expect(run.stderr).not.toContain('CRITICAL');
    expect(run.code).toBe(0);
    const grades = run.messages.filter((m) => m.type === 'RECORD' && m.stream === 'grades').map((m) => m.record);
    expect(grades.map((g) => [g.id, g.course_id])).toEqual([
      [10, 1],
      [11, 1],
      [20, 2],
    ]);
    const first = fake!.requests.find((r) => r.path === '/api/courses/algebra-1/grades/')!;
    expect(first.query).toEqual({ term: 'final', ordering: 'date' });
    expect(first.headers['x-api-key']).toBe('k-123456');
    const state = run.messages.filter((m) => m.type === 'STATE').at(-1)!.value;
    expect(state.bookmarks.grades.partitions.map((p: { context: unknown }) => p.context)).toEqual([{ course_id: 1 }, { course_id: 2 }]);
    expect(JSON.stringify(state)).not.toContain('grades/');
  });

  it('reads a link written with http:// or another port on the configured scheme and port', async () => {
    const config = await start((_, id) => `http://127.0.0.1:1/api/courses/${slug(id)}/grades/`);
    const run = await runCli(tap, ['--config', config]);
    expect(run.code).toBe(0);
    expect(run.messages.filter((m) => m.type === 'RECORD' && m.stream === 'grades')).toHaveLength(3);
  });

  it('skips a parent record without the URL, with a warning, and goes on', async () => {
    const config = await start((base, id) => (id === 1 ? null : `${base}/api/courses/biology-2/grades/`));
    const run = await runCli(tap, ['--config', config]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/stream grades: a courses record has no grades_url; its grades were skipped/);
    expect(run.messages.filter((m) => m.type === 'RECORD' && m.stream === 'grades').map((m) => m.record.id)).toEqual([20]);
  });

  it('refuses a URL on another host (credentials stay on the API’s host), naming the stream and both hosts', async () => {
    const config = await start(() => 'https://elsewhere.example/api/courses/algebra-1/grades/');
    const run = await runCli(tap, ['--config', config]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /CRITICAL stream grades: the courses record's grades_url points to elsewhere\.example, not to the configured host 127\.0\.0\.1/,
    );
    expect(fake!.requests.map((r) => r.path)).toEqual(['/api/courses/']);
  });

  it('is checked when the tap loads: the followed field must be in the parent’s schema', () => {
    expect(() =>
      api.stream({
        name: 'bad',
        parent: courses.each(() => ({}), { follow: 'nope' as 'grades_url' }),
        key: ['id'],
        record: z.object({ id: z.number() }),
      }),
    ).toThrow(/follows "nope", which is not in the record schema of "courses"/);
    expect(() =>
      api.stream({
        name: 'both',
        parent: courses.each(() => ({}), { follow: 'grades_url' }),
        fetch: async function* () {},
        key: ['id'],
        record: z.object({ id: z.number() }),
      }),
    ).toThrow(/a fetch or follow a URL from the parent, not both/);
  });
});
