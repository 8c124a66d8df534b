// The simulator kit: build a vendor API simulator from a route table, seeded data and faults.
export { seededRandom, SeededRandom, type Seed } from './random.js';
export type { HttpMethod, RouteDefinition, SimulatorRequest, SimulatorResponse } from './routes.js';
export { RequestLog, type LoggedRequest } from './request-log.js';
export { FaultController, parseFaultSpec, type FaultSpec } from './faults.js';
export {
  startSimulator,
  CONTROL_PREFIX,
  type SimulatorDefinition,
  type StartOptions,
  type RunningSimulator,
} from './server.js';
export {
  runSimulatorCli,
  parseSimulatorArgs,
  type SimulatorCliArgs,
  type SimulatorCliOptions,
  type SimulatorFlag,
  type FlagValues,
} from './cli.js';
export { toXml } from './xml.js';
export {
  commonErrorAnswers,
  errorAnswerArgs,
  errorAnswerFault,
  parseErrorAnswers,
  type ErrorAnswers,
  type ErrorAnswerSpec,
} from './error-answers.js';
export { sendWebhook, type WebhookSendOptions, type WebhookSendResult } from './webhook-sender.js';
