// The `classmarker-simulator` bin: --port N --seed S --rate-limit-per-hour N (+ data and quirk switches).
import { classMarkerSimulator } from './index.js';

await classMarkerSimulator.runCli();
