// The `testpress-simulator` bin: serves a seeded Testpress API and prints a ready-to-use tap config.
import { testpressSimulator } from './index.js';

await testpressSimulator.runCli();
