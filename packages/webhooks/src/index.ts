// @tapline/webhooks: the receiver kit (no vendor names): server, durable inbox, drain.
export {
  type Delivery,
  firstHeaderValue,
  type JsonSchema,
  PayloadError,
  type ReceiverSecrets,
  signaturesMatch,
  type Triage,
  type Verification,
  type WebhookDefinition,
  type WebhookStream,
} from './definition.js';
export {
  type DrainBatch,
  type DrainEntry,
  Drainer,
  type DrainLoader,
  type DrainOptions,
  type DrainState,
  drainMessages,
  REJECTS_STREAM,
  type StoredReject,
  VERSIONS_STREAM,
} from './drain.js';
export { Inbox, type InboxEntry, type InboxPosition } from './inbox.js';
export {
  createWebhookServer,
  HOOK_PATH,
  type Receiver,
  type ReceiverCounts,
  type ReceiverLog,
  type ServerOptions,
  type WebhookServer,
} from './server.js';
