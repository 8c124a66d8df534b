// tap-classmarker: ClassMarker groups, links, tests and exam results as a Singer tap.
import { createRequire } from 'node:module';
import { defineTap } from '@tapline/tap-kit';
import { accessCodes } from './access-codes.js';
import { classmarker } from './api.js';
import { groupResults } from './streams/group-results.js';
import { groups } from './streams/groups.js';
import { linkResults } from './streams/link-results.js';
import { links } from './streams/links.js';
import { tests } from './streams/tests.js';

/** The package version, read from package.json (src/ in tests, dist/src/ when built). */
function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const found = require(candidate) as { name?: string; version?: string };
      if (found.name === '@tapline/tap-classmarker' && found.version) return found.version;
    } catch {
      // not at this depth
    }
  }
  return '0.0.0';
}
const version = packageVersion();

export const tap = defineTap({
  name: 'tap-classmarker',
  description: 'ClassMarker exam results (group and link results, incremental on time_finished) with their groups, links and tests.',
  version,
  api: classmarker,
  streams: [groups, links, tests, groupResults, linkResults],
  subcommands: { 'access-codes': accessCodes },
});

export { classmarker } from './api.js';
export { configSchema, type ClassMarkerConfig } from './config.js';
export { groups, links, tests, groupResults, linkResults };
