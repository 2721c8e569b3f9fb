/**
 * `npm run keys -- <dir>`: a fresh Ed25519 key pair for the gateway's tokens to the subgraphs,
 * written as `<dir>/gateway-signing-key.json` (private JWK: GATEWAY_SIGNING_KEY_FILE, the gateway
 * only) and `<dir>/gateway-jwks.json` (public JWKS: GATEWAY_PUBLIC_KEY_FILE, the subgraphs).
 * Refuses to overwrite an existing key.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generatePrivateJwk, publicJwks } from '@ketengraph/service-kit/tokens';

const dir = resolve(process.argv[2] ?? 'secrets');
const privateFile = join(dir, 'gateway-signing-key.json');
if (existsSync(privateFile)) {
  console.error(`${privateFile} exists; remove it first to make a new key (the subgraphs must then get the new public key too).`);
  process.exit(2);
}
mkdirSync(dir, { recursive: true, mode: 0o700 });
const jwk = await generatePrivateJwk();
writeFileSync(privateFile, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600 });
writeFileSync(join(dir, 'gateway-jwks.json'), `${JSON.stringify(publicJwks(jwk), null, 2)}\n`, { mode: 0o644 });
console.log(`Wrote ${privateFile} (private: the gateway only) and ${join(dir, 'gateway-jwks.json')} (public: the subgraphs).`);
