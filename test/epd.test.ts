/**
 * Providers' EPDs in the federation: real subgraphs and gateway, the EPDs' FHIR endpoints in msw
 * (the simulated EPD for normal behaviour, plain handlers for failures). A patient with an active
 * provider, one whose placement ended within the handover period and one long ago; each of them
 * connects its own EPD holding records of the patient.
 */
import { SimulatedEpd, type FhirResource } from '@ketengraph/forensisch-cv/epd-simulator';
import { delay, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatientTrajectoryDocument } from './generated/operations.js';
import { startFederation, type Federation, type GraphQLResponse } from './support/federation.js';
import { execute } from './support/operations.js';
import { createAccessScenario, principal, type AccessScenario } from './support/scenario.js';

// Generous deadlines, so a busy machine does not turn a working EPD into a timeout; the slow EPD is slower still.
const ENV = { EPD_FRESHNESS_SECONDS: '0', EPD_READ_DEADLINE_MS: '2500', EPD_TIMEOUT_MS: '6000', EPD_RETRY_AFTER_MS: '0' };
const saved = Object.fromEntries(Object.keys(ENV).map((key) => [key, process.env[key]]));
const base = (name: string) => `https://epd-${name}.test/fhir`;

let federation: Federation;
let scenario: AccessScenario;
let bsn: string;
const epds = new Map<string, SimulatedEpd>();
const msw = setupServer();

const CV = `query EpdCv($id: ID!) { patient(id: $id) { forensicCv {
  riskAssessments(first: 100) { edges { node { id version instrument outcomeLevel source { provider { id } resourceType resourceId versionId } } } }
  incidents(first: 100) { edges { node { id source { provider { id } resourceType } } } }
  diagnoses(first: 100) { edges { node { id classification source { provider { id } resourceType } } } }
  earlyWarningSigns(first: 100) { edges { node { id signal source { provider { id } } } } }
  epdImports { provider { id } importedVersions unmapped { resourceType reason count } }
} } }`;
const RISK_ONLY = `query EpdRisk($id: ID!) { patient(id: $id) { forensicCv {
  riskAssessments(first: 100) { edges { node { id source { provider { id } resourceType } } } }
  incidents(first: 100) { totalCount }
} } }`;

type Cv = { patient: { forensicCv: Record<string, any> } | null };
const providerOf = (edges: { node: { source: { provider: { id: string } } | null } }[]) => edges.map((edge) => edge.node.source?.provider.id ?? 'native');
const requestsTo = (providerId: string) => epds.get(providerId)!.requests.length;
const searchedTypes = (providerId: string, since: number) =>
  new Set(
    epds
      .get(providerId)!
      .requests.slice(since)
      .map((url) => url.pathname.split('/').pop()),
  );

function records(patientFhirId: string, tag: string): FhirResource[] {
  const subject = { reference: `Patient/${patientFhirId}` };
  const meta = { lastUpdated: '2026-01-10T10:00:00Z' };
  return [
    { resourceType: 'Patient', id: patientFhirId, meta, identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: bsn }] },
    {
      resourceType: 'RiskAssessment',
      id: `ra-${tag}`,
      meta,
      status: 'final',
      subject,
      method: { text: 'HKT-R' },
      occurrenceDateTime: '2026-01-09',
      prediction: [{ qualitativeRisk: { coding: [{ code: 'high' }] } }],
      basis: [{ display: 'impulsiviteit' }],
    },
    {
      resourceType: 'Condition',
      id: `cond-${tag}`,
      meta,
      subject,
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'F60.2' }], text: 'Antisociale persoonlijkheidsstoornis' },
      onsetDateTime: '2025-12-01',
    },
    { resourceType: 'Flag', id: `flag-${tag}`, meta, status: 'active', subject, period: { start: '2026-01-05' }, code: { text: `Vroegsignaal ${tag}` } },
    {
      resourceType: 'AdverseEvent',
      id: `ae-${tag}`,
      meta,
      actuality: 'actual',
      subject,
      date: '2026-01-07',
      event: { text: 'Verbale agressie' },
      severity: { coding: [{ code: 'mild' }] },
    },
    {
      resourceType: 'EpisodeOfCare',
      id: `eoc-${tag}`,
      meta,
      status: 'active',
      patient: subject,
      period: { start: '2025-11-01' },
      type: [{ text: 'Schematherapie' }],
    },
  ] as FhirResource[];
}

