import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadAccessPolicy, type Principal } from '@ketengraph/service-kit';
import type { CallerTokenSettings } from './config.js';
import { createCallerAuthentication } from './caller-authentication.js';
import { devIssuerKey, devTokenMinter, type DevTokenMinter } from './dev-issuer.js';
import { gatewayJwksRoute } from '../../federation/jwks-route.js';
import { loadGatewaySigningKey, type GatewaySigningKeySource } from '../../federation/signing-key.js';
import { createSubgraphTokens, type SubgraphTokens } from '../../federation/subgraph-tokens.js';

/** The part of the gateway's configuration (config/) authentication reads. */
export interface AuthenticationConfig {
  callerTokens: CallerTokenSettings;
  signingKey: GatewaySigningKeySource;
  production: boolean;
}

export interface GatewayAuthentication {
  /** The caller of a request; rejects with AuthenticationError (401). */
  authenticate(request: IncomingMessage): Promise<Principal>;
  subgraphTokens: SubgraphTokens;
  /** Serves the gateway's public JWKS. */
  route(request: IncomingMessage, response: ServerResponse): boolean;
  /** Mints caller tokens the gateway trusts; only with a development issuer, never in production. */
  devTokens: DevTokenMinter | null;
}

/** Everything authentication needs, set up before the gateway listens; refuses development keys in production. */
export async function setUpAuthentication(config: AuthenticationConfig): Promise<GatewayAuthentication> {
  const policy = loadAccessPolicy();
  const authenticate = await createCallerAuthentication(config.callerTokens, policy, config.production);
  const signingKey = await loadGatewaySigningKey(config.signingKey, config.production);
  return { authenticate, subgraphTokens: createSubgraphTokens(signingKey), route: gatewayJwksRoute(signingKey.jwks), devTokens: devTokens(config) };
}

function devTokens({ callerTokens: { keys, issuer, audience }, production }: AuthenticationConfig): DevTokenMinter | null {
  if (production) return null;
  if (keys.source === 'dev-issuer') return devTokenMinter(() => devIssuerKey(keys.dir), issuer, audience);
  if (keys.source === 'dev-issuer-key') return devTokenMinter(async () => keys.key, issuer, audience);
  return null;
}
