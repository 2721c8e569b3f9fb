/**
 * Which providers have an EPD ketengraph reads, and how it authenticates there: configured by the
 * operator (EPD_SOURCES_FILE) or registered by the provider itself (connectEpd). Private keys and
 * client certificates stay in here: the GraphQL view (EpdConnectionView) holds public parts only.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { badInput } from '@ketengraph/service-kit';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { PrismaClient } from '../generated/prisma/client.js';
import { DEFAULT_SCOPE, type EpdAuth, type EpdSource } from './fhir-client.js';

export interface EpdConnectionView {
  providerId: string;
  fhirBaseUrl: string;
  authentication: 'SMART_BACKEND_SERVICES' | 'MUTUAL_TLS';
  tokenUrl: string | null;
  clientId: string | null;
  jwks: string | null;
  origin: 'CONFIGURATION' | 'REGISTRATION';
  registeredAt: Date;
}

export function connectionView(source: EpdSource): EpdConnectionView {
  const smart = source.auth.kind === 'SMART_BACKEND_SERVICES' ? source.auth : null;
  return {
    providerId: source.providerId,
    fhirBaseUrl: source.fhirBaseUrl,
    authentication: source.auth.kind,
    tokenUrl: smart?.tokenUrl ?? null,
    clientId: smart?.clientId ?? null,
    jwks: smart ? JSON.stringify({ keys: [publicJwk(smart.signingKey)] }) : null,
    origin: source.origin,
    registeredAt: source.registeredAt,
  };
}

/** The public half of an EC or RSA private JWK. */
export function publicJwk(key: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...rest } = key;
  return { ...rest, use: 'sig' };
}

/** A new ES384 key pair (SMART Backend Services' recommended algorithm) as a private JWK with kid and alg. */
export async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES384', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: 'ES384', kid: await calculateJwkThumbprint(jwk) };
}

// ---------------------------------------------------------------------------------------------
// Configuration file.

interface ConfiguredSource {
  providerId: string;
  fhirBaseUrl: string;
  smart?: { tokenUrl: string; clientId: string; privateKeyFile: string; scope?: string };
  mutualTls?: { certFile: string; keyFile: string; caFile?: string };
}

/**
 * Reads EPD_SOURCES_FILE: `{ "sources": [{ "providerId", "fhirBaseUrl", "smart": { "tokenUrl",
 * "clientId", "privateKeyFile", "scope"? } | "mutualTls": { "certFile", "keyFile", "caFile"? } }] }`;
 * relative file names are relative to the file. A broken file stops the process at start.
 */
export function loadConfiguredSources(file: string | undefined, now = new Date()): EpdSource[] {
  if (!file) return [];
  const path = resolve(file);
  const read = (name: string) => readFileSync(resolve(path, '..', name), 'utf8');
  let parsed: { sources?: ConfiguredSource[] };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as { sources?: ConfiguredSource[] };
  } catch (error) {
    throw new Error(`EPD_SOURCES_FILE ${path} could not be read as JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed.sources)) throw new Error(`EPD_SOURCES_FILE ${path}: expected { "sources": [...] }.`);
  return parsed.sources.map((entry, index) => {
    const where = `EPD_SOURCES_FILE sources[${index}]`;
    if (typeof entry.providerId !== 'string' || !entry.providerId) throw new Error(`${where}: providerId is required.`);
    const fhirBaseUrl = normaliseBaseUrl(entry.fhirBaseUrl, where);
    let auth: EpdAuth;
    if (entry.smart && !entry.mutualTls) {
      const key = JSON.parse(read(entry.smart.privateKeyFile)) as JWK;
      if (!key.d || !key.alg) throw new Error(`${where}: privateKeyFile must hold a private JWK with "alg".`);
      auth = {
        kind: 'SMART_BACKEND_SERVICES',
        tokenUrl: new URL(entry.smart.tokenUrl).href,
        clientId: entry.smart.clientId,
        scope: entry.smart.scope ?? DEFAULT_SCOPE,
        signingKey: key,
      };
    } else if (entry.mutualTls && !entry.smart) {
      auth = {
        kind: 'MUTUAL_TLS',
        cert: read(entry.mutualTls.certFile),
        key: read(entry.mutualTls.keyFile),
        ...(entry.mutualTls.caFile ? { ca: read(entry.mutualTls.caFile) } : {}),
      };
    } else {
      throw new Error(`${where}: give exactly one of "smart" and "mutualTls".`);
    }
    return { providerId: entry.providerId, fhirBaseUrl, auth, origin: 'CONFIGURATION' as const, registeredAt: now };
  });
}

function normaliseBaseUrl(value: unknown, where: string): string {
  try {
    const url = new URL(String(value));
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
    return url.href.replace(/\/+$/, '');
  } catch {
    throw new Error(`${where}: fhirBaseUrl must be an http(s) URL.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Registrations (connectEpd): validated, since a provider's URL is where ketengraph will send requests.

export interface RegistrationRules {
  allowHttp: boolean;
  allowPrivateAddresses: boolean;
}

const MAX_URL_LENGTH = 500;

function isPrivateLiteral(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const version = isIP(host);
  if (version === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (version === 6)
    return host === '::1' || host === '::' || host.startsWith('fc') || host.startsWith('fd') || host.startsWith('fe80') || host.startsWith('::ffff:');
  return false;
}

/** An https (or, where allowed, http) URL on a public address; the field names it when refused. */
export function validateEndpointUrl(value: string, field: string, rules: RegistrationRules): string {
  const trimmed = value.trim();
  if (!trimmed || trimmed.length > MAX_URL_LENGTH) throw badInput(`${field} must be a URL of at most ${MAX_URL_LENGTH} characters.`, field);
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw badInput(`${field} must be an absolute URL.`, field);
  }
  if (url.protocol !== 'https:' && !(rules.allowHttp && url.protocol === 'http:')) throw badInput(`${field} must use https.`, field);
  if (url.username || url.password) throw badInput(`${field} must not carry credentials.`, field);
  if (url.search || url.hash) throw badInput(`${field} must not have a query or fragment.`, field);
  if (!rules.allowPrivateAddresses && isPrivateLiteral(url.hostname)) throw badInput(`${field} must be on a public address.`, field);
  return url.href.replace(/\/+$/, '');
}

export async function registeredSources(prisma: PrismaClient, providerIds?: readonly string[]): Promise<EpdSource[]> {
  const rows = await prisma.epdSource.findMany({ where: providerIds ? { providerId: { in: [...providerIds] } } : {} });
  return rows.map((row) => ({
    providerId: row.providerId,
    fhirBaseUrl: row.fhirBaseUrl,
    auth: { kind: 'SMART_BACKEND_SERVICES', tokenUrl: row.tokenUrl, clientId: row.clientId, scope: DEFAULT_SCOPE, signingKey: row.signingKey as JWK },
    origin: 'REGISTRATION',
    registeredAt: row.registeredAt,
  }));
}
