import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { SubgraphTokens } from '../auth/subgraph-tokens.js';
import type { GatewayContext } from '../context.js';

/**
 * How the gateway calls a subgraph: over Node's fetch (undici, keep-alive pooled connections),
 * carrying the request id, so subgraph logs and records line up with the gateway's, and the
 * gateway's short-lived token for the caller, without which a subgraph answers 401.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    config: ConstructorParameters<typeof RemoteGraphQLDataSource<GatewayContext>>[0],
    private readonly tokens: SubgraphTokens,
  ) {
    super(config);
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    if (!('requestId' in context)) return; // health checks and introspection run without a request
    request.http?.headers.set('x-request-id', context.requestId);
    request.http?.headers.set('authorization', `Bearer ${await this.tokens.tokenFor(context.principal)}`);
  }
}
