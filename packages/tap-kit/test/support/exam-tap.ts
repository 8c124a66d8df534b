// A small exam-platform tap declared with the kit, used by the kit's own tests.
import { bodyCursorPaging, offsetPaging } from '@tapline/http';
import { z } from 'zod';
import { coerce, defineApi, defineTap } from '../../src/index.js';

export const Config = z.object({
  base_url: z.string().url(),
  api_key: z.string().min(1),
  start_date: z.string().optional(),
});

export const api = defineApi({
  config: Config,
  baseUrl: (config) => config.base_url,
  http: (config) => ({ headers: { 'x-api-key': config.api_key }, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } }),
  records: 'data',
  test: { path: '/me' },
});

export const exams = api.stream({
  name: 'exams',
  path: '/exams',
  key: ['id'],
  record: z.object({ id: z.number().int(), title: z.string(), pass_mark: coerce.decimal().nullable() }),
  // Overlapping pages let the kit trust the listing whole, so ACTIVATE_VERSION may follow it.
  pagination: offsetPaging({ limit: 2, overlap: true }),
  activateVersion: true,
});

export const results = api.stream({
  name: 'results',
  path: '/exams/{exam_id}/results',
  parent: exams.each((exam) => ({ exam_id: exam.id })),
  key: ['result_id'],
  record: z.object({
    result_id: z.number().int(),
    exam_id: z.number().int(),
    email: z.string().nullable(),
    finished_at: coerce.isoFromUnixSeconds(),
    duration: coerce.secondsFromDuration().optional(),
    passed: coerce.booleanFromYesNo(),
  }),
  incremental: { cursor: 'finished_at', send: { query: 'since', format: 'unix', exclusive: true }, sorted: true, partitioned: true },
  query: { limit: 3 },
  pagination: bodyCursorPaging({ token: 'next_since', more: 'more', send: { query: 'since' } }),
});

export const examTap = defineTap({
  name: 'tap-exams',
  description: 'Exam results from a fake exam platform.',
  version: '1.2.3',
  api,
  streams: [exams, results],
});
