/**
 * GraphQL subscriptions at the gateway (`placementChanged`), over graphql-ws and graphql-sse on
 * `/graphql`. @apollo/gateway cannot execute subscriptions; each event is resolved as a query
 * through the gateway's own pipeline instead (src/events).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { Admission } from '../../admission/admit.js';
import type { GatewayEvents } from '../index.js';
import { createPlacementChangeSubscriptions } from './placement-changes.js';
import { createSseRoute } from './sse.js';
import { attachWebSocketSubscriptions } from './websocket.js';

export { CLOSE_SERVICE_RESTART, CLOSE_UNAUTHORIZED } from './websocket.js';
export { SUBSCRIPTION_ERRORS } from './placement-changes.js';
export { subscriptionsOverHttpPlugin } from './http-plugin.js';

export interface GatewaySubscriptions {
  /** Answers SSE requests on the GraphQL path (for the HTTP layer's `routes` hook); false for anything else. */
  route(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  /** Serves WebSocket subscriptions on the gateway's HTTP server (its upgrade requests to the GraphQL path). */
  attach(server: Server): void;
  /**
   * Ends every subscription so clients reconnect elsewhere: WebSockets close with 1012 (Service
   * Restart), SSE streams end with a SHUTTING_DOWN error. Call before closing the HTTP server.
   */
  close(): Promise<void>;
  /** Subscriptions open now. */
  readonly size: number;
}

export interface SubscriptionOptions {
  events: GatewayEvents;
  /** The gateway's one admission step: each transport's requests and each new subscription pass it. */
  admission: Admission;
  apiSchema: () => GraphQLSchema;
  path?: string;
  /** Largest WebSocket message (the HTTP body limit). */
  maxBodyBytes: number;
}

export function setUpSubscriptions(options: SubscriptionOptions): GatewaySubscriptions {
  const path = options.path ?? '/graphql';
  const subscriptions = createPlacementChangeSubscriptions(options.events, (principal, params) =>
    options.admission.subscription(principal, options.apiSchema(), params),
  );
  const route = createSseRoute({ path, admission: options.admission, subscriptions });
  let websocket: { close(): Promise<void> } | null = null;
  return {
    route,
    attach(server) {
      websocket = attachWebSocketSubscriptions({
        server,
        path,
        maxPayload: options.maxBodyBytes,
        admission: options.admission,
        subscriptions,
        apiSchema: options.apiSchema,
      });
    },
    async close() {
      await websocket?.close();
      await subscriptions.close();
    },
    get size() {
      return subscriptions.size;
    },
  };
}
