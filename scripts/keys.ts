/**
 * `npm run keys -- <dir>`: the key material a production deployment needs and no one hands out,
 * written once into <dir> (default `secrets/`):
 * - `gateway-signing-key.json`: the gateway's private key (Ed25519 JWK) for its tokens to the
 *   subgraphs (GATEWAY_SIGNING_KEY_FILE, the gateway only);
 * - `gateway-jwks.json`: its public half (GATEWAY_PUBLIC_KEY_FILE, the subgraphs);
 * - `audit-seal-key`: 32 random bytes sealing the access log (AUDIT_SEAL_KEY_FILE, the gateway only;
 *   kept apart from the log's database).
 * A file that exists is kept: replacing a key is a decision, not a side effect.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { generatePrivateJwk, publicJwks } from '@ketengraph/service-kit/tokens';

const dir = resolve(process.argv[2] ?? 'secrets');
mkdirSync(dirname(dir), { recursive: true }); // only `dir` itself is private, not parents it creates
mkdirSync(dir, { recursive: true, mode: 0o700 });
const write = (name: string, content: string, mode: number, what: string) => {
  const file = join(dir, name);
  if (existsSync(file)) return console.log(`${file} exists: kept (${what}).`);
  writeFileSync(file, content, { mode, flag: 'wx' });
  console.log(`${file}: ${what}.`);
};
const privateFile = join(dir, 'gateway-signing-key.json');
if (!existsSync(privateFile)) {
  const jwk = await generatePrivateJwk();
  write('gateway-signing-key.json', `${JSON.stringify(jwk, null, 2)}\n`, 0o600, 'private, the gateway only');
  // A new private key needs its own public half: an older jwks file would be for another key.
  writeFileSync(join(dir, 'gateway-jwks.json'), `${JSON.stringify(publicJwks(jwk), null, 2)}\n`, { mode: 0o644 });
  console.log(`${join(dir, 'gateway-jwks.json')}: public, the subgraphs.`);
} else {
  console.log(`${privateFile} exists: kept (with its gateway-jwks.json).`);
}
write('audit-seal-key', `${randomBytes(32).toString('base64url')}\n`, 0o600, "the access log's seal key, the gateway only");
