// @tapline/tap-testpress: a Singer tap for Testpress exams and attempts.
import { defineTap, packageVersion } from '@tapline/tap-kit';
import { testpress } from './api.js';
import { attempts } from './streams/attempts.js';
import { exams } from './streams/exams.js';

export { configSchema, type TestpressConfig } from './api.js';

export const tap = defineTap({
  name: 'tap-testpress',
  description: 'Singer tap for Testpress exams and attempts (JWT auth on your institute’s host).',
  version: packageVersion(import.meta.url, '@tapline/tap-testpress'),
  api: testpress,
  streams: [exams, attempts],
});
