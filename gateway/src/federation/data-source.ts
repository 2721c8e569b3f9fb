import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayContext } from '../context.js';

/**
 * How the gateway calls a subgraph: over Node's fetch (undici, keep-alive pooled connections),
 * carrying the request id and the caller, so subgraph logs and records line up with the
 * gateway's.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (!('requestId' in context)) return; // health checks and introspection run without a request
    request.http?.headers.set('x-request-id', context.requestId);
    if (context.actorHeader) request.http?.headers.set('x-ketengraph-actor', context.actorHeader);
  }
}
