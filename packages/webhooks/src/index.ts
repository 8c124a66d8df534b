// @tapline/webhooks: the receiver kit (no vendor names): server, durable inbox, drain.
export { firstHeaderValue, signaturesMatch, PayloadError, type Delivery, type JsonSchema, type ReceiverSecrets, type Verification, type WebhookDefinition, type WebhookStream } from './definition.js';
export { Inbox, type InboxEntry, type InboxPosition } from './inbox.js';
export { createWebhookServer, HOOK_PATH, type Receiver, type ReceiverCounts, type ReceiverLog, type ServerOptions, type WebhookServer } from './server.js';
export { Drainer, drainMessages, VERSIONS_STREAM, type DrainLoader, type DrainOptions, type DrainState } from './drain.js';
