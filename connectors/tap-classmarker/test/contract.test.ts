// The shared tap contract suite, run against the ClassMarker simulator.
import { defineTapContract } from '@tapline/testing/tap-contract';
import { startClassMarkerSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

// A generous limit: the suite runs several syncs against one simulator within the same "hour".
defineTapContract({ tap, startSimulator: () => startClassMarkerSimulator({ seed: 'contract', rateLimitPerHour: 1000 }) });
