import { counter, gauge } from '@ketengraph/service-kit';

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
