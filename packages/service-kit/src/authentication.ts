import type { IncomingMessage } from 'node:http';
import { errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AuthenticationError } from './authentication-error.js';
import type { SigningKey } from './keys.js';
import { principalClaims, principalFromClaims, type AccessPolicy, type Principal } from './principal.js';

// Far above any real token; refuses oversized headers before any cryptography runs.
const MAX_TOKEN_LENGTH = 8192;

/** The token of an `Authorization: Bearer …` header. */
export function bearerToken(request: IncomingMessage): string {
  const header = request.headers.authorization;
  const match = header ? /^Bearer +([A-Za-z0-9\-_.]+)$/i.exec(header) : null;
  if (!match) throw new AuthenticationError(header ? 'invalid-token' : 'missing-token');
  const token = match[1]!;
  if (token.length > MAX_TOKEN_LENGTH) throw new AuthenticationError('invalid-token');
  return token;
}

export interface TokenVerifierOptions {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  clockSkewSeconds: number;
  /** Asymmetric algorithms only: a shared secret would let every holder mint tokens. */
  algorithms: string[];
  policy: AccessPolicy;
}

// Verified tokens remembered; a bound keeps a flood of distinct valid tokens from growing memory.
const MAX_REMEMBERED_TOKENS = 10_000;

/**
 * Verifies bearer tokens (signature, issuer, audience, expiry with clock skew) into principals.
 * A verified token is remembered until it expires: clients and the gateway reuse the same token
 * for many requests, and a signature check costs about 0.2 ms of CPU. The cache is keyed by the
 * whole token, signature included, so only byte-identical tokens hit it.
 */
export function createTokenVerifier(options: TokenVerifierOptions): (token: string) => Promise<Principal> {
  const remembered = new Map<string, { principal: Principal; validUntil: number }>();
  return async (token) => {
    const hit = remembered.get(token);
    if (hit) {
      if (Date.now() < hit.validUntil) return hit.principal;
      remembered.delete(token);
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, options.keys, {
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockSkewSeconds,
        algorithms: options.algorithms,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      if (error instanceof errors.JOSEError) throw new AuthenticationError('invalid-token', error.code);
      throw error; // a key source that cannot be reached is an outage, not a bad token
    }
    const principal = principalFromClaims(claims, options.policy);
    if (remembered.size >= MAX_REMEMBERED_TOKENS) remembered.delete(remembered.keys().next().value!);
    remembered.set(token, { principal, validUntil: (claims.exp! + options.clockSkewSeconds) * 1000 });
    return principal;
  };
}

/** A JWT carrying the principal's claims, signed with `key`. */
export function signPrincipalToken(
  principal: Principal,
  key: SigningKey,
  options: { issuer: string; audience: string; expiresInSeconds: number },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...principalClaims(principal) })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + options.expiresInSeconds)
    .sign(key.key);
}
