// The shared tap contract suite, run against the ClassMarker simulator.
import { defineTapContract } from '@tapline/testing/tap-contract';
import { startClassMarkerSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

const TWO_DAYS_MS = 2 * 86_400_000;

// A generous limit: the suite runs several syncs against one simulator within the same "hour".
defineTapContract({
  tap,
  startSimulator: () => startClassMarkerSimulator({ seed: 'contract', rateLimitPerHour: 1000 }),
  // Results are re-read two days before their bookmark (the declared look-back, for edited points).
  overlap: { group_results: TWO_DAYS_MS, link_results: TWO_DAYS_MS },
});
