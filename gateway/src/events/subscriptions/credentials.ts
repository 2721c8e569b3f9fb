import type { IncomingMessage } from 'node:http';
import type { Principal } from '@ketengraph/service-kit';
import { decodeJwt } from 'jose';

export interface Subscriber {
  principal: Principal;
  /** The token's `exp` in ms since the epoch: the subscription ends then. */
  expiresAt: number;
}

/**
 * The subscriber behind an `Authorization` value (a header, or graphql-ws connectionParams),
 * verified exactly like an HTTP request's; rejects with the same AuthenticationError.
 */
export async function subscriberOf(authenticate: (request: IncomingMessage) => Promise<Principal>, authorization: string | undefined): Promise<Subscriber> {
  const principal = await authenticate({ headers: authorization === undefined ? {} : { authorization } } as IncomingMessage);
  // Verified above (signature, issuer, audience, exp required); only the expiry is read again.
  const token = authorization!.replace(/^Bearer +/i, '');
  return { principal, expiresAt: decodeJwt(token).exp! * 1000 };
}
