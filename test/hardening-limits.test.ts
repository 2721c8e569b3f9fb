/**
 * Hostile and oversized input, production defaults, trusted documents and rate limiting, through
 * the real gateway: each limit refuses with its own code and is counted; introspection,
 * suggestions and free-form documents are closed in production and open in development; the
 * generated allow-list serves registered operations by id; an organisation over its rate gets 429.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadGatewayConfig, type RunningGateway } from '@ketengraph/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, TEST_PRINCIPAL, type Federation } from './support/federation.js';
import { metricValue, post } from './support/gateway-client.js';
import { operation } from './support/operations.js';

const MANIFEST = JSON.parse(readFileSync(new URL('../gateway/src/admission/trusted-documents/generated/manifest.json', import.meta.url), 'utf8')) as {
  operations: { id: string; name: string; type: string; body: string }[];
};
const registered = (name: string) => MANIFEST.operations.find((o) => o.name === name)!;

let federation: Federation;
let gateway: RunningGateway;
let production: RunningGateway;
let patientId: string;

beforeAll(async () => {
  federation = await startFederation({ seedPatients: 10 });
  const defaults = loadGatewayConfig({});
  gateway = await federation.startGateway({ limits: { depth: 6, aliases: 3, tokens: 300, directives: 3, cost: 60, listSize: 50, batchSize: 3 } });
  production = await federation.startGateway({ exposure: loadGatewayConfig({ NODE_ENV: 'production' }).exposure, limits: defaults.limits });
  const patients = await federation.request<{ patients: { edges: { node: { id: string } }[] } }>('{ patients(first: 1) { edges { node { id } } } }');
  patientId = patients.data!.patients.edges[0]!.node.id;
});

afterAll(async () => {
  await production?.close();
  await gateway?.close();
  await federation?.close();
});

describe('limits on the client document', () => {
  const cases: [string, string, string, Record<string, unknown>?][] = [
    [
      'QUERY_TOO_DEEP',
      'depth',
      '{ patients(first: 1) { edges { node { trajectories(first: 1) { edges { node { placements(first: 1) { edges { node { id } } } } } } } } } }',
    ],
    ['TOO_MANY_ALIASES', 'aliases', '{ a: qualityPillars { number } b: qualityPillars { number } c: qualityPillars { number } d: qualityPillars { number } }'],
    ['TOO_MANY_DIRECTIVES', 'directives', '{ qualityPillars @skip(if: false) @include(if: true) @skip(if: false) @include(if: true) { number } }'],
    ['TOO_MANY_TOKENS', 'tokens', `{ qualityPillars { ${'number '.repeat(300)} } }`],
    [
      'QUERY_TOO_COSTLY',
      'cost',
      '{ providers(first: 1) { edges { node { id name type region capacity { careType securityLevel totalPlaces freePlaces } latestQualityReport { year pillarScores { maturity } } } } } }',
    ],
    ['LIST_TOO_LARGE', 'list size', 'query ($n: Int) { providers(first: $n) { edges { node { id } } } }', { n: 51 }],
  ];
  for (const [code, limit, query, variables] of cases) {
    it(`${limit}: ${code}, HTTP 400, counted`, async () => {
      const before = await metricValue(gateway.url, 'ketengraph_limit_rejections_total', { limit: code });
      const { status, body } = await post(federation, gateway.url, { query, variables });
      expect(
        body.errors?.map((e) => e.extensions?.code),
        JSON.stringify(body),
      ).toContain(code);
      expect(status).toBe(400);
      expect(body.data).toBeUndefined();
      expect(await metricValue(gateway.url, 'ketengraph_limit_rejections_total', { limit: code })).toBe(before + 1);
    });
  }

  it('judges a list size given through a variable, and passes what is within every limit', async () => {
    const over = await post(federation, gateway.url, { query: 'query ($n: Int) { providers(first: $n) { edges { node { id } } } }', variables: { n: 500 } });
    expect(over.body.errors?.[0]?.extensions?.code).toBe('LIST_TOO_LARGE');
    const within = await post<any>(federation, gateway.url, {
      query: 'query ($n: Int) { providers(first: $n) { edges { node { id } } } }',
      variables: { n: 5 },
    });
    expect(within.body.errors).toBeUndefined();
    expect(within.body.data.providers.edges).toHaveLength(5);
  });

  it('limits the client document, not the one authorization rewrites: a withheld field still counts', async () => {
    // An inspectie caller may not see bsn; the rewritten document is smaller, the sent one is judged.
    const query = `{ a: patient(id: "${patientId}") { bsn } b: patient(id: "${patientId}") { bsn } c: patient(id: "${patientId}") { bsn } d: patient(id: "${patientId}") { bsn } }`;
    const { body } = await post(federation, gateway.url, { query }, { principal: { ...TEST_PRINCIPAL, role: 'beleid', purpose: null } });
    expect(body.errors?.[0]?.extensions?.code).toBe('TOO_MANY_ALIASES');
  });

  it('batches: up to the batch size answered as an array, more refused with BATCH_TOO_LARGE', async () => {
    const one = { query: '{ qualityPillars { number } }' };
    const ok = await post(federation, gateway.url, [one, one, one]);
    expect(ok.status).toBe(200);
    expect(ok.body).toHaveLength(3);
    const tooMany = await post(federation, gateway.url, [one, one, one, one]);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors?.[0]?.extensions?.code).toBe('BATCH_TOO_LARGE');
  });

  it('request body over MAX_BODY_BYTES: 413 PAYLOAD_TOO_LARGE', async () => {
    const { status, body } = await post(federation, gateway.url, { query: '{ qualityPillars { number } }', variables: { pad: 'x'.repeat(1_100_000) } });
    expect(status).toBe(413);
    expect(body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('every registered operation passes the default limits', async () => {
    for (const entry of MANIFEST.operations.filter((o) => o.type !== 'subscription')) {
      const { body } = await post(federation, production.url, {
        extensions: { persistedQuery: { version: 1, sha256Hash: entry.id } },
        variables: { id: patientId },
      });
      const codes = (body.errors ?? []).map((e) => e.extensions?.code);
      for (const code of ['QUERY_TOO_DEEP', 'TOO_MANY_ALIASES', 'TOO_MANY_TOKENS', 'TOO_MANY_DIRECTIVES', 'QUERY_TOO_COSTLY', 'LIST_TOO_LARGE'])
        expect(codes, entry.name).not.toContain(code);
    }
  });
});

describe('production defaults (NODE_ENV=production)', () => {
  it('each is closed in production, open in development, and each can be set on its own', () => {
    expect(loadGatewayConfig({ NODE_ENV: 'production' }).exposure).toEqual({
      introspection: false,
      fieldSuggestions: false,
      trustedDocuments: true,
      automaticPersistedQueries: false,
    });
    expect(loadGatewayConfig({}).exposure).toEqual({ introspection: true, fieldSuggestions: true, trustedDocuments: false, automaticPersistedQueries: false });
    expect(loadGatewayConfig({ NODE_ENV: 'production', INTROSPECTION: 'true', TRUSTED_DOCUMENTS: 'false' }).exposure).toMatchObject({
      introspection: true,
      trustedDocuments: false,
    });
    expect(() => loadGatewayConfig({ INTROSPECTION: 'maybe' })).toThrow(/INTROSPECTION must be true or false/);
  });

  it('refuses free-form documents with PERSISTED_QUERY_NOT_IN_LIST before parsing them', async () => {
    const before = await metricValue(production.url, 'ketengraph_trusted_document_rejections_total', { code: 'PERSISTED_QUERY_NOT_IN_LIST' });
    const { status, body } = await post(federation, production.url, { query: '{ qualityPillars { number } }' });
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(await metricValue(production.url, 'ketengraph_trusted_document_rejections_total', { code: 'PERSISTED_QUERY_NOT_IN_LIST' })).toBe(before + 1);
  });

  it('serves a registered operation by Apollo persisted-query hash, by documentId, by GET and as its exact text', async () => {
    const entry = registered('PatientTrajectory');
    expect(entry.id).toBe(createHash('sha256').update(entry.body).digest('hex'));
    const byHash = await post<any>(federation, production.url, {
      extensions: { persistedQuery: { version: 1, sha256Hash: entry.id } },
      variables: { id: patientId },
    });
    expect(byHash.body.errors).toBeUndefined();
    expect(byHash.body.data.patient.id).toBe(patientId);
    const byDocumentId = await post<any>(federation, production.url, { documentId: `sha256:${entry.id}`, variables: { id: patientId } });
    expect(byDocumentId.body.data.patient.id).toBe(patientId);
    const byText = await post<any>(federation, production.url, { query: entry.body, variables: { id: patientId } });
    expect(byText.body.data.patient.id).toBe(patientId);
    const capacity = registered('FreeCapacity');
    const search = new URLSearchParams({ extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: capacity.id } }), variables: '{}' });
    const get = await fetch(`${production.url}?${search}`, {
      headers: { authorization: `Bearer ${await federation.callerToken()}`, 'apollo-require-preflight': 'true' },
    });
    expect(get.status).toBe(200);
    expect(((await get.json()) as any).data.freeCapacity).toBeDefined();
  });

  it('answers an unknown id with PERSISTED_QUERY_NOT_FOUND and does not let clients register documents (no automatic persisted queries)', async () => {
    const unknown = await post(federation, production.url, { extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const query = '{ qualityPillars { number } }';
    const hash = createHash('sha256').update(query).digest('hex');
    const register = await post(federation, production.url, { query, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    expect(register.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const again = await post(federation, production.url, { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    expect(again.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('hides the schema: no introspection, no field suggestions', async () => {
    const relaxed = await federation.startGateway({ exposure: { ...loadGatewayConfig({ NODE_ENV: 'production' }).exposure, trustedDocuments: false } });
    try {
      const introspection = await post(federation, relaxed.url, { query: '{ __schema { types { name } } }' });
      expect(introspection.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(introspection.text).not.toContain('Patient');
      const typo = await post(federation, relaxed.url, { query: '{ qualityPilars { number } }' });
      expect(typo.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(typo.text).not.toContain('Did you mean');
      expect(typo.text).not.toContain('qualityPillars');
    } finally {
      await relaxed.close();
    }
  });

  it('development answers an unknown hash with PERSISTED_QUERY_NOT_FOUND, then runs the document sent along with it without registering it', async () => {
    const query = '{ qualityPillars { number } }';
    const hash = createHash('sha256').update(query).digest('hex');
    const byHash = await post(federation, gateway.url, { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    expect(byHash.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const withQuery = await post<any>(federation, gateway.url, { query, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    expect(withQuery.body.data.qualityPillars.length).toBeGreaterThan(0);
    const again = await post(federation, gateway.url, { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    expect(again.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('development keeps introspection, suggestions and free-form documents', async () => {
    const introspection = await federation.request<any>('{ __schema { queryType { name } } }');
    expect(introspection.data.__schema.queryType.name).toBe('Query');
    const typo = await federation.request('{ qualityPilars { number } }');
    expect(typo.errors?.[0]?.message).toContain('Did you mean');
  });
});

describe('rate limiting per organisation', () => {
  it('answers 429 RATE_LIMITED with Retry-After over the rate, counts it, and leaves other organisations alone', async () => {
    const limited = await federation.startGateway({ rateLimit: { perSecond: 3, burst: 2, burstSeconds: 10 } });
    try {
      const query = { query: '{ qualityPillars { number } }' };
      const statuses: number[] = [];
      let refusal: Awaited<ReturnType<typeof post>> | undefined;
      for (let i = 0; i < 8; i++) {
        const response = await post(federation, limited.url, query);
        statuses.push(response.status);
        if (response.status === 429) refusal ??= response;
      }
      expect(statuses.filter((s) => s === 200).length).toBe(5); // 3 per second + a burst of 2
      expect(refusal!.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(Number(refusal!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await metricValue(limited.url, 'ketengraph_rate_limited_total')).toBeGreaterThanOrEqual(3);
      const other = await post(federation, limited.url, query, { principal: { ...TEST_PRINCIPAL, organisationId: 'reclassering-nederland' } });
      expect(other.status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

it('the operation files and the manifest agree (the manifest is generated, not edited)', () => {
  const body = registered('PatientTrajectory').body;
  expect(operation('PatientTrajectory')).toContain('query PatientTrajectory');
  expect(body).toContain('fragment WholeTrajectory on Patient');
  expect(body).not.toContain('PatientsTrajectories');
});
