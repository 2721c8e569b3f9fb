/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp`
 * and `webhook-signature` = `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, computed by the
 * `standardwebhooks` package itself so a receiver using any Standard Webhooks library agrees.
 * While a rotation overlaps, the message carries one signature per valid secret (space
 * separated, as the specification allows), so receivers holding either secret accept it.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const SECRET_PREFIX = 'whsec_';

/** A new endpoint secret: 32 random bytes, base64, with the `whsec_` prefix the libraries expect. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function signedHeaders(messageId: string, body: string, secrets: readonly string[], at: Date = new Date()): SignedHeaders {
  if (secrets.length === 0) throw new Error('An endpoint without a valid secret cannot be signed for.');
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(messageId, at, body)).join(' '),
  };
}
