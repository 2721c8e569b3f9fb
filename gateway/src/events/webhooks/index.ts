export { WEBHOOK_MIGRATIONS_DIR, type WebhookConfig } from './config.js';
export { CHANGE_EVENT, WebhookDispatcher } from './dispatcher.js';
export { EndpointManager, VERIFICATION_EVENT } from './endpoints.js';
export { generateSecret, signedHeaders } from './signing.js';
export { messageId, WebhookStore } from './store.js';
export { createWebhookSchema, WEBHOOK_SCHEMA_FILE } from './subgraph.js';
export { Webhooks, type WebhookEvents } from './webhooks.js';
