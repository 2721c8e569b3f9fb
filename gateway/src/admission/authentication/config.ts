/** How the gateway verifies callers' bearer tokens: its slice of the gateway's configuration (config/). */
import type { KeySource, SigningKey } from '@ketengraph/service-kit';

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
