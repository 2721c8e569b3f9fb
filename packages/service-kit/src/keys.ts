import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { dataRoot } from './paths.js';

/** A private key ready to sign, with what verifiers need to find its public half. */
export interface SigningKey {
  key: CryptoKey;
  kid: string;
  alg: string;
  /** The public half, as served to verifiers. */
  jwks: JSONWebKeySet;
}

/** Where a verifier gets public keys: given in memory (tests), a JWKS file, or a JWKS URL. */
export type KeySource = { source: 'jwks'; jwks: JSONWebKeySet } | { source: 'file'; file: string } | { source: 'url'; url: string };

/** Development key pairs live in a folder holding these two files. */
export const PRIVATE_JWK_FILE = 'private.jwk.json';
export const JWKS_FILE = 'jwks.json';
/** The gateway's development key pair; subgraphs trust its `jwks.json` by default. */
export const GATEWAY_KEYS_DIR = join(dataRoot, 'gateway-keys');

// Parameters that make a JWK private; everything else is safe to publish.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

/** A fresh Ed25519 key pair as a private JWK with `alg` and a thumbprint `kid`. */
export async function generatePrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: 'EdDSA', use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

export function publicJwks(privateJwk: JWK): JSONWebKeySet {
  const publicJwk = Object.fromEntries(Object.entries(privateJwk).filter(([member]) => !PRIVATE_MEMBERS.includes(member))) as JWK;
  return { keys: [publicJwk] };
}

export async function importSigningKey(privateJwk: JWK): Promise<SigningKey> {
  if (typeof privateJwk.d !== 'string') throw new Error('A signing key must be a private JWK (it has no "d").');
  const alg = privateJwk.alg ?? (privateJwk.kty === 'OKP' ? 'EdDSA' : privateJwk.kty === 'EC' && privateJwk.crv === 'P-256' ? 'ES256' : undefined);
  if (!alg) throw new Error('A signing key needs an "alg" (EdDSA or ES256).');
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(privateJwk));
  const key = (await importJWK({ ...privateJwk, alg }, alg)) as CryptoKey;
  return { key, kid, alg, jwks: publicJwks({ ...privateJwk, alg, kid }) };
}

export function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new Error(`Cannot read ${what} from ${file}: ${(error as Error).message}`);
  }
}

/**
 * The development key pair in `dir`, generated on first use. Creation is atomic (write aside,
 * then hard-link into place, which fails if another process got there first), so a gateway
 * and `npm run token` starting together agree on one key.
 */
export async function ensureKeyPair(dir: string): Promise<JWK> {
  const privateFile = join(dir, PRIVATE_JWK_FILE);
  if (!existsSync(privateFile)) {
    // Only the key's own directory is private: a recursive mkdir with a mode would also close the
    // parents it creates (`.data/`), which the embedded PostgreSQL server's user must enter.
    mkdirSync(dirname(dir), { recursive: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const aside = `${privateFile}.${process.pid}.tmp`;
    writeFileSync(aside, JSON.stringify(await generatePrivateJwk(), null, 2), { mode: 0o600 });
    try {
      linkSync(aside, privateFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(aside);
    }
  }
  const privateJwk = readJson<JWK>(privateFile, 'a private key');
  const jwksFile = join(dir, JWKS_FILE);
  if (!existsSync(jwksFile)) {
    // Published by rename so that a subgraph never reads a half-written file.
    const aside = `${jwksFile}.${process.pid}.tmp`;
    writeFileSync(aside, JSON.stringify(publicJwks(privateJwk), null, 2));
    renameSync(aside, jwksFile);
  }
  return privateJwk;
}

// A file source is re-read at most this often when a token names a key it does not hold.
const FILE_RELOAD_INTERVAL_MS = 1000;

/** The key lookup jose verifies with, for a key source. */
export function keyResolver(source: KeySource): JWTVerifyGetKey {
  if (source.source === 'jwks') return createLocalJWKSet(source.jwks);
  if (source.source === 'url') return createRemoteJWKSet(new URL(source.url));
  // Read lazily and again when a key is not found: in development the subgraphs start before
  // the gateway has generated its key pair, and a regenerated pair must not need restarts.
  let local: JWTVerifyGetKey | undefined;
  let loadedAt = 0;
  const load = () => {
    loadedAt = Date.now();
    try {
      const raw = readJson<JSONWebKeySet | JWK>(source.file, 'public keys');
      local = createLocalJWKSet('keys' in raw ? raw : { keys: [raw] });
    } catch {
      local = undefined;
    }
  };
  const lookup: JWTVerifyGetKey = async (header, token) => {
    if (!local) throw new errors.JWKSNoMatchingKey();
    return local(header, token);
  };
  const mayReload = () => Date.now() - loadedAt >= FILE_RELOAD_INTERVAL_MS;
  return async (header, token) => {
    if (!local && mayReload()) load();
    try {
      return await lookup(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || !mayReload()) throw error;
      load();
      return lookup(header, token);
    }
  };
}
