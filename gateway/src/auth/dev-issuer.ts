/**
 * The built-in development token issuer: a key pair in `.data/dev-issuer/` (generated on first
 * use) that the gateway trusts when no identity provider is configured, and that
 * `npm run token` signs with. Never in production: anyone with the repository could mint tokens.
 */
import { join } from 'node:path';
import { ensureKeyPair, importSigningKey, repositoryRoot, signPrincipalToken, type Principal, type SigningKey } from '@ketengraph/service-kit';

export const DEV_ISSUER = 'urn:ketengraph:dev-issuer';
export const DEV_AUDIENCE = 'ketengraph';
export const DEV_ISSUER_DIR = join(repositoryRoot, '.data', 'dev-issuer');

export async function devIssuerKey(dir: string = DEV_ISSUER_DIR): Promise<SigningKey> {
  return importSigningKey(await ensureKeyPair(dir));
}

/** A caller token from the development issuer. */
export async function mintDevToken(principal: Principal, options: { expiresInSeconds: number; dir?: string }): Promise<string> {
  return signPrincipalToken(principal, await devIssuerKey(options.dir), { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, expiresInSeconds: options.expiresInSeconds });
}

export function refuseInProduction(production: boolean): void {
  if (production) {
    throw new Error(
      'Refusing to start: NODE_ENV=production and no identity provider is configured, so the gateway would trust the built-in development token issuer. Set AUTH_ISSUER and AUTH_JWKS_URL (or AUTH_JWKS_FILE).',
    );
  }
}
