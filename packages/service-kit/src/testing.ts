/**
 * Test helpers (import from '@ketengraph/service-kit/testing'): key pairs generated in memory and
 * tokens minted with them, so tests exercise the real verification without files or a network.
 */
import type { JSONWebKeySet } from 'jose';
import type { Actor } from './actor.js';
import { signPrincipalToken } from './authentication.js';
import { GATEWAY_TOKEN_AUDIENCE, GATEWAY_TOKEN_ISSUER } from './gateway-token.js';
import { generatePrivateJwk, importSigningKey, type KeySource, type SigningKey } from './keys.js';
import { loadAccessPolicy, type Principal } from './principal.js';

export interface TestKeyPair {
  signingKey: SigningKey;
  /** The public half, to configure a verifier with. */
  jwks: JSONWebKeySet;
}

export async function createTestKeyPair(): Promise<TestKeyPair> {
  const signingKey = await importSigningKey(await generatePrivateJwk());
  return { signingKey, jwks: signingKey.jwks };
}

/**
 * An existing test actor as a principal: `userId` becomes the subject, the purpose defaults to
 * the first one the access policy allows the role and the scopes to the role's (as a real
 * caller's token would carry).
 */
export function principalOf(who: Actor | Principal, purpose: string | null = loadAccessPolicy().rolePurposes[who.role]?.[0] ?? null): Principal {
  if ('subject' in who) return who;
  return { subject: who.userId, organisationId: who.organisationId, role: who.role, scopes: loadAccessPolicy().roleScopes[who.role] ?? [], purpose };
}

export interface MintOptions {
  issuer: string;
  audience: string;
  /** Negative for a token that has already expired. */
  expiresInSeconds?: number;
}

export function mintTestToken(keyPair: TestKeyPair, who: Actor | Principal, options: MintOptions): Promise<string> {
  return signPrincipalToken(principalOf(who), keyPair.signingKey, {
    issuer: options.issuer,
    audience: options.audience,
    expiresInSeconds: options.expiresInSeconds ?? 300,
  });
}

/** A stand-in for the gateway in subgraph tests: its public key for `startSubgraph`, and its tokens. */
export interface TestGateway {
  keyPair: TestKeyPair;
  /** Pass as `startSubgraph(module, { gatewayKeys })`. */
  gatewayKeys: KeySource;
  token(who: Actor | Principal, options?: { expiresInSeconds?: number }): Promise<string>;
  /** `{ authorization: 'Bearer …' }` for fetch. */
  authorization(who: Actor | Principal): Promise<Record<string, string>>;
}

export async function createTestGateway(): Promise<TestGateway> {
  const keyPair = await createTestKeyPair();
  const token: TestGateway['token'] = (who, options = {}) =>
    mintTestToken(keyPair, who, { issuer: GATEWAY_TOKEN_ISSUER, audience: GATEWAY_TOKEN_AUDIENCE, expiresInSeconds: options.expiresInSeconds ?? 60 });
  return {
    keyPair,
    gatewayKeys: { source: 'jwks', jwks: keyPair.jwks },
    token,
    authorization: async (who) => ({ authorization: `Bearer ${await token(who)}` }),
  };
}
