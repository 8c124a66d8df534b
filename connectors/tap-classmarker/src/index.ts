// tap-classmarker: ClassMarker groups, links, tests and exam results as a Singer tap.
import { defineTap, packageVersion } from '@tapline/tap-kit';
import { accessCodes } from './access-codes.js';
import { classmarker } from './api.js';
import { groupResults } from './streams/group-results.js';
import { groups } from './streams/groups.js';
import { linkResults } from './streams/link-results.js';
import { links } from './streams/links.js';
import { tests } from './streams/tests.js';

export const tap = defineTap({
  name: 'tap-classmarker',
  description: 'ClassMarker exam results (group and link results, incremental on time_finished) with their groups, links and tests.',
  version: packageVersion(import.meta.url, '@tapline/tap-classmarker'),
  api: classmarker,
  streams: [groups, links, tests, groupResults, linkResults],
  subcommands: { 'access-codes': accessCodes },
});

export { classmarker } from './api.js';
export { type ClassMarkerConfig, configSchema } from './config.js';
export { groupResults, groups, linkResults, links, tests };
