/** How the gateway verifies callers' bearer tokens: its slice of the gateway's configuration (config/). */
import type { KeySource, SigningKey } from '@ketengraph/service-kit';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_ISSUER_DIR } from './dev-issuer.js';

/**
 * Where the caller tokens' public keys come from: the identity provider's JWKS, or a development
 * issuer whose private key the gateway holds (the built-in one in `dir`, or a key given in memory
 * by tests); only with a development issuer can the explorer mint tokens for its sample users.
 */
export type CallerKeySource = KeySource | { source: 'dev-issuer'; dir: string } | { source: 'dev-issuer-key'; key: SigningKey };

/** How callers' bearer tokens are verified. */
export interface CallerTokenSettings {
  /** AUTH_ISSUER: required `iss` (default: the development issuer's). */
  issuer: string;
  /** AUTH_AUDIENCE: required `aud` (default ketengraph; the development issuer's is always ketengraph). */
  audience: string;
  /** AUTH_JWKS_URL or AUTH_JWKS_FILE; neither means the development issuer in `.data/dev-issuer/`. */
  keys: CallerKeySource;
  /** AUTH_CLOCK_SKEW_SECONDS: tolerated difference with the issuer's clock (default 30). */
  clockSkewSeconds: number;
}

export function loadCallerTokenSettings(env: NodeJS.ProcessEnv): CallerTokenSettings {
  const skew = Number(env.AUTH_CLOCK_SKEW_SECONDS ?? 30);
  if (!Number.isInteger(skew) || skew < 0 || skew > 300) throw new Error('AUTH_CLOCK_SKEW_SECONDS must be an integer from 0 to 300.');
  const { AUTH_ISSUER: issuer, AUTH_JWKS_URL: url, AUTH_JWKS_FILE: file } = env;
  if (!issuer && !url && !file)
    return { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, keys: { source: 'dev-issuer', dir: DEV_ISSUER_DIR }, clockSkewSeconds: skew };
  const audience = env.AUTH_AUDIENCE || DEV_AUDIENCE;
  if (!issuer) throw new Error('AUTH_ISSUER is required with AUTH_JWKS_URL or AUTH_JWKS_FILE.');
  if (!url === !file) throw new Error('With AUTH_ISSUER, set exactly one of AUTH_JWKS_URL and AUTH_JWKS_FILE.');
  return { issuer, audience, keys: url ? { source: 'url', url } : { source: 'file', file: file! }, clockSkewSeconds: skew };
}
