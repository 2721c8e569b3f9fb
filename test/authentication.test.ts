import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEV_AUDIENCE, DEV_ISSUER, GATEWAY_JWKS_PATH, loadGatewayConfig, startGateway } from '@ketengraph/gateway';
import { GATEWAY_TOKEN_AUDIENCE, GATEWAY_TOKEN_ISSUER, type Principal } from '@ketengraph/service-kit';
import { createTestKeyPair, mintTestToken } from '@ketengraph/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../schema/compose.js';
import { startFederation, TEST_AUDIENCE, TEST_ISSUER, TEST_PRINCIPAL, type Federation } from './support/federation.js';
import { repositoryRoot } from '../scripts/processes.js';

const QUERY = JSON.stringify({ query: '{ patients(first: 1) { totalCount edges { node { id } } } }' });
// Distinctive claim values, to prove the refusal echoes none of them.
const PROBE: Principal = {
  subject: 'echo-probe-subject-4711',
  organisationId: 'echo-probe-org-4711',
  role: 'plaatser',
  scopes: ['echo-probe-scope'],
  purpose: 'plaatsing',
};

describe('authentication', () => {
  let federation: Federation;
  let scratch: string;
  beforeAll(async () => {
    federation = await startFederation({ seedPatients: 5 });
    scratch = mkdtempSync(join(tmpdir(), 'ketengraph-auth-'));
  });
  afterAll(async () => {
    await federation?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const post = (url: string, authorization?: string, body = QUERY) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body });

  /** A refusal: 401, a Bearer challenge, the one generic error, no data, nothing of the token. */
  async function expectUnauthenticated(response: Response): Promise<void> {
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    const text = await response.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'UNAUTHENTICATED' } }] });
    for (const claim of [PROBE.subject, PROBE.organisationId, 'echo-probe-scope', TEST_ISSUER, 'plaatser']) expect(text).not.toContain(claim);
  }

  describe('callers at the gateway', () => {
    const issuerToken = (options: { issuer?: string; audience?: string; expiresInSeconds?: number } = {}, who: Principal = PROBE) =>
      mintTestToken(federation.keys.issuer, who, {
        issuer: options.issuer ?? TEST_ISSUER,
        audience: options.audience ?? TEST_AUDIENCE,
        expiresInSeconds: options.expiresInSeconds ?? 300,
      });

    it('serves a request with a valid token', async () => {
      const response = await post(federation.gateway.url, `Bearer ${await issuerToken()}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data: { patients: { totalCount: number } }; errors?: unknown };
      expect(body.errors).toBeUndefined();
      expect(body.data.patients.totalCount).toBe(5);
    });

    it('refuses a request without a token', async () => {
      const response = await post(federation.gateway.url);
      await expectUnauthenticated(response);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="ketengraph"');
    });

    it.each([
      ['expired beyond the clock skew', () => issuerToken({ expiresInSeconds: -60 })],
      [
        'forged (signed by another key under the same key id)',
        async () => {
          const forger = await createTestKeyPair();
          const impostor = { ...forger, signingKey: { ...forger.signingKey, kid: federation.keys.issuer.signingKey.kid } };
          return mintTestToken(impostor, PROBE, { issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
        },
      ],
      ['for another audience', () => issuerToken({ audience: 'another-api' })],
      ['from another issuer', () => issuerToken({ issuer: 'https://idp.elsewhere.example' })],
      ['naming a role the policy does not know', () => issuerToken({}, { ...PROBE, role: 'superuser' })],
      ['naming a purpose the policy does not know', () => issuerToken({}, { ...PROBE, purpose: 'curiosity' })],
      ['a gateway token (not meant for callers)', () => federation.gatewayToken(PROBE)],
      ['not a JWT', async () => 'not-a-token'],
    ])('refuses a token %s with 401 and echoes nothing of it', async (_, token) => {
      const response = await post(federation.gateway.url, `Bearer ${await token()}`);
      await expectUnauthenticated(response);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    });

    it('tolerates a clock skew within the configured 30 s', async () => {
      const response = await post(federation.gateway.url, `Bearer ${await issuerToken({ expiresInSeconds: -10 })}`);
      expect(response.status).toBe(200);
    });

    it('keeps /health, /ready and /metrics open, and serves its public key for the subgraphs', async () => {
      const base = new URL(federation.gateway.url).origin;
      for (const path of ['/health', '/ready', '/metrics']) expect((await fetch(base + path)).status, path).toBe(200);
      const jwks = (await (await fetch(base + GATEWAY_JWKS_PATH)).json()) as { keys: Record<string, unknown>[] };
      expect(jwks).toEqual(federation.keys.gateway.jwks);
      expect(jwks.keys.every((key) => !('d' in key))).toBe(true);
    });
  });

  describe('direct calls to a subgraph', () => {
    const subgraph = () => federation.subgraphs.indicatiestelling.url;

    it('serves a request with the gateway token', async () => {
      const response = await post(subgraph(), `Bearer ${await federation.gatewayToken(TEST_PRINCIPAL)}`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: { patients: { totalCount: number } } }).data.patients.totalCount).toBe(5);
    });

    it.each([
      ['without a token', async () => undefined],
      ['with a caller token instead of the gateway token', () => federation.callerToken(PROBE)],
      ['with an expired gateway token', () => federation.gatewayToken(PROBE, { expiresInSeconds: -30 })],
      [
        'with a gateway-audience token signed by another key',
        async () => mintTestToken(await createTestKeyPair(), PROBE, { issuer: GATEWAY_TOKEN_ISSUER, audience: GATEWAY_TOKEN_AUDIENCE }),
      ],
    ])('refuses a request %s with 401', async (_, token) => {
      const value = await token();
      await expectUnauthenticated(await post(subgraph(), value && `Bearer ${value}`));
    });

    it('keeps /health open', async () => {
      expect((await fetch(new URL('/health', subgraph()))).status).toBe(200);
    });
  });

  describe('development issuer', () => {
    it('refuses to start under NODE_ENV=production, before generating keys', async () => {
      const dir = join(scratch, 'refused-dev-issuer');
      const config = loadGatewayConfig({ NODE_ENV: 'production' });
      expect(config.callerTokens.keys.source).toBe('dev-issuer');
      const start = startGateway({
        ...config,
        audit: { databaseUrl: undefined, dataDir: 'memory://' },
        port: 0,
        supergraphSdl: supergraph(),
        callerTokens: { ...config.callerTokens, keys: { source: 'dev-issuer', dir } },
      });
      await expect(start).rejects.toThrow(/NODE_ENV=production/);
      expect(existsSync(dir)).toBe(false);
    });

    it('refuses generated gateway keys under NODE_ENV=production', async () => {
      const config = loadGatewayConfig({ NODE_ENV: 'production', AUTH_ISSUER: TEST_ISSUER, AUTH_JWKS_URL: 'https://idp.test.ketengraph.example/jwks' });
      await expect(startGateway({ ...config, audit: { databaseUrl: undefined, dataDir: 'memory://' }, port: 0, supergraphSdl: supergraph() })).rejects.toThrow(
        /GATEWAY_SIGNING_KEY_FILE/,
      );
    });

    it('trusts the tokens `npm run token` prints', async () => {
      const dir = join(scratch, 'dev-issuer');
      const tsx = join(repositoryRoot, 'node_modules/.bin/tsx');
      const run = (...args: string[]) =>
        promisify(execFile)(tsx, ['scripts/token.ts', '--dir', dir, ...args], { cwd: repositoryRoot, env: { ...process.env, NODE_ENV: 'development' } });
      const { stdout } = await run('--role', 'indicatiesteller', '--org', 'nifp', '--purpose', 'indicatiestelling', '--ttl', '5m');
      const token = stdout.trim();
      expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      await expect(run('--role', 'superuser', '--org', 'nifp')).rejects.toThrow(/Unknown role/);

      const config = loadGatewayConfig({});
      expect(config.callerTokens).toMatchObject({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, clockSkewSeconds: 30 });
      const gateway = await startGateway({
        ...config,
        audit: { databaseUrl: undefined, dataDir: 'memory://' },
        port: 0,
        supergraphSdl: supergraph(),
        callerTokens: { ...config.callerTokens, keys: { source: 'dev-issuer', dir } },
        signingKey: { source: 'key', key: federation.keys.gateway.signingKey },
      });
      try {
        const response = await post(gateway.url, `Bearer ${token}`);
        expect(response.status).toBe(200);
        expect(((await response.json()) as { data: { patients: { totalCount: number } } }).data.patients.totalCount).toBe(5);
        await expectUnauthenticated(await post(gateway.url, `Bearer ${await federation.callerToken(PROBE)}`));
      } finally {
        await gateway.close();
      }
    });
  });

  function supergraph(): string {
    return composeSupergraph(Object.fromEntries(Object.entries(federation.subgraphs).map(([name, sg]) => [name, sg.url])));
  }
});
