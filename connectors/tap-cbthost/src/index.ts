// @tapline/tap-cbthost: a Singer tap for CBTHost exam results.
import { defineTap } from '@tapline/tap-kit';
import { cbthost } from './api.js';
import { results } from './streams/results.js';

export { configSchema, type CbthostConfig } from './api.js';

export const tap = defineTap({
  name: 'tap-cbthost',
  description: 'Singer tap for CBTHost exam results (mass and single result endpoints).',
  version: '0.1.0',
  api: cbthost,
  streams: [results],
});
