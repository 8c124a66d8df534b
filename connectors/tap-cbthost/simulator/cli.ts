// The `cbthost-simulator` bin: serves a seeded CBTHost API and prints a ready-to-use tap config.
import { cbthostSimulator } from './index.js';

await cbthostSimulator.runCli();