const CONNECT = `mutation Connect($input: ConnectEpdInput!) { connectEpd(input: $input) { providerId fhirBaseUrl authentication tokenUrl clientId jwks origin registeredAt } }`;

async function connect(providerId: string, name: string) {
  const response = await federation.request<{ connectEpd: { jwks: string } }>(
    CONNECT,
    { input: { providerId, fhirBaseUrl: base(name), tokenUrl: `${base(name)}/auth/token`, clientId: `ketengraph-${name}` } },
    { principal: principal('zorgaanbieder', providerId) },
  );
  expect(response.errors).toBeUndefined();
  // The provider registers ketengraph's public key at its EPD's authorization server.
  const epd = new SimulatedEpd({
    baseUrl: base(name),
    clientId: `ketengraph-${name}`,
    clientJwks: JSON.parse(response.data!.connectEpd.jwks),
    resources: records(`fhir-${name}`, name),
  });
  epds.set(providerId, epd);
  msw.use(http.all(`${base(name)}/*`, ({ request }) => epd.handle(request)));
  return response;
}

beforeAll(async () => {
  Object.assign(process.env, ENV);
  msw.listen({ onUnhandledRequest: 'bypass' });
  federation = await startFederation({ seedPatients: 20 });
  scenario = await createAccessScenario(federation);
  bsn = (await (federation.subgraphs.indicatiestelling.prisma as any).patient.findUnique({ where: { id: scenario.patientId } })).bsn;
});

