// The tap contract suite run against a minimal tap and an in-test API, the way every connector runs it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { coerce, defineApi, defineTap } from '@tapline/tap-kit';
import { z } from 'zod';
import { defineTapContract } from '../src/tap-contract/index.js';

const api = defineApi({
  config: z.object({ base_url: z.string(), api_key: z.string() }),
  baseUrl: (config) => config.base_url,
  records: 'items',
});

const courses = api.stream({
  name: 'courses',
  path: '/courses',
  key: ['id'],
  description: 'Courses.',
  record: z.object({ id: z.number().int().describe('Course id.'), name: z.string().nullable().describe('Course name.') }),
});

const grades = api.stream({
  name: 'grades',
  path: '/courses/{course_id}/grades',
  parent: courses.each((course) => ({ course_id: course.id })),
  key: ['id'],
  description: 'Grades per course.',
  record: z.object({
    id: z.number().int().describe('Grade id.'),
    course_id: z.number().int().describe('The course graded.'),
    score: coerce.decimal().describe('Exact.'),
    graded_at: coerce.isoDateTime().describe('When it was graded.'),
  }),
  incremental: { cursor: 'graded_at', send: 'query:since', sorted: true, partitioned: true },
});

const tap = defineTap({ name: 'tap-courses', description: 'Courses and grades.', version: '0.0.1', api, streams: [courses, grades] });

async function startCoursesApi() {
  const grades = [
    { id: 1, course_id: 1, score: '9.50', graded_at: '2024-01-01T10:00:00+01:00' },
    { id: 2, course_id: 1, score: '7', graded_at: '2024-01-02T10:00:00Z' },
    { id: 3, course_id: 2, score: '8.25', graded_at: '2024-01-03T10:00:00.123456Z' },
  ];
  // A request for a path it does not serve fails the suite when the API closes, as a simulator's does.
  const unexpected: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const match = /^\/courses\/(\d+)\/grades$/.exec(url.pathname);
    let items: unknown[] | undefined;
    if (url.pathname === '/courses')
      items = [
        { id: 1, name: 'Maths' },
        { id: 2, name: null },
      ];
    else if (match) {
      const since = url.searchParams.get('since');
      items = grades.filter((g) => g.course_id === Number(match[1]) && (!since || Date.parse(g.graded_at) >= Date.parse(since)));
    }
    if (!items) unexpected.push(`${req.method} ${url.pathname}`);
    res.writeHead(items ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify({ items }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    config: { base_url: `http://127.0.0.1:${port}`, api_key: 'k' },
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (unexpected.length > 0) throw new Error(`the courses API served no route for ${unexpected.join(', ')}`);
    },
  };
}

defineTapContract({ tap, startSimulator: startCoursesApi });
