// @tapline/bench: the benchmark input generator (the `bench` script runs dist/bench.js).
export { BENCH_STREAM, benchKeyProperties, benchRecord, benchSchema, type GeneratedInput, writeBenchInput } from './generate.js';