afterAll(async () => {
  msw.close();
  await federation?.close();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('connecting an EPD', () => {
  it('only the provider itself connects its EPD; the answer holds a public key, never a secret', async () => {
    const stranger = await federation.request(
      CONNECT,
      { input: { providerId: scenario.providers.active, fhirBaseUrl: base('x'), tokenUrl: `${base('x')}/auth/token`, clientId: 'x' } },
      { principal: principal('zorgaanbieder', scenario.providers.none) },
    );
    expect(stranger.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const plaatser = await federation.request(
      CONNECT,
      { input: { providerId: scenario.providers.active, fhirBaseUrl: base('x'), tokenUrl: `${base('x')}/auth/token`, clientId: 'x' } },
      { principal: principal('plaatser', 'dji-forzo') },
    );
    expect(plaatser.data?.connectEpd ?? null).toBeNull();
    expect(plaatser.errors?.[0]?.extensions?.code).toMatch(/FORBIDDEN|UNAUTHORIZED_FIELD_OR_TYPE/);
    const bad = await federation.request(
      CONNECT,
      { input: { providerId: scenario.providers.active, fhirBaseUrl: 'ftp://epd.example.org/fhir', tokenUrl: `${base('x')}/auth/token`, clientId: 'x' } },
      { principal: principal('zorgaanbieder', scenario.providers.active) },
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'fhirBaseUrl' });

    const own = await connect(scenario.providers.active, 'active');
    await connect(scenario.providers.endedRecently, 'recent');
    await connect(scenario.providers.endedLongAgo, 'longago');
    const connection = (own.data as any).connectEpd;
    expect(connection).toMatchObject({
      providerId: scenario.providers.active,
      authentication: 'SMART_BACKEND_SERVICES',
      origin: 'REGISTRATION',
      clientId: 'ketengraph-active',
    });
    const keys = JSON.parse(connection.jwks).keys;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-384', alg: 'ES384' });
    expect(keys[0].d).toBeUndefined();

    const SEE = 'query($id: ID!) { provider(id: $id) { id epdConnection { fhirBaseUrl jwks } } }';
    const mine = await federation.request<any>(SEE, { id: scenario.providers.active }, { principal: principal('zorgaanbieder', scenario.providers.active) });
    expect(mine.data.provider.epdConnection.fhirBaseUrl).toBe(base('active'));
    const theirs = await federation.request<any>(SEE, { id: scenario.providers.active }, { principal: principal('zorgaanbieder', scenario.providers.none) });
    expect(theirs.data.provider.epdConnection).toBeNull();
    expect(theirs.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
  });
});

describe('reading a CV with EPD entries', () => {
  it('the own provider sees its EPD entries alongside native ones, from every EPD of a current provider, not from one ended long ago', async () => {
    const response = await federation.request<Cv>(CV, { id: scenario.patientId }, { principal: principal('zorgaanbieder', scenario.providers.active) });
    expect(response.errors).toBeUndefined();
    const cv = response.data!.patient!.forensicCv;
    const risk = providerOf(cv.riskAssessments.edges);
    expect(risk).toContain(scenario.providers.active);
    expect(risk).toContain(scenario.providers.endedRecently);
    expect(risk).not.toContain(scenario.providers.endedLongAgo);
    const imported = cv.riskAssessments.edges.find((edge: any) => edge.node.source?.provider.id === scenario.providers.active).node;
    expect(imported).toMatchObject({
      version: 1,
      instrument: 'HKT_R',
      outcomeLevel: 'HOOG',
      source: { resourceType: 'RiskAssessment', resourceId: 'ra-active', versionId: '1' },
    });
    expect(providerOf(cv.diagnoses.edges)).toContain(scenario.providers.active);
    expect(cv.earlyWarningSigns.edges.map((edge: any) => edge.node.signal)).toEqual(expect.arrayContaining(['Vroegsignaal active', 'Vroegsignaal recent']));
    expect(cv.epdImports.map((item: any) => item.provider.id).sort()).toEqual([scenario.providers.active, scenario.providers.endedRecently].sort());
    expect(requestsTo(scenario.providers.endedLongAgo)).toBe(0);
    // The BSN went in a POST _search body, never in a URL.
    expect([...epds.values()].flatMap((epd) => epd.requests).some((url) => url.href.includes(bsn))).toBe(false);
  });

  it('the whole-trajectory query still answers in one request, with EPD provenance', async () => {
    const result = await execute(
      federation,
      PatientTrajectoryDocument,
      { id: scenario.patientId },
      { principal: principal('zorgaanbieder', scenario.providers.active) },
    );
    expect(result.errors).toBeUndefined();
    const sources = result.data!.patient!.forensicCv.riskAssessments!.edges.map((edge) => edge.node.source);
    expect(sources).toContainEqual(
      expect.objectContaining({
        resourceType: 'RiskAssessment',
        provider: expect.objectContaining({ id: scenario.providers.active, name: expect.any(String) }),
      }),
    );
  });

  it('an EPD is only asked for what the caller may see: a plaatser (no medical data) makes no Condition or EpisodeOfCare search', async () => {
    const since = requestsTo(scenario.providers.active);
    const response = await federation.request<Cv>(RISK_ONLY, { id: scenario.patientId }, { principal: principal('plaatser', 'dji-forzo') });
    expect(response.errors).toBeUndefined();
    expect(providerOf(response.data!.patient!.forensicCv.riskAssessments.edges)).toContain(scenario.providers.active);
    const types = searchedTypes(scenario.providers.active, since);
    expect(types.has('RiskAssessment')).toBe(true);
    expect(types.has('AdverseEvent')).toBe(true);
    expect(types.has('Condition')).toBe(false);
    expect(types.has('EpisodeOfCare')).toBe(false);
    // Medical fields are withheld, and asking for them makes no EPD search either.
    const medical = await federation.request<Cv>(CV, { id: scenario.patientId }, { principal: principal('plaatser', 'dji-forzo') });
    expect(medical.errors?.filter((error) => error.extensions?.code === 'UNAUTHORIZED_FIELD_OR_TYPE').map((error) => error.path?.join('.'))).toEqual(
      expect.arrayContaining(['patient.forensicCv.diagnoses', 'patient.forensicCv.epdImports']),
    );
    expect(searchedTypes(scenario.providers.active, since).has('Condition')).toBe(false);
  });

  it('entries(kinds:) reads the EPD for the kinds asked, as the access rules judge them', async () => {
    const since = requestsTo(scenario.providers.active);
    const response = await federation.request<any>(
      'query($id: ID!) { patient(id: $id) { forensicCv { entries(kinds: [RISK_ASSESSMENT], first: 100) { edges { node { source { provider { id } } } } } } } }',
      { id: scenario.patientId },
      { principal: principal('plaatser', 'dji-forzo') },
    );
    expect(response.errors).toBeUndefined();
    expect(providerOf(response.data.patient.forensicCv.entries.edges)).toContain(scenario.providers.active);
    expect([...searchedTypes(scenario.providers.active, since)].filter((type) => type !== 'token' && type !== '_search')).toEqual(['RiskAssessment']);
  });

  it('a provider without the patient sees nothing and no EPD is asked', async () => {
    const before = [...epds.keys()].map(requestsTo);
    const response = await federation.request<Cv>(CV, { id: scenario.patientId }, { principal: principal('zorgaanbieder', scenario.providers.none) });
    expect(response.errors?.every((error) => error.extensions?.code === 'UNAUTHORIZED_FIELD_OR_TYPE')).toBe(true);
    expect([...epds.keys()].map(requestsTo)).toEqual(before);
  });

  it('probation sees the EPD risk entries of its own supervisee only; another probation organisation asks no EPD', async () => {
    const own = await federation.request<Cv>(RISK_ONLY, { id: scenario.patientId }, { principal: principal('reclassering', scenario.probation.assigned) });
    expect(own.errors).toBeUndefined();
    expect(providerOf(own.data!.patient!.forensicCv.riskAssessments.edges)).toContain(scenario.providers.active);
    const before = [...epds.keys()].map(requestsTo);
    const other = await federation.request<Cv>(RISK_ONLY, { id: scenario.patientId }, { principal: principal('reclassering', scenario.probation.other) });
    expect(other.errors?.length).toBeGreaterThan(0);
    expect(other.errors?.every((error) => error.extensions?.code === 'UNAUTHORIZED_FIELD_OR_TYPE')).toBe(true);
    expect([...epds.keys()].map(requestsTo)).toEqual(before);
  });

  it('reads of EPD entries are audited like any other', async () => {
    const operation = 'EpdCv';
    const trail = await federation.request<{ auditTrail: { edges: { node: Record<string, any> }[] } }>(
      'query($id: ID!) { auditTrail(patientId: $id, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z", first: 100) { edges { node { operationName organisationId role fieldsDelivered categoriesDelivered outcome } } } }',
      { id: scenario.patientId },
      { principal: principal('privacy_officer', 'ketengraph-fg') },
    );
    expect(trail.errors).toBeUndefined();
    const record = trail
      .data!.auditTrail.edges.map((edge) => edge.node)
      .find((node) => node.operationName === operation && node.organisationId === scenario.providers.active);
    expect(record).toMatchObject({ role: 'zorgaanbieder', outcome: 'GRANTED', categoriesDelivered: expect.arrayContaining(['medical', 'risk']) });
    expect(record!.fieldsDelivered).toEqual(expect.arrayContaining(['ForensicCv.riskAssessments', 'ForensicCv.earlyWarningSigns', 'ForensicCv.epdImports']));
  });
});

describe('when an EPD fails', () => {
  const errorsOf = (response: GraphQLResponse<Cv>) =>
    (response.errors ?? []).map((error) => ({
      code: error.extensions?.code,
      provider: error.extensions?.provider,
      reason: error.extensions?.reason,
      path: error.path?.join('.'),
    }));

  it('down: every query still answers, with what was imported and an EPD_UNAVAILABLE error naming the provider', async () => {
    msw.use(http.all(`${base('active')}/*`, () => HttpResponse.error()));
    const response = await federation.request<Cv>(RISK_ONLY, { id: scenario.patientId }, { principal: principal('plaatser', 'dji-forzo') });
    expect(providerOf(response.data!.patient!.forensicCv.riskAssessments.edges)).toContain(scenario.providers.active);
    expect(errorsOf(response)).toContainEqual({
      code: 'EPD_UNAVAILABLE',
      provider: scenario.providers.active,
      reason: 'unreachable',
      path: 'patient.forensicCv.riskAssessments',
    });
    const trajectory = await execute(federation, PatientTrajectoryDocument, { id: scenario.patientId }, { principal: principal('plaatser', 'dji-forzo') });
    expect(trajectory.data?.patient?.trajectories?.totalCount).toBeGreaterThan(0);
    expect(trajectory.errors?.every((error) => error.extensions?.code === 'EPD_UNAVAILABLE')).toBe(true);
  });

  it('slow: the read waits at most EPD_READ_DEADLINE_MS, then answers with a timeout error', async () => {
    msw.use(
      http.all(`${base('active')}/*`, async () => {
        await delay(10_000);
        return HttpResponse.json({});
      }),
    );
    const started = Date.now();
    const response = await federation.request<Cv>(RISK_ONLY, { id: scenario.patientId }, { principal: principal('plaatser', 'dji-forzo') });
    // The deadline (2.5 s), not the EPD (10 s), decides when the answer comes.
    expect(Date.now() - started).toBeLessThan(7000);
    expect(errorsOf(response)).toContainEqual(expect.objectContaining({ code: 'EPD_UNAVAILABLE', provider: scenario.providers.active, reason: 'timeout' }));
    expect(providerOf(response.data!.patient!.forensicCv.riskAssessments.edges)).toContain(scenario.providers.active);
  });

  it("after the handover period, the old provider's EPD is no longer asked, and the CV keeps what it contributed", async () => {
    const plaatsing = federation.subgraphs.plaatsing.prisma as any;
    await plaatsing.placement.updateMany({
      where: { patientId: scenario.patientId, providerId: scenario.providers.endedRecently },
      data: { endedAt: new Date(Date.now() - 120 * 86_400_000) },
    }); // after admission (130 days ago), before the 90-day handover period
    msw.use(http.all(`${base('recent')}/*`, () => HttpResponse.error()));
    const before = requestsTo(scenario.providers.endedRecently);
    const response = await federation.request<Cv>(RISK_ONLY, { id: scenario.patientId }, { principal: principal('plaatser', 'dji-forzo') });
    expect(providerOf(response.data!.patient!.forensicCv.riskAssessments.edges)).toContain(scenario.providers.endedRecently);
    expect(errorsOf(response).filter((error) => error.provider === scenario.providers.endedRecently)).toEqual([]);
    expect(requestsTo(scenario.providers.endedRecently)).toBe(before);
  });

  it('disconnecting stops the reads; imported entries stay', async () => {
    const response = await federation.request<any>(
      'mutation($id: ID!) { disconnectEpd(providerId: $id) }',
      { id: scenario.providers.active },
      { principal: principal('zorgaanbieder', scenario.providers.active) },
    );
    expect(response).toEqual({ data: { disconnectEpd: true } });
    const read = await federation.request<Cv>(RISK_ONLY, { id: scenario.patientId }, { principal: principal('plaatser', 'dji-forzo') });
    expect(read.errors).toBeUndefined();
    expect(providerOf(read.data!.patient!.forensicCv.riskAssessments.edges)).toContain(scenario.providers.active);
  });
});
