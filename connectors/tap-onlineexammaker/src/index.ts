// @tapline/tap-onlineexammaker: a Singer tap for OnlineExamMaker exam results.
import { defineTap, packageVersion } from '@tapline/tap-kit';
import { oem } from './api.js';
import { exams } from './streams/exams.js';
import { results } from './streams/results.js';

export { configSchema, type OemConfig } from './api.js';

export const tap = defineTap({
  name: 'tap-onlineexammaker',
  description: 'Singer tap for OnlineExamMaker exams and candidates’ results (legacy index.php API or the v1 API).',
  version: packageVersion(import.meta.url, '@tapline/tap-onlineexammaker'),
  api: oem,
  streams: [exams, results],
});
