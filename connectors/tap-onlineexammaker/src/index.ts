// @tapline/tap-onlineexammaker: a Singer tap for OnlineExamMaker exam results.
import { defineTap } from '@tapline/tap-kit';
import { oem } from './api.js';
import { exams } from './streams/exams.js';
import { results } from './streams/results.js';

export { configSchema, type OemConfig } from './api.js';

export const tap = defineTap({
  name: 'tap-onlineexammaker',
  description: 'Singer tap for OnlineExamMaker exams and candidates’ results (legacy index.php API or the v1 API).',
  version: '0.1.0',
  api: oem,
  streams: [exams, results],
});
