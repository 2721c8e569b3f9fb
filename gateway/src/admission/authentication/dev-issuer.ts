/**
 * The built-in development token issuer: a key pair in `.data/dev-issuer/` (generated on first
 * use) that the gateway trusts when no identity provider is configured, and that
 * `npm run token` signs with. Never in production: anyone with the repository could mint tokens.
 */
import { join } from 'node:path';
import {
  dataRoot,
  ensureKeyPair,
  importSigningKey,
  loadAccessPolicy,
  signPrincipalToken,
  type AccessPolicy,
  type Principal,
  type SigningKey,
} from '@ketengraph/service-kit/tokens';

export const DEV_ISSUER = 'urn:ketengraph:dev-issuer';
export const DEV_AUDIENCE = 'ketengraph';
export const DEV_ISSUER_DIR = join(dataRoot, 'dev-issuer');

export async function devIssuerKey(dir: string = DEV_ISSUER_DIR): Promise<SigningKey> {
  return importSigningKey(await ensureKeyPair(dir));
}

/** A caller token from the development issuer. */
export async function mintDevToken(principal: Principal, options: { expiresInSeconds: number; dir?: string }): Promise<string> {
  return devTokenMinter(() => devIssuerKey(options.dir), DEV_ISSUER, DEV_AUDIENCE)(principal, options.expiresInSeconds);
}

/** Signs caller tokens as the development issuer the gateway trusts (the explorer's sample users). */
export type DevTokenMinter = (principal: Principal, expiresInSeconds: number) => Promise<string>;

/** A minter for the issuer, audience and key the gateway verifies caller tokens with. */
export function devTokenMinter(key: () => Promise<SigningKey>, issuer: string, audience: string): DevTokenMinter {
  return async (principal, expiresInSeconds) => signPrincipalToken(principal, await key(), { issuer, audience, expiresInSeconds });
}

/** A development token's principal: without scopes the role's `roleScopes`, without a purpose the role's first purpose. */
export function devPrincipal(
  { role, organisationId, subject, scopes, purpose }: { role: string; organisationId: string; subject?: string; scopes?: string[]; purpose?: string | null },
  policy: AccessPolicy = loadAccessPolicy(),
): Principal {
  return {
    subject: subject ?? `dev-${role}`,
    organisationId,
    role,
    scopes: scopes ?? policy.roleScopes[role] ?? [],
    purpose: purpose === undefined ? (policy.rolePurposes[role]?.[0] ?? null) : purpose,
  };
}

export function refuseInProduction(production: boolean): void {
  if (production) {
    throw new Error(
      'Refusing to start: NODE_ENV=production and no identity provider is configured, so the gateway would trust the built-in development token issuer. Set AUTH_ISSUER and AUTH_JWKS_URL (or AUTH_JWKS_FILE).',
    );
  }
}
