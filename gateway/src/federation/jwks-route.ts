import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '@ketengraph/service-kit';
import type { JSONWebKeySet } from 'jose';

export const GATEWAY_JWKS_PATH = '/.well-known/ketengraph-gateway-jwks.json';

/** Serves the gateway's public key, so subgraphs can verify its tokens with GATEWAY_JWKS_URL. */
export function gatewayJwksRoute(jwks: JSONWebKeySet): (request: IncomingMessage, response: ServerResponse) => boolean {
  const body = { keys: jwks.keys };
  return (request, response) => {
    if (request.method !== 'GET' || new URL(request.url ?? '/', 'http://localhost').pathname !== GATEWAY_JWKS_PATH) return false;
    response.setHeader('cache-control', 'public, max-age=300');
    sendJson(response, 200, body);
    return true;
  };
}
