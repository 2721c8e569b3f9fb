import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';

/**
 * A subscription sent as a plain HTTP request gets a clear refusal that names the transports,
 * instead of @apollo/gateway's internal "not supported" error.
 */
export function subscriptionsOverHttpPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError(
            'Subscriptions are served on /graphql over WebSocket (graphql-ws, protocol graphql-transport-ws) and Server-Sent Events (send Accept: text/event-stream), not as a plain HTTP request.',
            {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            },
          );
        },
      };
    },
  };
}
