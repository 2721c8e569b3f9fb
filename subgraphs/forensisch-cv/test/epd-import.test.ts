/**
 * The EPD connector against FHIR endpoints in msw: the simulated EPD (token endpoint, search,
 * paging, _lastUpdated, 401) for the well-behaved cases, plain msw handlers for the failures. The
 * imports land in a real forensisch-cv database and are read back through its GraphQL API.
 */
import { metricsText, startSubgraph, type RunningSubgraph } from '@ketengraph/service-kit';
import { createTestGateway } from '@ketengraph/service-kit/testing';
import { delay, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isNonPublicAddress } from '@ketengraph/service-kit';
import { EpdError, FhirClient, type EpdSource } from '../src/epd/fhir-client.js';
import { SimulatedEpd, type FhirResource } from '../src/epd/simulator.js';
import { generateSigningKey, publicJwk } from '../src/epd/sources.js';
import { importSummaries } from '../src/epd/store.js';
import { EpdSync, loadEpdSettings } from '../src/epd/sync.js';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import { forensischCv } from '../src/subgraph.js';
import { adverseEvent, condition, episodeOfCare, flag, operationOutcome, patient, riskAssessment, searchset } from './fixtures/fhir.js';

const BASE = 'https://epd-a.test/fhir';
const BSN = '999999990';
const PATIENT = 'cv-patient-1';
const gateway = await createTestGateway();
const signingKey = await generateSigningKey();
const source: EpdSource = {
  providerId: 'provider-a',
  fhirBaseUrl: BASE,
  auth: { kind: 'SMART_BACKEND_SERVICES', tokenUrl: `${BASE}/auth/token`, clientId: 'ketengraph', scope: 'system/*.read', signingKey },
  origin: 'CONFIGURATION',
  registeredAt: new Date(),
};
const settings = { ...loadEpdSettings({}), pageSize: 2, timeoutMs: 5000, retryAfterMs: 0 };

const resources = (): FhirResource[] =>
  [
    patient('fp-1', BSN),
    riskAssessment('fp-1'),
    condition('fp-1'),
    flag('fp-1'),
    adverseEvent('fp-1'),
    episodeOfCare('fp-1'),
    // Not mappable (SNOMED only): counted, not dropped.
    condition('fp-1', { id: 'cond-snomed', code: { coding: [{ system: 'http://snomed.info/sct', code: '66214007' }], text: 'Middelenmisbruik' } }),
    // Another patient's record: never asked for.
    flag('fp-other', { id: 'flag-other' }),
  ] as unknown as FhirResource[];

const newEpd = (records = resources()) =>
  new SimulatedEpd({ baseUrl: BASE, clientId: 'ketengraph', clientJwks: { keys: [publicJwk(signingKey)] }, resources: records });
const epd = newEpd();
// The simulated EPD is the default handler; a test's failures are put in front of it and removed after it.
const msw = setupServer(http.all(`${BASE}/*`, ({ request }) => epd.handle(request)));
let sg: RunningSubgraph<PrismaClient>;
let sync: EpdSync;
const indicatiesteller = { userId: 'user-nifp', organisationId: 'nifp', role: 'indicatiesteller' };

async function cv(patientId: string) {
  const response = await fetch(sg.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await gateway.authorization(indicatiesteller)) },
    body: JSON.stringify({
      query: `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Patient { forensicCv {
        entries(first: 100, includeSuperseded: true) { totalCount edges { node { __typename id entryId version isCurrent kind occurredOn author { userId organisationId }
          supersedes { id } source { provider { id } resourceType resourceId versionId lastUpdated }
          ... on RiskAssessmentEntry { instrument outcomeLevel riskFactors protectiveFactors }
          ... on DiagnosisEntry { classification description }
          ... on EarlyWarningSignEntry { signal signalCode active endsOn }
          ... on IncidentEntry { incidentType severity description }
          ... on TreatmentEntry { treatmentType startsOn endsOn summary } } } }
        earlyWarningSigns { totalCount }
        epdImports { provider { id } lastSyncedAt importedVersions unmapped { resourceType reason count } } } } } }`,
      variables: { reps: [{ __typename: 'Patient', id: patientId }] },
    }),
  });
  const body = (await response.json()) as { data: { _entities: { forensicCv: any }[] }; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data._entities[0]!.forensicCv;
}

const ALL_TYPES = ['RiskAssessment', 'Condition', 'Flag', 'AdverseEvent', 'EpisodeOfCare'] as const;

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'bypass' });
  sg = await startSubgraph(forensischCv, { port: 0, dataDir: 'memory://', seedPatients: 0, gatewayKeys: gateway.gatewayKeys });
  sync = new EpdSync(sg.prisma, settings);
});

