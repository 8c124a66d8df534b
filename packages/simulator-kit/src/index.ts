// The simulator kit: build a vendor API simulator from a route table, seeded data and faults.

export {
  type FlagValues,
  parseSimulatorArgs,
  runSimulatorCli,
  type SimulatorCliArgs,
  type SimulatorCliOptions,
  type SimulatorFlag,
} from './cli.js';
export {
  type DefinedSimulator,
  defineSimulator,
  type Simulator,
  type SimulatorDeclaration,
  type SimulatorOptions,
  type SimulatorParts,
} from './define.js';
export {
  commonErrorAnswers,
  type ErrorAnswerSpec,
  type ErrorAnswers,
  errorAnswerArgs,
  errorAnswerFault,
  parseErrorAnswers,
} from './error-answers.js';
export { FaultController, type FaultSpec, parseFaultSpec } from './faults.js';
export { type Seed, SeededRandom, seededRandom } from './random.js';
export { type LoggedRequest, RequestLog } from './request-log.js';
export type { HttpMethod, RouteDefinition, SimulatorRequest, SimulatorResponse } from './routes.js';
export {
  CONTROL_PREFIX,
  type RunningSimulator,
  type SimulatorDefinition,
  type StartOptions,
  startSimulator,
} from './server.js';
export {
  sendWebhook,
  sendWebhooksInTurn,
  type WebhookDelivery,
  type WebhookSendOptions,
  type WebhookSendResult,
} from './webhook-sender.js';
export { toXml } from './xml.js';
