import type { IncomingMessage } from 'node:http';
import { bearerToken, createTokenVerifier, signPrincipalToken } from './authentication.js';
import { keyResolver, type KeySource, type SigningKey } from './keys.js';
import type { AccessPolicy, Principal } from './principal.js';

/**
 * The gateway's tokens to subgraphs: the caller's verified principal, re-signed by the gateway
 * for one purpose (subgraphs) and a short life, so a subgraph trusts only requests that passed
 * the gateway's authentication, and a leaked token is soon worthless.
 */
export const GATEWAY_TOKEN_ISSUER = 'urn:ketengraph:gateway';
export const GATEWAY_TOKEN_AUDIENCE = 'ketengraph-subgraphs';
export const GATEWAY_TOKEN_LIFETIME_SECONDS = 60;
// Gateway and subgraphs run on the same infrastructure, so their clocks agree more closely than a caller's.
const GATEWAY_TOKEN_CLOCK_SKEW_SECONDS = 5;

export function signGatewayToken(principal: Principal, key: SigningKey, expiresInSeconds = GATEWAY_TOKEN_LIFETIME_SECONDS): Promise<string> {
  return signPrincipalToken(principal, key, { issuer: GATEWAY_TOKEN_ISSUER, audience: GATEWAY_TOKEN_AUDIENCE, expiresInSeconds });
}

/** What a subgraph knows of a request after checking the gateway's token. */
export interface GatewayCredentials {
  principal: Principal;
  /** The token itself, forwarded on server-to-server calls so they run for the same principal. */
  token: string;
}

/** A subgraph's check of the gateway's token; throws AuthenticationError (401) for anything else. */
export function gatewayTokenAuthenticator(keys: KeySource, policy: AccessPolicy): (request: IncomingMessage) => Promise<GatewayCredentials> {
  const verify = createTokenVerifier({
    keys: keyResolver(keys),
    issuer: GATEWAY_TOKEN_ISSUER,
    audience: GATEWAY_TOKEN_AUDIENCE,
    clockSkewSeconds: GATEWAY_TOKEN_CLOCK_SKEW_SECONDS,
    algorithms: ['EdDSA', 'ES256'],
    policy,
  });
  return async (request) => {
    const token = bearerToken(request);
    return { principal: await verify(token), token };
  };
}
