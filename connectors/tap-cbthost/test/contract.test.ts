// The shared tap contract suite, run against the CBTHost simulator.
import { defineTapContract } from '@tapline/testing/tap-contract';
import { startCbthostSimulator } from '../simulator/index.js';
import { tap } from '../src/index.js';

defineTapContract({ tap, startSimulator: () => startCbthostSimulator({ seed: 1 }) });
