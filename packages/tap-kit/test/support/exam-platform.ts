// Seeded data and routes for the fake exam platform: exams paged by offset, results per exam paged
// by a "strictly after" timestamp cursor (like ClassMarker's finishedAfterTimestamp).
import type { FakeHandler } from './fake-api.js';

export interface ResultRow {
  result_id: number;
  exam_id: number;
  email: string | null;
  finished_at: number;
  duration: string;
  passed: 'Yes' | 'No';
}

export const T0 = Date.UTC(2024, 0, 1) / 1000;

export function examRows() {
  return [
    { id: 1, title: 'Algebra', pass_mark: '50.0' },
    { id: 2, title: 'Biology', pass_mark: null },
    { id: 3, title: 'Chemistry', pass_mark: 62.5 },
  ];
}

/** Results for each exam; exam 1 has three results sharing one second across a page edge. */
export function resultRows(): ResultRow[] {
  const rows: ResultRow[] = [];
  let id = 100;
  const add = (exam_id: number, finished_at: number) =>
    rows.push({
      result_id: id++,
      exam_id,
      email: id % 2 ? `s${id}@example.com` : null,
      finished_at,
      duration: '0:42:07',
      passed: id % 3 ? 'Yes' : 'No',
    });
  add(1, T0 + 10);
  for (let i = 0; i < 3; i++) add(1, T0 + 20); // three ties across the page edge (limit 3)
  add(1, T0 + 30);
  add(2, T0 + 5);
  add(2, T0 + 15);
  return rows;
}

/** Routes over mutable data so tests can add results between runs. */
export function examRoutes(data: { exams: ReturnType<typeof examRows>; results: ResultRow[] }): Record<string, FakeHandler> {
  const routes: Record<string, FakeHandler> = {
    'GET /me': () => ({ body: { ok: true } }),
    'GET /exams': ({ query }) => {
      const offset = Number(query.offset ?? 0);
      const limit = Number(query.limit ?? 100);
      return { body: { data: data.exams.slice(offset, offset + limit) } };
    },
  };
  for (const exam of data.exams) {
    routes[`GET /exams/${exam.id}/results`] = ({ query }) => {
      const since = Number(query.since ?? 0);
      const limit = Number(query.limit ?? 100);
      const eligible = data.results
        .filter((r) => r.exam_id === exam.id && r.finished_at > since)
        .sort((a, b) => a.finished_at - b.finished_at);
      const page = eligible.slice(0, limit);
      const last = page.at(-1);
      const more = eligible.length > limit;
      // When the page ends inside a same-second cluster, step back a second so the rest are not skipped.
      const nextSince =
        last === undefined ? since : more && eligible[limit]!.finished_at === last.finished_at ? last.finished_at - 1 : last.finished_at;
      return { body: { data: page, more, next_since: nextSince } };
    };
  }
  return routes;
}
