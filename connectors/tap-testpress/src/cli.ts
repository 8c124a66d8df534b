// The `tap-testpress` bin.
import { runTap } from '@tapline/tap-kit';
import { tap } from './index.js';

await runTap(tap);
