// @tapline/cli: the runner as a library (the `tapline` executable is ./cli.ts).
export { main } from './commands.js';
export { ExitCode, TaplineError } from './errors.js';
export { createLogger, silentLogger, type Logger, type LogFormat } from './log.js';
export { loadProject, parseProject, projectSchema, type Project } from './project.js';
export {
  planPipeline,
  runPipeline,
  loadStoredState,
  type PipelinePlan,
  type RunSummary,
  type StreamSummary,
} from './pipeline.js';
export { runFleet, reportFleet, mergeBudgets, type FleetOptions, type FleetResult, type FleetTotal } from './fleet.js';
export { selectPipelines, vendorKeyHash, globMatches } from './fleet-plan.js';
export { runProcesses, type ProcessRunResult } from './processes.js';
export { readState, writeState, clearState, type StateLocation } from './state-store.js';
export { buildModel, modelSql, candidateAccounts, PROVIDER_MODELS, type ModelAccount } from './model/index.js';
export { RESULT_COLUMNS, type ProviderModel } from './model/mapping.js';
export { runDemo, EXAMPLE_QUERIES } from './demo.js';
export { PROVIDERS, bundledTap, bundledTarget, bundledSimulator } from './plugins.js';
