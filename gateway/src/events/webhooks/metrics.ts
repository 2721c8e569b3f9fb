import { counter } from '@ketengraph/service-kit';

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
