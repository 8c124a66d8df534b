// The `tap-classmarker` executable.
import { runTap } from '@tapline/tap-kit';
import { tap } from './index.js';

await runTap(tap);
