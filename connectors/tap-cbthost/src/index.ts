// @tapline/tap-cbthost: a Singer tap for CBTHost exam results.
import { defineTap, packageVersion } from '@tapline/tap-kit';
import { cbthost } from './api.js';
import { results } from './streams/results.js';

export { type CbthostConfig, configSchema } from './api.js';

export const tap = defineTap({
  name: 'tap-cbthost',
  description: 'Singer tap for CBTHost exam results (mass and single result endpoints).',
  version: packageVersion(import.meta.url, '@tapline/tap-cbthost'),
  api: cbthost,
  streams: [results],
});
