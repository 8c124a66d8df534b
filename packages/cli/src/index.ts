// @tapline/cli: the runner as a library (the `tapline` executable is ./cli.ts).
export { main } from './commands.js';
export { EXAMPLE_QUERIES, runDemo } from './demo.js';
export { ExitCode, TaplineError } from './errors.js';
export { type FleetOptions, type FleetResult, type FleetTotal, mergeBudgets, reportFleet, runFleet } from './fleet.js';
export { globMatches, selectPipelines, vendorKeyHash } from './fleet-plan.js';
export { createLogger, type LogFormat, type Logger, silentLogger } from './log.js';
export { buildModel, candidateAccounts, type ModelAccount, modelSql, PROVIDER_MODELS } from './model/index.js';
export { type ProviderModel, RESULT_COLUMNS } from './model/mapping.js';
export {
  loadStoredState,
  type PipelinePlan,
  planPipeline,
  type RunSummary,
  runPipeline,
  type StreamSummary,
} from './pipeline.js';
export { bundledSimulator, bundledTap, bundledTarget, PROVIDERS } from './plugins.js';
export { type ProcessRunResult, runProcesses } from './processes.js';
export { loadProject, type Project, parseProject, projectSchema } from './project.js';
export { clearState, readState, type StateLocation, writeState } from './state-store.js';