afterEach(() => msw.resetHandlers());

afterAll(async () => {
  msw.close();
  await sg?.close();
});

describe('importing from a FHIR R4 EPD', () => {
  it('authenticates with a signed client assertion, finds the patient by BSN, pages through every type and imports with provenance', async () => {
    await sync.run(source, PATIENT, BSN, [...ALL_TYPES], null);
    const paths = epd.requests.map((url) => `${url.pathname.replace('/fhir', '')}${url.search}`);
    expect(paths[0]).toBe('/auth/token');
    // The patient is searched by BSN with POST _search: the BSN is in no URL.
    expect(epd.requests[1]!.pathname).toBe('/fhir/Patient/_search');
    expect(epd.requests.some((url) => url.href.includes(BSN))).toBe(false);
    // Two conditions with _count=2 fit one page; the next links are followed where there are more.
    expect(epd.requests.filter((url) => url.pathname.endsWith('/AdverseEvent'))[0]!.searchParams.get('subject')).toBe('Patient/fp-1');
    expect(
      epd.requests.every((url) => url.pathname.endsWith('/auth/token') || url.pathname.endsWith('/Patient/_search') || url.searchParams.get('_count') === '2'),
    ).toBe(true);

    const result = await cv(PATIENT);
    expect(result.entries.totalCount).toBe(5);
    const byType = Object.fromEntries(result.entries.edges.map((edge: any) => [edge.node.source.resourceType, edge.node]));
    expect(byType.RiskAssessment).toMatchObject({
      __typename: 'RiskAssessmentEntry',
      version: 1,
      isCurrent: true,
      occurredOn: '2026-01-28',
      instrument: 'HCR_20V3',
      outcomeLevel: 'HOOG',
      riskFactors: ['middelengebruik', 'impulsiviteit', 'gebrek aan probleeminzicht'],
      protectiveFactors: ['steunend netwerk', 'dagbesteding'],
      author: { userId: 'epd:provider-a', organisationId: 'provider-a' },
      source: { provider: { id: 'provider-a' }, resourceType: 'RiskAssessment', resourceId: 'ra-1', versionId: '1', lastUpdated: '2026-02-01T10:00:00.000Z' },
    });
    expect(byType.Condition).toMatchObject({ __typename: 'DiagnosisEntry', classification: 'F60.2', source: { versionId: '1' } });
    expect(byType.Flag).toMatchObject({
      __typename: 'EarlyWarningSignEntry',
      kind: 'EARLY_WARNING_SIGN',
      signal: 'Trekt zich terug op kamer, slaapt slecht',
      active: true,
    });
    expect(byType.AdverseEvent).toMatchObject({ __typename: 'IncidentEntry', incidentType: 'AGRESSIE_FYSIEK', severity: 'MATIG' });
    expect(byType.EpisodeOfCare).toMatchObject({ __typename: 'TreatmentEntry', treatmentType: 'SCHEMATHERAPIE', startsOn: '2026-01-06', endsOn: null });
    expect(result.earlyWarningSigns.totalCount).toBe(1);
    expect(result.epdImports).toEqual([
      {
        provider: { id: 'provider-a' },
        lastSyncedAt: expect.any(String),
        importedVersions: 5,
        unmapped: [{ resourceType: 'Condition', reason: 'NO_CLASSIFICATION', count: 1 }],
      },
    ]);
  });

  it('a second read imports nothing twice; a later version of a resource becomes the next CV version, asked for with _lastUpdated', async () => {
    const requestsBefore = epd.requests.length;
    await sync.run(source, PATIENT, BSN, [...ALL_TYPES], null);
    expect((await cv(PATIENT)).entries.totalCount).toBe(5);

    epd.put({
      ...riskAssessment('fp-1'),
      meta: { lastUpdated: '2026-03-01T08:00:00Z' },
      prediction: [{ qualitativeRisk: { coding: [{ code: 'low' }] } }],
    } as unknown as FhirResource);
    const since = new Date('2026-02-01T10:00:00Z');
    await sync.run(source, PATIENT, BSN, ['RiskAssessment'], since);
    const search = epd.requests
      .slice(requestsBefore)
      .filter((url) => url.pathname.endsWith('/RiskAssessment'))
      .at(-1)!;
    expect(search.searchParams.get('_lastUpdated')).toBe(`ge${since.toISOString()}`);

    const result = await cv(PATIENT);
    const versions = result.entries.edges.map((edge: any) => edge.node).filter((node: any) => node.source.resourceType === 'RiskAssessment');
    expect(versions.map((node: any) => [node.version, node.isCurrent, node.outcomeLevel, node.source.versionId])).toEqual(
      expect.arrayContaining([
        [1, false, 'HOOG', '1'],
        [2, true, 'LAAG', '2'],
      ]),
    );
    const [v1, v2] = [versions.find((node: any) => node.version === 1), versions.find((node: any) => node.version === 2)];
    expect(v2.entryId).toBe(v1.entryId);
    expect(v2.supersedes.id).toBe(v1.id);
    // Append-only: the store refuses to change an imported row.
    await expect(sg.db.query(`UPDATE "CvEntry" SET "sourceVersionId" = 'x' WHERE id = $1`, [v1.id])).rejects.toThrow(/append-only/);
  });

  it('a revoked token is replaced once; a key the EPD does not know is refused (token_refused)', async () => {
    epd.revokeTokens();
    await sync.run(source, PATIENT, BSN, ['Flag'], null);
    const otherKey = await generateSigningKey();
    const stranger: EpdSource = {
      ...source,
      providerId: 'provider-b',
      auth: { ...(source.auth as Extract<EpdSource['auth'], { kind: 'SMART_BACKEND_SERVICES' }>), signingKey: otherKey },
    };
    await expect(sync.run(stranger, PATIENT, BSN, ['Flag'], null)).rejects.toMatchObject({ reason: 'token_refused' });
  });

  it('an EPD that answers 401 to every request fails as unauthorized after one new token', async () => {
    let tokens = 0;
    msw.use(
      http.post(`${BASE}/auth/token`, () => {
        tokens++;
        return HttpResponse.json({ access_token: `t${tokens}`, token_type: 'bearer', expires_in: 300 });
      }),
      http.all(`${BASE}/*`, () => HttpResponse.json(operationOutcome('login', 'expired'), { status: 401 })),
    );
    const client = new FhirClient(source, settings);
    await expect(client.patientIds(BSN, AbortSignal.timeout(1000))).rejects.toMatchObject({ reason: 'unauthorized' });
    expect(tokens).toBe(2);
  });

  const failing = async (handler: Parameters<typeof msw.use>[0]) => {
    msw.use(
      http.post(`${BASE}/auth/token`, () => HttpResponse.json({ access_token: 'ok', expires_in: 300 })),
      handler,
    );
    const error = await new FhirClient(source, settings).patientIds(BSN, AbortSignal.timeout(300)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EpdError);
    return (error as EpdError).reason;
  };

  it('slow, down, garbage, OperationOutcome: each a coded failure, none a crash', async () => {
    expect(
      await failing(
        http.post(`${BASE}/Patient/_search`, async () => {
          await delay(2000);
          return HttpResponse.json(searchset([], { self: BASE }));
        }),
      ),
    ).toBe('timeout');
    expect(await failing(http.post(`${BASE}/Patient/_search`, () => HttpResponse.error()))).toBe('unreachable');
    expect(
      await failing(http.post(`${BASE}/Patient/_search`, () => new HttpResponse('<html>maintenance</html>', { headers: { 'content-type': 'text/html' } }))),
    ).toBe('malformed');
    expect(await failing(http.post(`${BASE}/Patient/_search`, () => HttpResponse.json({ resourceType: 'Patient', id: 'x' })))).toBe('malformed');
    expect(await failing(http.post(`${BASE}/Patient/_search`, () => HttpResponse.json(operationOutcome('exception', 'database down'), { status: 500 })))).toBe(
      'operation_outcome',
    );
    expect(await failing(http.post(`${BASE}/Patient/_search`, () => new HttpResponse(null, { status: 503 })))).toBe('http_status');
  });

  it('reads again only what is older than EPD_FRESHNESS_SECONDS, since the oldest high-water mark', async () => {
    const fresh = new EpdSync(sg.prisma, { ...settings, freshnessMs: 60_000 });
    const states = await fresh.syncStates([PATIENT], ['provider-a']);
    expect(fresh.stale(states, PATIENT, 'provider-a', ['RiskAssessment', 'Flag'])).toEqual({ stale: [], since: null });
    const old = new Date(Date.now() - 120_000);
    const aged = new Map([
      [`${PATIENT}\u0000provider-a\u0000RiskAssessment`, { syncedAt: old, highWater: new Date('2026-03-01T08:00:00Z') }],
      [`${PATIENT}\u0000provider-a\u0000Flag`, { syncedAt: old, highWater: new Date('2026-02-10T07:00:00Z') }],
    ]);
    expect(fresh.stale(aged, PATIENT, 'provider-a', ['RiskAssessment', 'Flag'])).toEqual({
      stale: ['RiskAssessment', 'Flag'],
      since: new Date('2026-02-10T07:00:00Z'),
    });
    // A type never read reads everything.
    expect(fresh.stale(aged, PATIENT, 'provider-a', ['RiskAssessment', 'Condition'])).toEqual({ stale: ['RiskAssessment', 'Condition'], since: null });
  });

  it('never follows a redirect', async () => {
    expect(
      await failing(
        http.post(`${BASE}/Patient/_search`, () => new HttpResponse(null, { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data' } })),
      ),
    ).toBe('redirected');
  });

  it('in production, refuses to connect to an EPD whose name resolves to a non-public address', async () => {
    expect(['127.0.0.1', '10.1.2.3', '169.254.169.254', '::1', '::ffff:192.168.1.1', 'fd00::1'].every(isNonPublicAddress)).toBe(true);
    expect(['8.8.8.8', '2a00:1450::1'].some(isNonPublicAddress)).toBe(false);
    let reached = 0;
    const server = createServer((_, response) => {
      reached++;
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const local = `http://localhost:${(server.address() as AddressInfo).port}/fhir`;
      const client = new FhirClient(
        {
          ...source,
          fhirBaseUrl: local,
          auth: { ...(source.auth as Extract<EpdSource['auth'], { kind: 'SMART_BACKEND_SERVICES' }>), tokenUrl: `${local}/token` },
        },
        { ...settings, allowPrivateAddresses: false },
      );
      await expect(client.patientIds(BSN, AbortSignal.timeout(2000))).rejects.toMatchObject({ reason: 'non_public_address' });
      expect(reached).toBe(0);
    } finally {
      server.close();
    }
  });

  it('runs at most EPD_CONCURRENCY imports at once per EPD', async () => {
    let active = 0;
    let most = 0;
    msw.use(
      http.post(`${BASE}/Patient/_search`, async () => {
        active++;
        most = Math.max(most, active);
        await delay(40);
        active--;
        return HttpResponse.json(searchset([], { self: `${BASE}/Patient` }));
      }),
    );
    const limited = new EpdSync(sg.prisma, { ...settings, concurrency: 2 });
    await Promise.all(Array.from({ length: 6 }, (_, i) => limited.run(source, `other-${i}`, BSN, ['Flag'], null)));
    expect(most).toBe(2);
  });

  it('never follows a next link outside the EPD: the access token is not sent elsewhere', async () => {
    let foreign = 0;
    msw.use(
      http.get('https://elsewhere.test/*', () => {
        foreign++;
        return HttpResponse.json(searchset([], { self: 'x' }));
      }),
    );
    expect(
      await failing(
        http.post(`${BASE}/Patient/_search`, () =>
          HttpResponse.json(searchset([patient('fp-1', BSN)], { self: `${BASE}/Patient`, next: 'https://elsewhere.test/fhir/Patient?page=2' })),
        ),
      ),
    ).toBe('foreign_link');
    expect(foreign).toBe(0);
  });

  it("an EPD that answers with another patient's record: not put into this CV, counted as OTHER_PATIENT", async () => {
    msw.use(http.get(`${BASE}/Flag`, () => HttpResponse.json(searchset([flag('fp-other', { id: 'flag-other' })], { self: `${BASE}/Flag` }))));
    await sync.run(source, PATIENT, BSN, ['Flag'], null);
    const result = await cv(PATIENT);
    expect(result.entries.edges.some((edge: any) => edge.node.source?.resourceId === 'flag-other')).toBe(false);
    expect(result.epdImports[0].unmapped).toContainEqual({ resourceType: 'Flag', reason: 'OTHER_PATIENT', count: 1 });
  });

  it('a failed import leaves what was imported before, and reports it for the next read', async () => {
    msw.use(http.all(`${BASE}/*`, () => HttpResponse.error()));
    await expect(sync.run(source, PATIENT, BSN, ['Condition'], null)).rejects.toMatchObject({ reason: 'unreachable' });
    const result = await cv(PATIENT);
    expect(result.entries.edges.filter((edge: any) => edge.node.isCurrent)).toHaveLength(5);
    const metrics = await metricsText();
    expect(metrics).toMatch(/ketengraph_epd_imports_total\{outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/ketengraph_epd_imports_total\{outcome="unreachable"\} [1-9]/);
    expect(metrics).toMatch(/ketengraph_epd_resources_total\{result="imported"\} [1-9]/);
    expect((await importSummaries(sg.prisma, PATIENT))[0]!.importedVersions).toBe(6);
  });
});
