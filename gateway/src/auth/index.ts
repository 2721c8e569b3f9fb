import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadAccessPolicy, type Principal } from '@ketengraph/service-kit';
import type { GatewayConfig } from '../config.js';
import { createCallerAuthentication } from './caller-authentication.js';
import { gatewayJwksRoute } from './jwks-route.js';
import { loadGatewaySigningKey } from './signing-key.js';
import { createSubgraphTokens, type SubgraphTokens } from './subgraph-tokens.js';

export interface GatewayAuthentication {
  /** The caller of a request; rejects with AuthenticationError (401). */
  authenticate(request: IncomingMessage): Promise<Principal>;
  subgraphTokens: SubgraphTokens;
  /** Serves the gateway's public JWKS. */
  route(request: IncomingMessage, response: ServerResponse): boolean;
}

/** Everything authentication needs, set up before the gateway listens; refuses development keys in production. */
export async function setUpAuthentication(config: GatewayConfig): Promise<GatewayAuthentication> {
  const policy = loadAccessPolicy();
  const authenticate = await createCallerAuthentication(config.callerTokens, policy, config.production);
  const signingKey = await loadGatewaySigningKey(config.signingKey, config.production);
  return { authenticate, subgraphTokens: createSubgraphTokens(signingKey), route: gatewayJwksRoute(signingKey.jwks) };
}
