/**
 * The explorer's HTTP side against the real federation: the page and its bundle (content types,
 * caching), the browser redirect from /graphql, the development token route for the sample users,
 * the sample users' organisations as the seed makes them, and production (off unless configured,
 * never minting).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '@ketengraph/gateway';
import { loadAccessPolicy, loadSubgraphConfig } from '@ketengraph/service-kit';
import { DEFAULT_SEED, generatePatients, generateProviders, type SeedPatient } from '../packages/seed-data/src/index.js';
import {
  CONFIG_ELEMENT_ID,
  EXAMPLE_PATIENT_ID,
  type ExplorerPageConfig,
  PROVIDER_PATIENT_ID,
  PROVIDER_WITH_PATIENTS_ID,
  PROVIDER_WITHOUT_PATIENTS_ID,
  SAMPLE_USERS,
  sampleUserPrincipal,
} from '@ketengraph/explorer';
import { startFederation, TEST_ISSUER, type Federation, type GraphQLResponse } from './support/federation.js';

const OPEN = ['REQUESTED', 'INTAKE', 'ACCEPTED', 'DECIDED', 'ADMITTED'];
const ENDED = ['ENDED', 'TRANSFERRED'];

function pageConfig(html: string): ExplorerPageConfig {
  const match = new RegExp(`<script id="${CONFIG_ELEMENT_ID}" type="application/json">(.*?)</script>`, 's').exec(html);
  return JSON.parse(match![1]!) as ExplorerPageConfig;
}

describe('explorer sample users in the deterministic seed (default seed and size, as `npm start` seeds)', () => {
  const config = loadSubgraphConfig('seed-check', 0, {});
  const seed = config.seed ?? DEFAULT_SEED;
  const seedPatients = config.seedPatients;
  const providers = generateProviders(seed);
  const patients: SeedPatient[] = [...generatePatients(seed, seedPatients, providers)];
  const placementsOf = (providerId: string) =>
    patients.flatMap((patient) =>
      patient.trajectories.flatMap((trajectory) =>
        trajectory.placements.filter((placement) => placement.providerId === providerId).map((placement) => ({ patient, placement })),
      ),
    );

  it('the example patient is seed patient 0 and the provider’s patient seed patient 1 (present at every seed size)', () => {
    expect(patients[0]!.id).toBe(EXAMPLE_PATIENT_ID);
    expect(patients[1]!.id).toBe(PROVIDER_PATIENT_ID);
  });

  it('the provider with patients has patient 1 admitted (an open placement) and never had the example patient', () => {
    expect(providers.some((provider) => provider.id === PROVIDER_WITH_PATIENTS_ID)).toBe(true);
    const placements = placementsOf(PROVIDER_WITH_PATIENTS_ID);
    expect(placements.some(({ patient, placement }) => patient.index === 1 && placement.status === 'ADMITTED')).toBe(true);
    expect(placements.some(({ patient }) => patient.index === 0)).toBe(false);
  });

  it('the provider without patients has no open placement and none ended within the handover period', () => {
    expect(providers.some((provider) => provider.id === PROVIDER_WITHOUT_PATIENTS_ID)).toBe(true);
    const handoverStart = Date.now() - loadAccessPolicy().handoverPeriodDays * 86_400_000;
    const current = placementsOf(PROVIDER_WITHOUT_PATIENTS_ID).filter(
      ({ placement }) => OPEN.includes(placement.status) || (ENDED.includes(placement.status) && placement.steps.at(-1)!.at.getTime() >= handoverStart),
    );
    expect(current).toEqual([]);
  });

  it('every sample user has a role of the access policy, and the roles the issue names are all there', () => {
    const policy = loadAccessPolicy();
    for (const user of SAMPLE_USERS) expect(Object.keys(policy.roles)).toContain(user.role);
    expect(SAMPLE_USERS.map((user) => user.role)).toEqual([
      'plaatser',
      'indicatiesteller',
      'zorgaanbieder',
      'zorgaanbieder',
      'reclassering',
      'inspectie',
      'privacy_officer',
    ]);
  });
});

describe('explorer routes', () => {
  let federation: Federation;
  let origin: string;
  beforeAll(async () => {
    federation = await startFederation();
    origin = new URL(federation.gateway.url).origin;
  });
  afterAll(() => federation?.close());

  async function devToken(user: string): Promise<string> {
    const response = await fetch(`${origin}/explorer/dev-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    return ((await response.json()) as { token: string }).token;
  }

  async function query<T>(token: string, source: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
    const response = await fetch(federation.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: source, variables }),
    });
    return (await response.json()) as GraphQLResponse<T>;
  }

  it('serves the page with its bundle, examples and sample users; nothing is loaded from elsewhere', async () => {
    const response = await fetch(`${origin}/explorer`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await response.text();
    // Every script and stylesheet is the gateway's own.
    for (const [, url] of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(url).toMatch(/^\/explorer\/assets\//);
    const config = pageConfig(html);
    expect(config.endpoint).toBe('/graphql');
    expect(config.devTokenPath).toBe('/explorer/dev-token');
    expect(config.sampleUsers.map((user) => user.id)).toEqual(SAMPLE_USERS.map((user) => user.id));
    expect(config.examples.map((example) => example.name)).toContain('PatientTrajectory');
    expect(JSON.parse(config.examples.find((example) => example.name === 'PatientTrajectory')!.variables)).toEqual({ id: EXAMPLE_PATIENT_ID });

    const script = /<script src="([^"]+)"/.exec(html)![1]!;
    const asset = await fetch(`${origin}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    expect((await asset.text()).length).toBeGreaterThan(100_000);
    for (const worker of Object.values(config.workers)) {
      const served = await fetch(`${origin}${worker}`);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    }
    const stylesheet = /<link rel="stylesheet" href="([^"]+)"/.exec(html)![1]!;
    expect((await fetch(`${origin}${stylesheet}`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('refuses files outside the bundle', async () => {
    for (const path of [
      '/explorer/assets/manifest.json',
      '/explorer/assets/..%2f..%2fpackage.json',
      '/explorer/assets/nothing-here.js',
      '/explorer/assets/%2e%2e/bundle.ts',
    ]) {
      expect((await fetch(`${origin}${path}`)).status, path).toBe(404);
    }
  });

  it('redirects a browser asking /graphql for HTML to the explorer; GraphQL clients are unaffected', async () => {
    const browser = await fetch(federation.gateway.url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }, redirect: 'manual' });
    expect(browser.status).toBe(302);
    expect(browser.headers.get('location')).toBe('/explorer');
    const client = await fetch(`${federation.gateway.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/graphql-response+json, application/json' },
      redirect: 'manual',
    });
    expect(client.status).toBe(401);
  });

  it('mints tokens the gateway trusts for each sample user, with the role’s scopes and first purpose', async () => {
    for (const user of SAMPLE_USERS) {
      const token = await devToken(user.id);
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      const principal = sampleUserPrincipal(user);
      expect(claims).toMatchObject({ role: user.role, org: user.organisationId, sub: principal.subject });
      expect(claims.purpose ?? null).toBe(principal.purpose);
      const result = await query<{ __typename: string }>(token, '{ __typename }');
      expect(result, user.id).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('refuses unknown sample users and other methods', async () => {
    const unknown = await fetch(`${origin}/explorer/dev-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'admin' }),
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toContain('zorgaanbieder-met-patienten');
    expect((await fetch(`${origin}/explorer/dev-token`, { method: 'POST', body: 'not json' })).status).toBe(400);
    expect((await fetch(`${origin}/explorer/dev-token`)).status).toBe(405);
  });

  it('the provider with patients sees its own patient and not the example patient; the one without sees no patients', async () => {
    const withPatients = await devToken('zorgaanbieder-met-patienten');
    const own = await query<{ patient: { name: { full: string } | null } }>(withPatients, 'query($id: ID!) { patient(id: $id) { name { full } } }', {
      id: PROVIDER_PATIENT_ID,
    });
    expect(own.errors).toBeUndefined();
    expect(own.data!.patient.name!.full).toEqual(expect.any(String));
    const other = await query<{ patient: { name: unknown } }>(withPatients, 'query($id: ID!) { patient(id: $id) { name { full } } }', {
      id: EXAMPLE_PATIENT_ID,
    });
    expect(other.data!.patient.name).toBeNull();
    expect(other.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    const listed = await query<{ patients: { edges: { node: { id: string } }[] } }>(withPatients, '{ patients(first: 100) { edges { node { id } } } }');
    expect(listed.data!.patients.edges.map((edge) => edge.node.id)).toContain(PROVIDER_PATIENT_ID);

    const withoutPatients = await devToken('zorgaanbieder-zonder-patienten');
    const none = await query<{ patients: { edges: unknown[] } }>(withoutPatients, '{ patients(first: 100) { edges { node { id } } } }');
    expect(none.errors).toBeUndefined();
    expect(none.data!.patients.edges).toEqual([]);
  });

  it('is off in production unless EXPLORER_ENABLED, and then never mints tokens', async () => {
    const explorer = (env: NodeJS.ProcessEnv) => loadGatewayConfig(env).explorer.enabled;
    expect(explorer({ NODE_ENV: 'production' })).toBe(false);
    expect(explorer({ NODE_ENV: 'production', EXPLORER_ENABLED: 'true' })).toBe(true);
    // The same words as every other flag (INTROSPECTION=1 and EXPLORER_ENABLED=1 alike).
    expect(explorer({ NODE_ENV: 'production', EXPLORER_ENABLED: '1' })).toBe(true);
    expect(explorer({})).toBe(true);
    expect(explorer({ EXPLORER_ENABLED: 'false' })).toBe(false);
    expect(() => explorer({ EXPLORER_ENABLED: 'yes' })).toThrow(/EXPLORER_ENABLED must be true or false/);

    // A production gateway with an external identity provider (the test one, by its public key only).
    const external = { ...loadGatewayConfig({}).callerTokens, issuer: TEST_ISSUER, keys: { source: 'jwks' as const, jwks: federation.keys.issuer.jwks } };
    const off = await federation.startGateway({ production: true, callerTokens: external, explorer: { enabled: false } });
    try {
      const offOrigin = new URL(off.url).origin;
      expect((await fetch(`${offOrigin}/explorer`)).status).toBe(404);
      expect((await fetch(`${off.url}`, { headers: { accept: 'text/html' }, redirect: 'manual' })).status).toBe(401);
    } finally {
      await off.close();
    }
    const on = await federation.startGateway({ production: true, callerTokens: external, explorer: { enabled: true } });
    try {
      const onOrigin = new URL(on.url).origin;
      const page = await fetch(`${onOrigin}/explorer`);
      expect(page.status).toBe(200);
      const config = pageConfig(await page.text());
      expect(config.devTokenPath).toBeNull();
      expect(config.sampleUsers).toEqual([]);
      const mint = await fetch(`${onOrigin}/explorer/dev-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'plaatser' }),
      });
      expect(mint.status).toBe(404);
    } finally {
      await on.close();
    }
  });
});
