/**
 * The gateway's Prometheus metrics, on the one registry of the process (service-kit), served on
 * `/metrics`. Labels are names and codes only: subgraph, operation, limit, reason, outcome.
 * Every gateway metric is declared here, so /metrics is documented in one file.
 */
import { counter, gauge, latencyHistogram } from '@ketengraph/service-kit';

/** Calls to a subgraph, by subgraph and outcome (`ok`, or the failure: timeout, connection, http-status, malformed, oversized, circuit-open). */
export const subgraphRequests = counter('ketengraph_subgraph_requests_total', 'Calls from the gateway to a subgraph, by subgraph and outcome.', [
  'subgraph',
  'outcome',
]);
export const subgraphLatency = latencyHistogram(
  'ketengraph_subgraph_request_duration_seconds',
  'Time of a call from the gateway to a subgraph, retries included.',
  ['subgraph'],
);
export const subgraphRequestsShared = counter(
  'ketengraph_subgraph_requests_shared_total',
  'Queries to a subgraph not sent because an identical one of the same caller was on its way (its answer is shared).',
  ['subgraph'],
);
export const subgraphRetries = counter('ketengraph_subgraph_retries_total', 'Repeated calls to a subgraph after a failure (queries only).', ['subgraph']);
/** 0 closed, 1 half-open, 2 open. */
export const subgraphCircuitState = gauge(
  'ketengraph_subgraph_circuit_state',
  'Circuit breaker per subgraph: 0 closed, 1 half-open (probing), 2 open (calls refused).',
  ['subgraph'],
);

export const authorizationDenials = counter(
  'ketengraph_authorization_denials_total',
  'Fields withheld or operations refused by field-level authorization, by reason.',
  ['reason'],
);
export const limitRejections = counter('ketengraph_limit_rejections_total', 'Operations refused by a request limit, by limit (its error code).', ['limit']);
export const rateLimited = counter('ketengraph_rate_limited_total', 'Requests refused with 429 because the organisation exceeded its rate.', []);
export const trustedDocumentRejections = counter(
  'ketengraph_trusted_document_rejections_total',
  'Requests refused because their document is not registered, by code.',
  ['code'],
);

export const auditWrites = counter('ketengraph_audit_writes_total', 'Requests whose access-log records were written (ok) or could not be (failed).', [
  'outcome',
]);
export const auditRecords = counter('ketengraph_audit_records_total', 'Access-log records written.', []);
export const auditCheckpoints = counter(
  'ketengraph_audit_checkpoints_total',
  'Access-log checkpoints: signed, refused (the log was altered since the last one) or failed.',
  ['outcome'],
);
export const auditCheckpointSequence = gauge(
  'ketengraph_audit_checkpoint_sequence',
  'Sequence of the last access-log record a signed checkpoint anchors (hash and signature are in the log line).',
  [],
);

export const supergraphReloads = counter(
  'ketengraph_supergraph_reloads_total',
  'Supergraph changes seen on disk: applied, or refused (the previous one keeps serving).',
  ['outcome'],
);

/** Subscription metrics on `/metrics`; labels are outcomes and error codes, never request values. */
export const subscriptionMetrics = {
  open: gauge('ketengraph_subscriptions_open', 'placementChanged subscriptions open now (WebSocket and SSE).', []),
  events: counter(
    'ketengraph_subscription_events_total',
    'Placement changes per subscription by outcome: delivered, or skipped (filtered out or not visible to the subscriber).',
    ['outcome'],
  ),
  ended: counter(
    'ketengraph_subscriptions_ended_total',
    'Subscriptions the gateway ended with an error, by code (UNAUTHENTICATED, SHUTTING_DOWN, CURSOR_EXPIRED, ...); a WebSocket connection closed with 4401 or 1012 ends its subscriptions without one.',
    ['code'],
  ),
};

/** Webhook counters on the process's Prometheus registry (`/metrics`); labels are outcomes only, never endpoint URLs or data. */
export const webhookMetrics = {
  enqueued: counter('ketengraph_webhook_enqueued_total', 'Webhook deliveries scheduled (one per matching endpoint and event).', []),
  deliveries: counter(
    'ketengraph_webhook_delivery_attempts_total',
    'Webhook delivery attempts by outcome: delivered (2xx), retry (failed, tried again later), dead_letter (failed the last attempt), skipped (the owner may not see the event).',
    ['outcome'],
  ),
  lostEvents: counter(
    'ketengraph_webhook_events_past_retention_total',
    'Events that could not be enqueued because the feed no longer kept them (webhooks down longer than the retention).',
    [],
  ),
};
