import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kind, parse, type ObjectTypeDefinitionNode, type ObjectTypeExtensionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation, type GraphQLResponse } from './support/federation.js';
import { createDatabases, postgresUrl } from './support/postgres.js';
import { createAccessScenario, principal, type AccessScenario } from './support/scenario.js';
import { SUPERGRAPH_FILE } from '../schema/subgraphs.js';

const UNAUTHORIZED = 'UNAUTHORIZED_FIELD_OR_TYPE';
const codes = (response: GraphQLResponse) => (response.errors ?? []).map((e) => e.extensions?.code);
const unauthorizedPaths = (response: GraphQLResponse) =>
  (response.errors ?? []).filter((e) => e.extensions?.code === UNAUTHORIZED).map((e) => (e.path ?? []).join('.')).sort();

describe('field-level authorization through the gateway', () => {
  let federation: Federation;
  let scenario: AccessScenario;
  const plaatser = principal('plaatser', 'dji-forzo');
  beforeAll(async () => {
    federation = await startFederation({ seedPatients: 30 });
    scenario = await createAccessScenario(federation);
  });
  afterAll(() => federation?.close());

  it('withholds a field however it is asked for: fragments, inline fragments, aliases, variables, @include', async () => {
    const query = `
      query Slip($id: ID!, $yes: Boolean!) {
        patient(id: $id) {
          bsn
          forensicCv {
            ...Medical
            ... on ForensicCv { again: diagnoses { totalCount } }
            hidden: treatments @include(if: $yes) { totalCount }
            skipped: treatments @skip(if: $yes) { totalCount }
            riskAssessments { totalCount }
          }
        }
      }
      fragment Medical on ForensicCv { diagnoses { totalCount } }`;
    const response = await federation.request<{ patient: { bsn: string; forensicCv: Record<string, unknown> } }>(query, { id: scenario.patientId, yes: true }, { principal: plaatser });
    expect(response.data!.patient.bsn).toMatch(/^\d{9}$/);
    expect(response.data!.patient.forensicCv).toMatchObject({ diagnoses: null, again: null, hidden: null, riskAssessments: { totalCount: expect.any(Number) } });
    expect(response.data!.patient.forensicCv).not.toHaveProperty('skipped');
    expect(unauthorizedPaths(response)).toEqual(['patient.forensicCv.again', 'patient.forensicCv.diagnoses', 'patient.forensicCv.hidden']);
  });

  it('never asks a subgraph for a withheld field', async () => {
    // forensisch-cv would answer diagnoses from its database; removed before planning, it sends no statement for them.
    const cv = federation.subgraphs['forensisch-cv'];
    const before = cv.db.statementCount();
    const response = await federation.request('query($id: ID!) { patient(id: $id) { forensicCv { diagnoses { totalCount } } } }', { id: scenario.patientId }, { principal: plaatser });
    expect(unauthorizedPaths(response)).toEqual(['patient.forensicCv.diagnoses']);
    expect(cv.db.statementCount() - before).toBe(0);
  });

  it('answers data: null when an operation asks only for what it may not see', async () => {
    const response = await federation.request('query($id: ID!) { auditTrail(patientId: $id, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") { totalCount } }', { id: scenario.patientId }, { principal: plaatser });
    expect(response.data).toBeNull();
    expect(unauthorizedPaths(response)).toEqual(['auditTrail']);
  });

  it('requires a purpose of use for patient data', async () => {
    const response = await federation.request('query($id: ID!) { patient(id: $id) { bsn } }', { id: scenario.patientId }, { principal: principal('plaatser', 'dji-forzo', null) });
    expect(response.data ?? null).toBeNull();
    expect(codes(response)).toEqual(['PURPOSE_REQUIRED']);
    // Aggregates need none.
    const aggregate = await federation.request('{ freeCapacity { freePlaces } }', {}, { principal: principal('plaatser', 'dji-forzo', null) });
    expect(aggregate.errors).toBeUndefined();
  });

  it('withholds patient data for a purpose the role does not pursue', async () => {
    const response = await federation.request('query($id: ID!) { patient(id: $id) { bsn } }', { id: scenario.patientId }, { principal: principal('plaatser', 'dji-forzo', 'beleid') });
    expect(response.data).toEqual({ patient: { bsn: null } });
    expect(unauthorizedPaths(response)).toEqual(['patient.bsn']);
  });

  it('lists only the patients a provider has a relationship with', async () => {
    const provider = principal('zorgaanbieder', scenario.providers.active);
    const response = await federation.request<{ patients: { totalCount: number; edges: { node: { id: string; bsn: string | null } }[] } }>('{ patients(first: 100) { totalCount edges { node { id bsn } } } }', {}, { principal: provider });
    expect(response.errors).toBeUndefined();
    const ids = response.data!.patients.edges.map((e) => e.node.id);
    expect(ids).toContain(scenario.patientId);
    expect(response.data!.patients.totalCount).toBe(ids.length);
    const all = await federation.request<{ patients: { totalCount: number } }>('{ patients { totalCount } }', {}, { principal: plaatser });
    expect(ids.length).toBeLessThan(all.data!.patients.totalCount);
    expect(response.data!.patients.edges.every((e) => e.node.bsn !== null)).toBe(true);
    // A search by BSN does not reveal a patient outside the relationship.
    const bsn = response.data!.patients.edges.find((e) => e.node.id === scenario.patientId)!.node.bsn;
    const stranger = await federation.request('query($bsn: String!) { patientByBsn(bsn: $bsn) { id } }', { bsn }, { principal: principal('zorgaanbieder', scenario.providers.none) });
    expect(stranger.data).toEqual({ patientByBsn: null });
  });

  it("shows a provider its own placement list and not another provider's", async () => {
    const query = 'query($id: ID!) { provider(id: $id) { name placements(first: 5) { totalCount edges { node { id } } } } }';
    const own = await federation.request<{ provider: { placements: { totalCount: number } } }>(query, { id: scenario.providers.active }, { principal: principal('zorgaanbieder', scenario.providers.active) });
    expect(own.data!.provider.placements.totalCount).toBeGreaterThan(0);
    const other = await federation.request<{ provider: { name: string; placements: null } }>(query, { id: scenario.providers.active }, { principal: principal('zorgaanbieder', scenario.providers.none) });
    expect(other.data!.provider).toMatchObject({ name: expect.any(String), placements: null });
    expect(unauthorizedPaths(other)).toEqual(['provider.placements']);
  });

  it('leaves placements that ended before the handover period out of a provider\'s own list', async () => {
    const query = 'query($id: ID!) { provider(id: $id) { placements(first: 100) { totalCount edges { node { id status patient { id } } } } } }';
    type Result = { provider: { placements: { totalCount: number; edges: { node: { id: string; patient: { id: string } } }[] } } };
    const list = (providerId: string) => federation.request<Result>(query, { id: providerId }, { principal: principal('zorgaanbieder', providerId) });
    const recent = await list(scenario.providers.endedRecently);
    expect(recent.errors).toBeUndefined();
    expect(recent.data!.provider.placements.edges.map((e) => e.node.patient.id)).toContain(scenario.patientId);
    const longAgo = await list(scenario.providers.endedLongAgo);
    expect(longAgo.errors).toBeUndefined();
    const edges = longAgo.data!.provider.placements.edges;
    expect(edges.map((e) => e.node.patient.id)).not.toContain(scenario.patientId);
    expect(edges.every((e) => e.node !== null)).toBe(true);
    expect(longAgo.data!.provider.placements.totalCount).toBe(edges.length);
  });

  it('subgraphs apply the rules themselves: a gateway token for inspectie gets no BSN even asked directly', async () => {
    const token = await federation.gatewayToken(principal('inspectie', 'igj'));
    const response = await fetch(federation.subgraphs.indicatiestelling.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'query($id: ID!) { patient(id: $id) { id bsn } }', variables: { id: scenario.patientId } }),
    });
    const body = (await response.json()) as GraphQLResponse<{ patient: { id: string; bsn: string | null } }>;
    expect(body.data!.patient).toEqual({ id: scenario.patientId, bsn: null });
    expect(codes(body)).toEqual([UNAUTHORIZED]);
  });

  it('refuses a change without the write scope, at the gateway and in the subgraph, and changes nothing', async () => {
    const input = { bsn: '999990020', givenName: 'Zonder', familyName: 'Scope', birthDate: '1990-01-01' };
    const mutation = 'mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { id } }';
    const refused = await federation.request(mutation, { input }, { principal: principal('inspectie', 'igj') });
    expect(refused.data).toBeNull();
    expect(unauthorizedPaths(refused)).toEqual(['registerPatient']);
    const direct = await fetch(federation.subgraphs.indicatiestelling.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await federation.gatewayToken(principal('plaatser', 'dji-forzo'))}` },
      body: JSON.stringify({ query: mutation, variables: { input } }),
    });
    expect(codes((await direct.json()) as GraphQLResponse)).toEqual([UNAUTHORIZED]);
    expect(await (federation.subgraphs.indicatiestelling.prisma as any).patient.count({ where: { bsn: input.bsn } })).toBe(0);
    const allowed = await federation.request<{ registerPatient: { id: string } }>(mutation, { input }, { principal: principal('indicatiesteller', 'nifp') });
    expect(allowed.data!.registerPatient.id).toBeTruthy();
  });

  it('runs the allowed mutations of an operation and answers null for the refused one, keeping the shape', async () => {
    // registerPatient returns Patient!: refused for a missing scope it must still be null, not null its parent.
    const input = { bsn: '999990032', givenName: 'Gemengde', familyName: 'Mutatie', birthDate: '1991-02-03' };
    const mutation = 'mutation($input: RegisterPatientInput!, $placementId: ID!) { startIntake(placementId: $placementId) { id status } registerPatient(input: $input) { id } }';
    const placement = await (federation.subgraphs.plaatsing.prisma as any).placement.findFirst({ where: { status: 'REQUESTED' }, orderBy: { id: 'asc' } });
    const mixed = await federation.request<{ startIntake: { id: string; status: string }; registerPatient: null }>(mutation, { input, placementId: placement.id }, { principal: principal('zorgaanbieder', placement.providerId) });
    expect(mixed.data).toEqual({ startIntake: { id: placement.id, status: 'INTAKE' }, registerPatient: null });
    expect(unauthorizedPaths(mixed)).toEqual(['registerPatient']);
    expect(await (federation.subgraphs.indicatiestelling.prisma as any).patient.count({ where: { bsn: input.bsn } })).toBe(0);
    // And the schema promises it: no mutation that needs a scope is non-null in the supergraph.
    const mutations = parse(readFileSync(SUPERGRAPH_FILE, 'utf8')).definitions.filter(
      (d): d is ObjectTypeDefinitionNode | ObjectTypeExtensionNode => (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) && d.name.value === 'Mutation',
    );
    const scoped = mutations.flatMap((m) => m.fields ?? []).filter((f) => f.directives?.some((d) => d.name.value === 'requiresScopes'));
    expect(scoped.length).toBeGreaterThan(10);
    expect(scoped.filter((f) => f.type.kind === Kind.NON_NULL_TYPE).map((f) => f.name.value)).toEqual([]);
  });

  it('writes audit records per read that the privacy officer (and only they) can read back', async () => {
    const operation = `Read${randomUUID().slice(0, 8)}`;
    await federation.request(`query ${operation}($id: ID!) { patient(id: $id) { bsn forensicCv { diagnoses { totalCount } riskAssessments { totalCount } } } }`, { id: scenario.patientId }, { principal: plaatser });
    const trail = await federation.request<{ auditTrail: { edges: { node: Record<string, unknown> }[] } }>(
      'query($id: ID!) { auditTrail(patientId: $id, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z", first: 100) { edges { node { operationName action userId organisationId role purpose fieldsDelivered categoriesDelivered fieldsWithheld categoriesWithheld outcome } } } }',
      { id: scenario.patientId },
      { principal: principal('privacy_officer', 'ketengraph-fg') },
    );
    expect(trail.errors).toBeUndefined();
    const record = trail.data!.auditTrail.edges.map((e) => e.node).find((node) => node.operationName === operation);
    expect(record).toEqual({
      operationName: operation, action: 'READ', userId: 'plaatser-user', organisationId: 'dji-forzo', role: 'plaatser', purpose: 'plaatsing',
      fieldsDelivered: ['ForensicCv.riskAssessments', 'Patient.bsn'], categoriesDelivered: ['identity', 'risk'],
      fieldsWithheld: ['ForensicCv.diagnoses'], categoriesWithheld: ['medical'], outcome: 'PARTIALLY_GRANTED',
    });
    // No data values in the log: the BSN itself is nowhere in the record.
    expect(JSON.stringify(record)).not.toMatch(/\d{9}/);
  });

  it('audits a refused relationship read as withheld for that patient', async () => {
    const operation = `Stranger${randomUUID().slice(0, 8)}`;
    const response = await federation.request(`query ${operation}($id: ID!) { patient(id: $id) { bsn } }`, { id: scenario.patientId }, { principal: principal('zorgaanbieder', scenario.providers.none) });
    expect(unauthorizedPaths(response)).toEqual(['patient.bsn']);
    const trail = await federation.request<{ auditTrail: { edges: { node: { operationName: string; outcome: string; fieldsWithheld: string[] } }[] } }>(
      'query($id: ID!) { auditTrail(patientId: $id, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z", first: 100) { edges { node { operationName outcome fieldsWithheld } } } }',
      { id: scenario.patientId },
      { principal: principal('privacy_officer', 'ketengraph-fg') },
    );
    expect(trail.data!.auditTrail.edges.map((e) => e.node).find((n) => n.operationName === operation)).toEqual({ operationName: operation, outcome: 'DENIED', fieldsWithheld: ['Patient.bsn'] });
  });
});

describe('reject mode', () => {
  let federation: Federation;
  let scenario: AccessScenario;
  beforeAll(async () => {
    federation = await startFederation({ seedPatients: 10, authorizationMode: 'reject' });
    scenario = await createAccessScenario(federation);
  });
  afterAll(() => federation?.close());

  it('refuses the whole operation when any field is withheld, and answers allowed operations', async () => {
    const plaatser = principal('plaatser', 'dji-forzo');
    const refused = await federation.request('query($id: ID!) { patient(id: $id) { bsn forensicCv { diagnoses { totalCount } } } }', { id: scenario.patientId }, { principal: plaatser });
    expect(refused.data).toBeNull();
    expect(unauthorizedPaths(refused)).toEqual(['patient.forensicCv.diagnoses']);
    const allowed = await federation.request<{ patient: { bsn: string } }>('query($id: ID!) { patient(id: $id) { bsn } }', { id: scenario.patientId }, { principal: plaatser });
    expect(allowed.data!.patient.bsn).toMatch(/^\d{9}$/);
  });
});

describe.skipIf(!postgresUrl)('fail closed', () => {
  it('returns no patient data when the audit record cannot be written', async () => {
    const database = await createDatabases(['audit'] as const);
    const federation = await startFederation({ seedPatients: 5, auditDatabaseUrl: database.urls.audit });
    try {
      const { data } = await federation.request<{ patients: { edges: { node: { id: string } }[] } }>('{ patients(first: 1) { edges { node { id } } } }');
      const id = data!.patients.edges[0]!.node.id;
      const ok = await federation.request<{ patient: { bsn: string } }>('query($id: ID!) { patient(id: $id) { bsn } }', { id });
      expect(ok.data!.patient.bsn).toMatch(/^\d{9}$/);
      await database.drop(); // the access log's database disappears
      const refused = await federation.request('query($id: ID!) { patient(id: $id) { bsn } }', { id });
      expect(refused.data).toBeNull();
      expect(codes(refused)).toEqual(['AUDIT_UNAVAILABLE']);
      expect(JSON.stringify(refused)).not.toMatch(/\d{9}/);
    } finally {
      await federation.close().catch(() => undefined);
    }
  });
});
