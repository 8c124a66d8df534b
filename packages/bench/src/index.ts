// @tapline/bench: the benchmark input generator (the `bench` script runs dist/bench.js).
export { BENCH_STREAM, benchKeyProperties, benchRecord, benchSchema, writeBenchInput, type GeneratedInput } from './generate.js';
