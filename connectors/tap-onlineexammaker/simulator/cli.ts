// The `onlineexammaker-simulator` bin: serves a seeded OnlineExamMaker API and prints a ready-to-use tap config.
import { oemSimulator } from './index.js';

await oemSimulator.runCli();
