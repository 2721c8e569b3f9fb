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
  (response.errors ?? [])
    .filter((e) => e.extensions?.code === UNAUTHORIZED)
    .map((e) => (e.path ?? []).join('.'))
    .sort();

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
    const response = await federation.request<{ patient: { bsn: string; forensicCv: Record<string, unknown> } }>(
      query,
      { id: scenario.patientId, yes: true },
      { principal: plaatser },
    );
    expect(response.data!.patient.bsn).toMatch(/^\d{9}$/);
    expect(response.data!.patient.forensicCv).toMatchObject({
      diagnoses: null,
      again: null,
      hidden: null,
      riskAssessments: { totalCount: expect.any(Number) },
    });
    expect(response.data!.patient.forensicCv).not.toHaveProperty('skipped');
    expect(unauthorizedPaths(response)).toEqual(['patient.forensicCv.again', 'patient.forensicCv.diagnoses', 'patient.forensicCv.hidden']);
  });

  it('judges CV entries by the kinds asked for, at the gateway (literal or variable) and in the subgraph', async () => {
    const literal = (kinds: string) =>
      `query($id: ID!) { patient(id: $id) { forensicCv { entries(kinds: ${kinds}) { totalCount edges { node { kind } } } } } }`;
    type Result = { patient: { forensicCv: { entries: { totalCount: number; edges: { node: { kind: string } }[] } | null } } };
    // A plaatser may read judicial and risk data, not medical.
    const offences = await federation.request<Result>(literal('[OFFENCE]'), { id: scenario.patientId }, { principal: plaatser });
    expect(offences.errors).toBeUndefined();
    expect(offences.data!.patient.forensicCv.entries!.edges.every((e) => e.node.kind === 'OFFENCE')).toBe(true);
    expect(
      (await federation.request<Result>(literal('[OFFENCE, RISK_ASSESSMENT]'), { id: scenario.patientId }, { principal: plaatser })).errors,
    ).toBeUndefined();
    const mixed = await federation.request<Result>(literal('[OFFENCE, DIAGNOSIS]'), { id: scenario.patientId }, { principal: plaatser });
    expect(unauthorizedPaths(mixed)).toEqual(['patient.forensicCv.entries']);
    const all = await federation.request<Result>(
      'query($id: ID!) { patient(id: $id) { forensicCv { entries { totalCount } } } }',
      { id: scenario.patientId },
      { principal: plaatser },
    );
    expect(unauthorizedPaths(all)).toEqual(['patient.forensicCv.entries']);
    // The same document with other variables is judged again, not served from the rewrite cache.
    const byVariable = 'query($id: ID!, $kinds: [CvEntryKind!]) { patient(id: $id) { forensicCv { entries(kinds: $kinds) { totalCount } } } }';
    expect((await federation.request<Result>(byVariable, { id: scenario.patientId, kinds: ['OFFENCE'] }, { principal: plaatser })).errors).toBeUndefined();
    expect(unauthorizedPaths(await federation.request<Result>(byVariable, { id: scenario.patientId, kinds: ['TREATMENT'] }, { principal: plaatser }))).toEqual([
      'patient.forensicCv.entries',
    ]);
    expect(unauthorizedPaths(await federation.request<Result>(byVariable, { id: scenario.patientId, kinds: [] }, { principal: plaatser }))).toEqual([
      'patient.forensicCv.entries',
    ]);
    expect((await federation.request<Result>(byVariable, { id: scenario.patientId, kinds: ['OFFENCE'] }, { principal: plaatser })).errors).toBeUndefined();
    // Probation: offences of its supervisee, not of someone else's (the relationship still holds per patient).
    const probation = principal('reclassering', scenario.probation.assigned);
    expect((await federation.request<Result>(literal('[OFFENCE]'), { id: scenario.patientId }, { principal: probation })).errors).toBeUndefined();
    expect(
      unauthorizedPaths(
        await federation.request<Result>(literal('[OFFENCE]'), { id: scenario.patientId }, { principal: principal('reclassering', scenario.probation.other) }),
      ),
    ).toEqual(['patient.forensicCv.entries']);
    // The subgraph judges the same way when asked directly with a gateway token.
    const direct = async (kinds: string[]) => {
      const response = await fetch(federation.subgraphs['forensisch-cv'].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await federation.gatewayToken(plaatser)}` },
        body: JSON.stringify({
          query:
            'query($r: [_Any!]!, $kinds: [CvEntryKind!]) { _entities(representations: $r) { ... on Patient { forensicCv { entries(kinds: $kinds) { totalCount } } } } }',
          variables: { r: [{ __typename: 'Patient', id: scenario.patientId }], kinds },
        }),
      });
      return codes((await response.json()) as GraphQLResponse);
    };
    expect(await direct(['OFFENCE'])).toEqual([]);
    expect(await direct(['DIAGNOSIS'])).toEqual([UNAUTHORIZED]);
    expect(await direct([])).toEqual([UNAUTHORIZED]);
  });

  it('never asks a subgraph for a withheld field', async () => {
    // forensisch-cv would answer diagnoses from its database; removed before planning, it sends no statement for them.
    const cv = federation.subgraphs['forensisch-cv'];
    const before = cv.db.statementCount();
    const response = await federation.request(
      'query($id: ID!) { patient(id: $id) { forensicCv { diagnoses { totalCount } } } }',
      { id: scenario.patientId },
      { principal: plaatser },
    );
    expect(unauthorizedPaths(response)).toEqual(['patient.forensicCv.diagnoses']);
    expect(cv.db.statementCount() - before).toBe(0);
  });

  it('answers data: null when an operation asks only for what it may not see', async () => {
    const response = await federation.request(
      'query($id: ID!) { auditTrail(patientId: $id, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") { totalCount } }',
      { id: scenario.patientId },
      { principal: plaatser },
    );
    expect(response.data).toBeNull();
    expect(unauthorizedPaths(response)).toEqual(['auditTrail']);
  });

  it('requires a purpose of use for patient data: 403, never a server error, and the attempt is in the access log', async () => {
    const operation = `NoPurpose${randomUUID().slice(0, 8)}`;
    const answer = await fetch(federation.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await federation.callerToken(principal('plaatser', 'dji-forzo', null))}` },
      body: JSON.stringify({ query: `query ${operation}($id: ID!) { patient(id: $id) { bsn } }`, variables: { id: scenario.patientId } }),
    });
    expect(answer.status).toBe(403);
    const response = (await answer.json()) as GraphQLResponse;
    expect(response.data ?? null).toBeNull();
    expect(codes(response)).toEqual(['PURPOSE_REQUIRED']);
    const trail = await federation.request<{
      auditTrail: { edges: { node: { operationName: string; outcome: string; purpose: string | null; fieldsWithheld: string[] } }[] };
    }>(
      'query($id: ID!) { auditTrail(patientId: $id, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z", first: 100) { edges { node { operationName outcome purpose fieldsWithheld } } } }',
      { id: scenario.patientId },
      { principal: principal('privacy_officer', 'ketengraph-fg') },
    );
    expect(trail.data!.auditTrail.edges.map((e) => e.node).filter((n) => n.operationName === operation)).toEqual([
      { operationName: operation, outcome: 'DENIED', purpose: null, fieldsWithheld: ['Patient.bsn'] },
    ]);
    // Aggregates need none.
    const aggregate = await federation.request('{ freeCapacity { freePlaces } }', {}, { principal: principal('plaatser', 'dji-forzo', null) });
    expect(aggregate.errors).toBeUndefined();
  });

  it('withholds patient data for a purpose the role does not pursue', async () => {
    const response = await federation.request(
      'query($id: ID!) { patient(id: $id) { bsn } }',
      { id: scenario.patientId },
      { principal: principal('plaatser', 'dji-forzo', 'beleid') },
    );
    expect(response.data).toEqual({ patient: { bsn: null } });
    expect(unauthorizedPaths(response)).toEqual(['patient.bsn']);
  });

  it('lists only the patients a provider has a relationship with', async () => {
    const provider = principal('zorgaanbieder', scenario.providers.active);
    const response = await federation.request<{ patients: { totalCount: number; edges: { node: { id: string; bsn: string | null } }[] } }>(
      '{ patients(first: 100) { totalCount edges { node { id bsn } } } }',
      {},
      { principal: provider },
    );
    expect(response.errors).toBeUndefined();
    const ids = response.data!.patients.edges.map((e) => e.node.id);
    expect(ids).toContain(scenario.patientId);
    expect(response.data!.patients.totalCount).toBe(ids.length);
    const all = await federation.request<{ patients: { totalCount: number } }>('{ patients { totalCount } }', {}, { principal: plaatser });
    expect(ids.length).toBeLessThan(all.data!.patients.totalCount);
    expect(response.data!.patients.edges.every((e) => e.node.bsn !== null)).toBe(true);
    // A search by BSN does not reveal a patient outside the relationship.
    const bsn = response.data!.patients.edges.find((e) => e.node.id === scenario.patientId)!.node.bsn;
    const stranger = await federation.request(
      'query($bsn: BSN!) { patientByBsn(bsn: $bsn) { id } }',
      { bsn },
      { principal: principal('zorgaanbieder', scenario.providers.none) },
    );
    expect(stranger.data).toEqual({ patientByBsn: null });
  });

  it('refuses a BSN failing the 11-check at the argument as BAD_USER_INPUT, without repeating it, as variable and as literal', async () => {
    const provider = principal('zorgaanbieder', scenario.providers.active);
    const asVariable = await federation.request('query($bsn: BSN!) { patientByBsn(bsn: $bsn) { id } }', { bsn: '111222334' }, { principal: provider });
    const asLiteral = await federation.request('{ patientByBsn(bsn: "111222334") { id } }', {}, { principal: provider });
    const asString = await federation.request('query($bsn: String!) { patientByBsn(bsn: $bsn) { id } }', { bsn: '111222333' }, { principal: provider });
    for (const response of [asVariable, asLiteral]) {
      expect(response.data ?? undefined).toBeUndefined();
      expect(response.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.message).toMatch(/11-check/);
      expect(JSON.stringify(response)).not.toContain('111222334');
    }
    // The argument is a BSN, not a String: an operation declaring it as String does not validate.
    expect(asString.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it("shows a provider its own placement list and not another provider's", async () => {
    const query = 'query($id: ID!) { provider(id: $id) { name placements(first: 5) { totalCount edges { node { id } } } } }';
    const own = await federation.request<{ provider: { placements: { totalCount: number } } }>(
      query,
      { id: scenario.providers.active },
      { principal: principal('zorgaanbieder', scenario.providers.active) },
    );
    expect(own.data!.provider.placements.totalCount).toBeGreaterThan(0);
    const other = await federation.request<{ provider: { name: string; placements: null } }>(
      query,
      { id: scenario.providers.active },
      { principal: principal('zorgaanbieder', scenario.providers.none) },
    );
    expect(other.data!.provider).toMatchObject({ name: expect.any(String), placements: null });
    expect(unauthorizedPaths(other)).toEqual(['provider.placements']);
  });

  it("leaves placements that ended before the handover period out of a provider's own list", async () => {
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

  describe('relationship filters hold on every page and cursor', () => {
    type Page = {
      patients: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { cursor: string; node: { id: string } }[] };
    };
    const pageQuery =
      'query($first: Int, $after: String) { patients(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }';
    /** Every page of `patients` as this caller, by following endCursor; fails on any error. */
    async function walk(caller: ReturnType<typeof principal>, first: number): Promise<{ ids: string[]; totalCount: number }> {
      const ids: string[] = [];
      let after: string | null = null;
      let totalCount = -1;
      for (let pages = 0; pages < 200; pages++) {
        const response: GraphQLResponse<Page> = await federation.request<Page>(pageQuery, { first, after }, { principal: caller });
        expect(response.errors).toBeUndefined();
        const connection = response.data!.patients;
        totalCount = connection.totalCount;
        ids.push(...connection.edges.map((e) => e.node.id));
        if (!connection.pageInfo.hasNextPage) break;
        after = connection.pageInfo.endCursor;
      }
      return { ids, totalCount };
    }
    const related = async (role: 'zorgaanbieder' | 'reclassering', organisationId: string): Promise<Set<string>> => {
      // Fixture truth from the databases, independent of the code under test's queries.
      if (role === 'reclassering') {
        const rows = await (federation.subgraphs.indicatiestelling.prisma as any).trajectory.findMany({
          where: { probationOrganisation: organisationId, status: 'ACTIVE' },
          select: { patientId: true },
        });
        return new Set(rows.map((r: { patientId: string }) => r.patientId));
      }
      const since = new Date(Date.now() - 90 * 86_400_000);
      const rows = await (federation.subgraphs.plaatsing.prisma as any).placement.findMany({
        where: {
          providerId: organisationId,
          OR: [
            { status: { in: ['REQUESTED', 'INTAKE', 'ACCEPTED', 'DECIDED', 'ADMITTED'] } },
            { status: { in: ['ENDED', 'TRANSFERRED'] }, endedAt: { gte: since } },
          ],
        },
        select: { patientId: true },
      });
      return new Set(rows.map((r: { patientId: string }) => r.patientId));
    };

    it.each([
      ['zorgaanbieder', 'active'],
      ['zorgaanbieder', 'endedRecently'],
      ['zorgaanbieder', 'none'],
      ['reclassering', 'assigned'],
      ['reclassering', 'other'],
    ] as const)('%s (%s): page by page, only related patients, and totalCount is what it may see', async (role, which) => {
      const organisationId =
        role === 'zorgaanbieder'
          ? scenario.providers[which as keyof AccessScenario['providers']]
          : scenario.probation[which as keyof AccessScenario['probation']];
      const caller = principal(role, organisationId);
      const expected = await related(role, organisationId);
      const walked = await walk(caller, 1);
      expect(new Set(walked.ids)).toEqual(expected);
      expect(walked.ids.length).toBe(expected.size);
      expect(walked.totalCount).toBe(expected.size);
    });

    it("refuses another caller's cursor and a forged one as BAD_USER_INPUT", async () => {
      const all = await federation.request<Page>(pageQuery, { first: 3 }, { principal: plaatser });
      const plaatserCursor = all.data!.patients.edges[0]!.cursor;
      const provider = principal('zorgaanbieder', scenario.providers.active);
      const own = await federation.request<Page>(pageQuery, { first: 1 }, { principal: provider });
      const providerCursor = own.data!.patients.edges[0]!.cursor;
      const unrelated = all.data!.patients.edges.map((e) => e.node.id).find((id) => id !== scenario.patientId)!;
      const refusedWith = async (caller: ReturnType<typeof principal>, after: string) => {
        const response = await federation.request(pageQuery, { first: 5, after }, { principal: caller });
        expect(JSON.stringify(response.data ?? null)).not.toContain(unrelated);
        return codes(response);
      };
      // Another caller's cursor: another role, another organisation of the same role, another purpose.
      expect(await refusedWith(provider, plaatserCursor)).toEqual(['BAD_USER_INPUT']);
      expect(await refusedWith(principal('zorgaanbieder', scenario.providers.endedRecently), providerCursor)).toEqual(['BAD_USER_INPUT']);
      expect(await refusedWith(principal('reclassering', scenario.probation.assigned), providerCursor)).toEqual(['BAD_USER_INPUT']);
      expect(await refusedWith(plaatser, providerCursor)).toEqual(['BAD_USER_INPUT']);
      // Forged: the plain encoding of an id, another id under a real tag, garbage.
      const tag = providerCursor.slice(providerCursor.lastIndexOf('.'));
      expect(await refusedWith(provider, Buffer.from(unrelated).toString('base64url'))).toEqual(['BAD_USER_INPUT']);
      expect(await refusedWith(provider, `${Buffer.from(unrelated).toString('base64url')}${tag}`)).toEqual(['BAD_USER_INPUT']);
      expect(await refusedWith(provider, 'AAAA.BBBB')).toEqual(['BAD_USER_INPUT']);
      // A cursor from another page of one's own list is fine.
      const next = await federation.request<Page>(pageQuery, { first: 1, after: providerCursor }, { principal: provider });
      expect(next.errors).toBeUndefined();
    });

    it("probation sees its supervisees' placements in a provider's placement list, page by page, and nothing else", async () => {
      const query =
        'query($id: ID!, $after: String) { provider(id: $id) { placements(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id patient { id } } } } } }';
      type Result = {
        provider: {
          placements: {
            totalCount: number;
            pageInfo: { hasNextPage: boolean; endCursor: string | null };
            edges: { node: { id: string; patient: { id: string } } }[];
          };
        };
      };
      for (const [organisationId, expectPatient] of [
        [scenario.probation.assigned, true],
        [scenario.probation.other, false],
      ] as const) {
        const caller = principal('reclassering', organisationId);
        const supervisees = await related('reclassering', organisationId);
        const patients: string[] = [];
        let after: string | null = null;
        let totalCount = 0;
        for (let pages = 0; pages < 100; pages++) {
          const response: GraphQLResponse<Result> = await federation.request<Result>(query, { id: scenario.providers.active, after }, { principal: caller });
          expect(response.errors).toBeUndefined();
          const connection = response.data!.provider.placements;
          totalCount = connection.totalCount;
          patients.push(...connection.edges.map((e) => e.node.patient.id));
          if (!connection.pageInfo.hasNextPage) break;
          after = connection.pageInfo.endCursor;
        }
        expect(patients.every((id) => supervisees.has(id))).toBe(true);
        expect(patients.includes(scenario.patientId)).toBe(expectPatient);
        expect(totalCount).toBe(patients.length);
      }
    });

    it("pages a provider's own placement list only through its own patients", async () => {
      const providerId = scenario.providers.active;
      const caller = principal('zorgaanbieder', providerId);
      const query =
        'query($id: ID!, $after: String) { provider(id: $id) { placements(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { patient { id } } } } } }';
      type Result = {
        provider: {
          placements: {
            totalCount: number;
            pageInfo: { hasNextPage: boolean; endCursor: string | null };
            edges: { cursor: string; node: { patient: { id: string } } }[];
          };
        };
      };
      const own = await related('zorgaanbieder', providerId);
      const seen: string[] = [];
      let after: string | null = null;
      let totalCount = 0;
      for (let pages = 0; pages < 100; pages++) {
        const response: GraphQLResponse<Result> = await federation.request<Result>(query, { id: providerId, after }, { principal: caller });
        expect(response.errors).toBeUndefined();
        totalCount = response.data!.provider.placements.totalCount;
        seen.push(...response.data!.provider.placements.edges.map((e) => e.node.patient.id));
        if (!response.data!.provider.placements.pageInfo.hasNextPage) break;
        after = response.data!.provider.placements.pageInfo.endCursor;
      }
      expect(seen.length).toBe(totalCount);
      expect(seen.every((id) => own.has(id))).toBe(true);
      // The plaatser's cursor on the same list means nothing to the provider.
      const plaatserPage = await federation.request<Result>(query, { id: providerId, after: null }, { principal: plaatser });
      const foreign = await federation.request(
        query,
        { id: providerId, after: plaatserPage.data!.provider.placements.pageInfo.endCursor },
        { principal: caller },
      );
      expect(codes(foreign)).toEqual(['BAD_USER_INPUT']);
    });
  });

  it('withholds the fields of a trajectory without placements or handovers from an unrelated provider, instead of answering empty', async () => {
    const indicatiestelling = federation.subgraphs.indicatiestelling.prisma as any;
    const trajectoryId = randomUUID();
    await indicatiestelling.trajectory.create({
      data: {
        id: trajectoryId,
        patientId: scenario.patientId,
        legalTitle: 'TBS_DWANGVERPLEGING',
        titleStartsOn: new Date('2025-01-01'),
        currentCareType: 'KLINISCH',
        currentSecurityLevel: 3,
      },
    });
    const query =
      'query($id: ID!) { trajectory(id: $id) { id placements { totalCount } handovers { totalCount } handoverQuality { handoverCount averageCompleteness } } }';
    const stranger = await federation.request<{ trajectory: Record<string, unknown> }>(
      query,
      { id: trajectoryId },
      { principal: principal('zorgaanbieder', scenario.providers.none) },
    );
    expect(stranger.data!.trajectory).toEqual({ id: trajectoryId, placements: null, handovers: null, handoverQuality: null });
    expect(unauthorizedPaths(stranger)).toEqual(['trajectory.handoverQuality', 'trajectory.handovers', 'trajectory.placements']);
    // The patient's own provider: the same trajectory answers empty, because empty is the truth there.
    const own = await federation.request<{ trajectory: Record<string, unknown> }>(
      query,
      { id: trajectoryId },
      { principal: principal('zorgaanbieder', scenario.providers.active) },
    );
    expect(own.errors).toBeUndefined();
    expect(own.data!.trajectory).toEqual({
      id: trajectoryId,
      placements: { totalCount: 0 },
      handovers: { totalCount: 0 },
      handoverQuality: { handoverCount: 0, averageCompleteness: null },
    });
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
    // registerPatient returns Patient!: refused it must still be null, not null its parent. A provider holds the
    // indicatie:write scope (to scale care) but is no indication body: the write rules refuse it (FORBIDDEN).
    const input = { bsn: '999990032', givenName: 'Gemengde', familyName: 'Mutatie', birthDate: '1991-02-03' };
    const mutation =
      'mutation($input: RegisterPatientInput!, $placementId: ID!) { startIntake(placementId: $placementId) { id status } registerPatient(input: $input) { id } }';
    const placement = await (federation.subgraphs.plaatsing.prisma as any).placement.findFirst({ where: { status: 'REQUESTED' }, orderBy: { id: 'asc' } });
    const mixed = await federation.request<{ startIntake: { id: string; status: string }; registerPatient: null }>(
      mutation,
      { input, placementId: placement.id },
      { principal: principal('zorgaanbieder', placement.providerId) },
    );
    expect(mixed.data).toEqual({ startIntake: { id: placement.id, status: 'INTAKE' }, registerPatient: null });
    expect(mixed.errors!.map((e) => [e.path, e.extensions?.code])).toEqual([[['registerPatient'], 'FORBIDDEN']]);
    expect(await (federation.subgraphs.indicatiestelling.prisma as any).patient.count({ where: { bsn: input.bsn } })).toBe(0);
    // And the schema promises it: no mutation that needs a scope is non-null in the supergraph.
    const mutations = parse(readFileSync(SUPERGRAPH_FILE, 'utf8')).definitions.filter(
      (d): d is ObjectTypeDefinitionNode | ObjectTypeExtensionNode =>
        (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) && d.name.value === 'Mutation',
    );
    const scoped = mutations.flatMap((m) => m.fields ?? []).filter((f) => f.directives?.some((d) => d.name.value === 'requiresScopes'));
    expect(scoped.length).toBeGreaterThan(10);
    expect(scoped.filter((f) => f.type.kind === Kind.NON_NULL_TYPE).map((f) => f.name.value)).toEqual([]);
  });

  it('writes audit records per read that the privacy officer (and only they) can read back', async () => {
    const operation = `Read${randomUUID().slice(0, 8)}`;
    await federation.request(
      `query ${operation}($id: ID!) { patient(id: $id) { bsn forensicCv { diagnoses { totalCount } riskAssessments { totalCount } } } }`,
      { id: scenario.patientId },
      { principal: plaatser },
    );
    const trail = await federation.request<{ auditTrail: { edges: { node: Record<string, unknown> }[] } }>(
      'query($id: ID!) { auditTrail(patientId: $id, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z", first: 100) { edges { node { operationName action userId organisationId role purpose fieldsDelivered categoriesDelivered fieldsWithheld categoriesWithheld outcome } } } }',
      { id: scenario.patientId },
      { principal: principal('privacy_officer', 'ketengraph-fg') },
    );
    expect(trail.errors).toBeUndefined();
    const record = trail.data!.auditTrail.edges.map((e) => e.node).find((node) => node.operationName === operation);
    expect(record).toEqual({
      operationName: operation,
      action: 'READ',
      userId: 'plaatser-user',
      organisationId: 'dji-forzo',
      role: 'plaatser',
      purpose: 'plaatsing',
      fieldsDelivered: ['ForensicCv.riskAssessments', 'Patient.bsn'],
      categoriesDelivered: ['identity', 'risk'],
      fieldsWithheld: ['ForensicCv.diagnoses'],
      categoriesWithheld: ['medical'],
      outcome: 'PARTIALLY_GRANTED',
    });
    // No data values in the log: the BSN itself is nowhere in the record.
    expect(JSON.stringify(record)).not.toMatch(/\d{9}/);
  });

  describe('the access log holds every attempt, per patient', () => {
    type TrailNode = {
      operationName: string | null;
      action: string;
      outcome: string;
      fieldsDelivered: string[];
      fieldsWithheld: string[];
      organisationId: string;
    };
    const trailOf = async (patientId: string, operationName: string): Promise<TrailNode[]> => {
      const trail = await federation.request<{ auditTrail: { edges: { node: TrailNode }[] } }>(
        'query($id: ID!) { auditTrail(patientId: $id, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z", first: 100) { edges { node { operationName action outcome fieldsDelivered fieldsWithheld organisationId } } } }',
        { id: patientId },
        { principal: principal('privacy_officer', 'ketengraph-fg') },
      );
      expect(trail.errors).toBeUndefined();
      return trail.data!.auditTrail.edges.map((e) => e.node).filter((n) => n.operationName === operationName);
    };

    it("records a read refused entirely (placement(id) of another provider's patient) for the patient asked for, without telling the caller whose it is", async () => {
      const placement = await (federation.subgraphs.plaatsing.prisma as any).placement.findFirst({
        where: { patientId: scenario.patientId, providerId: scenario.providers.active },
      });
      const operation = `Refused${randomUUID().slice(0, 8)}`;
      const response = await federation.request<{ placement: unknown }>(
        `query ${operation}($id: ID!) { placement(id: $id) { status careType provider { id } } }`,
        { id: placement.id },
        { principal: principal('zorgaanbieder', scenario.providers.none) },
      );
      expect(response.data?.placement ?? null).toBeNull();
      expect(codes(response).every((code) => code === UNAUTHORIZED)).toBe(true);
      expect(JSON.stringify(response)).not.toContain(scenario.patientId);
      expect(JSON.stringify(response)).not.toContain('kg__');
      const records = await trailOf(scenario.patientId, operation);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ action: 'READ', outcome: 'DENIED', fieldsDelivered: [], organisationId: scenario.providers.none });
      expect(records[0]!.fieldsWithheld).toEqual(expect.arrayContaining(['Placement.status']));
    });

    it("records a placement(id) refused before execution (a role with no placement data) for the placement's patient", async () => {
      const placement = await (federation.subgraphs.plaatsing.prisma as any).placement.findFirst({ where: { patientId: scenario.patientId } });
      const operation = `Inspect${randomUUID().slice(0, 8)}`;
      const response = await federation.request(
        `query ${operation}($id: ID!) { placement(id: $id) { status } }`,
        { id: placement.id },
        { principal: principal('inspectie', 'igj') },
      );
      expect(response.data).toBeNull();
      expect(unauthorizedPaths(response)).toEqual(['placement']);
      expect(JSON.stringify(response)).not.toContain(scenario.patientId);
      expect(await trailOf(scenario.patientId, operation)).toEqual([
        expect.objectContaining({ action: 'READ', outcome: 'DENIED', fieldsDelivered: [], fieldsWithheld: ['Query.placement'], organisationId: 'igj' }),
      ]);
    });

    it("records a patientByBsn refused before execution (a role with no identity data) for the BSN's patient, telling the caller nothing", async () => {
      const patient = await (federation.subgraphs.indicatiestelling.prisma as any).patient.findUnique({ where: { id: scenario.patientId } });
      const operation = `Search${randomUUID().slice(0, 8)}`;
      const response = await federation.request(
        `query ${operation}($bsn: BSN!) { patientByBsn(bsn: $bsn) { id } }`,
        { bsn: patient.bsn },
        { principal: principal('inspectie', 'igj') },
      );
      expect(response.data).toBeNull();
      expect(unauthorizedPaths(response)).toEqual(['patientByBsn']);
      expect(JSON.stringify(response)).not.toContain(scenario.patientId);
      expect(await trailOf(scenario.patientId, operation)).toEqual([
        expect.objectContaining({ outcome: 'DENIED', fieldsDelivered: [], fieldsWithheld: ['Query.patientByBsn'], organisationId: 'igj' }),
      ]);
    });

    it('keeps the audit identifier internal: patientsByBsn is not in the public graph, and a subgraph answers it only to that identity', async () => {
      const patient = await (federation.subgraphs.indicatiestelling.prisma as any).patient.findUnique({ where: { id: scenario.patientId } });
      const viaGateway = await federation.request('query($b: [BSN!]!) { patientsByBsn(bsns: $b) }', { b: [patient.bsn] }, { principal: plaatser });
      expect(codes(viaGateway)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      const direct = await fetch(federation.subgraphs.indicatiestelling.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await federation.gatewayToken(plaatser)}` },
        body: JSON.stringify({ query: 'query($b: [BSN!]!) { patientsByBsn(bsns: $b) }', variables: { b: [patient.bsn] } }),
      });
      const answer = (await direct.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
      expect(answer.errors?.map((e) => e.extensions?.code)).toEqual([UNAUTHORIZED]);
      expect(JSON.stringify(answer)).not.toContain(scenario.patientId);
    });

    it('answers an unknown placement(id) the same as a known one to a role that may not see placements (no existence oracle)', async () => {
      const placement = await (federation.subgraphs.plaatsing.prisma as any).placement.findFirst({ where: { patientId: scenario.patientId } });
      const inspectie = principal('inspectie', 'igj');
      const ask = (id: string) => federation.request('query($id: ID!) { placement(id: $id) { status } }', { id }, { principal: inspectie });
      const [known, unknown] = await Promise.all([ask(placement.id), ask('kg-unknown-placement')]);
      expect(unknown).toEqual(known);
      expect(unauthorizedPaths(unknown)).toEqual(['placement']);
      // A caller who could see it is told it does not exist.
      const plaatsing = await federation.request('query($id: ID!) { placement(id: $id) { status } }', { id: 'kg-unknown-placement' }, { principal: plaatser });
      expect(plaatsing.data).toEqual({ placement: null });
      expect(plaatsing.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([['NOT_FOUND', ['placement']]]);
    });

    it('records one search record per patient of a list, even when only ids were asked for', async () => {
      const operation = `Ids${randomUUID().slice(0, 8)}`;
      const response = await federation.request<{ patients: { edges: { node: { id: string } }[] } }>(
        `query ${operation} { patients(first: 100) { edges { node { id } } } }`,
        {},
        { principal: principal('zorgaanbieder', scenario.providers.active) },
      );
      const ids = response.data!.patients.edges.map((e) => e.node.id);
      expect(ids).toContain(scenario.patientId);
      for (const id of ids.slice(0, 3)) {
        const records = await trailOf(id, operation);
        expect(records, id).toHaveLength(1);
        expect(records[0]).toMatchObject({ action: 'SEARCH', outcome: 'GRANTED', fieldsDelivered: ['Query.patients'] });
      }
    });
  });

  it('audits a refused relationship read as withheld for that patient', async () => {
    const operation = `Stranger${randomUUID().slice(0, 8)}`;
    const response = await federation.request(
      `query ${operation}($id: ID!) { patient(id: $id) { bsn } }`,
      { id: scenario.patientId },
      { principal: principal('zorgaanbieder', scenario.providers.none) },
    );
    expect(unauthorizedPaths(response)).toEqual(['patient.bsn']);
    const trail = await federation.request<{ auditTrail: { edges: { node: { operationName: string; outcome: string; fieldsWithheld: string[] } }[] } }>(
      'query($id: ID!) { auditTrail(patientId: $id, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z", first: 100) { edges { node { operationName outcome fieldsWithheld } } } }',
      { id: scenario.patientId },
      { principal: principal('privacy_officer', 'ketengraph-fg') },
    );
    expect(trail.data!.auditTrail.edges.map((e) => e.node).find((n) => n.operationName === operation)).toEqual({
      operationName: operation,
      outcome: 'DENIED',
      fieldsWithheld: ['Patient.bsn'],
    });
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
    const refused = await federation.request(
      'query($id: ID!) { patient(id: $id) { bsn forensicCv { diagnoses { totalCount } } } }',
      { id: scenario.patientId },
      { principal: plaatser },
    );
    expect(refused.data).toBeNull();
    expect(unauthorizedPaths(refused)).toEqual(['patient.forensicCv.diagnoses']);
    const allowed = await federation.request<{ patient: { bsn: string } }>(
      'query($id: ID!) { patient(id: $id) { bsn } }',
      { id: scenario.patientId },
      { principal: plaatser },
    );
    expect(allowed.data!.patient.bsn).toMatch(/^\d{9}$/);
  });

  it('records an operation refused before execution for the patient it named', async () => {
    const operation = `Rejected${randomUUID().slice(0, 8)}`;
    const refused = await federation.request(
      `query ${operation}($id: ID!) { patient(id: $id) { bsn forensicCv { diagnoses { totalCount } } } }`,
      { id: scenario.patientId },
      { principal: principal('plaatser', 'dji-forzo') },
    );
    expect(refused.data).toBeNull();
    const trail = await federation.request<{ auditTrail: { edges: { node: { operationName: string; outcome: string; fieldsWithheld: string[] } }[] } }>(
      'query($id: ID!) { auditTrail(patientId: $id, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z", first: 100) { edges { node { operationName outcome fieldsWithheld } } } }',
      { id: scenario.patientId },
      { principal: principal('privacy_officer', 'ketengraph-fg') },
    );
    expect(trail.data!.auditTrail.edges.map((e) => e.node).filter((n) => n.operationName === operation)).toEqual([
      { operationName: operation, outcome: 'DENIED', fieldsWithheld: ['ForensicCv.diagnoses'] },
    ]);
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
