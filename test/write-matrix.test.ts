import { loadAccessPolicy } from '@ketengraph/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from './support/federation.js';
import { careKindsOf, casesOf, cv, ind, kw, MUTATIONS, pl, placementStatus, runCell } from './support/write-matrix.js';
import { createWriteFixture, ISSUER, pickProviders, principalFor, requestAs, today } from './support/write-scenario.js';

const policy = loadAccessPolicy();

/**
 * The write-access matrix, generated from `writeRules` in schema/access-policy.json: every
 * mutation × every role × each relationship its organisation can have with the patient (none,
 * addressed, receiving, sending, assigned, issuing, placing, ended long ago), each on a fresh
 * patient through the real gateway and subgraphs. Each cell asserts the step was applied or
 * refused (FORBIDDEN) exactly as the rules say, re-reads the state from the owning database,
 * and finds the step's record with its outcome in the access log.
 */
describe('write-access matrix (generated from writeRules in schema/access-policy.json)', () => {
  let federation: Federation;
  let providers: Awaited<ReturnType<typeof pickProviders>>;
  const counts = { applied: 0, refused: 0 };
  beforeAll(async () => {
    federation = await startFederation({ seedPatients: 8 });
    providers = await pickProviders(federation);
  });
  afterAll(async () => {
    await federation?.close();
  });

  it('covers every mutation that has a write rule', () => {
    expect(MUTATIONS.map((m) => `Mutation.${m.name}`).sort()).toEqual(Object.keys(policy.writeRules).sort());
  });

  for (const mutation of MUTATIONS) {
    it(`${mutation.name} × every role × every relationship`, async () => {
      for (const role of Object.keys(policy.roles)) {
        for (const careType of careKindsOf(mutation, role)) {
          for (const kase of casesOf(role, providers.KLINISCH)) {
            if (await runCell(federation, providers, mutation, role, kase, careType)) counts.applied++;
            else counts.refused++;
          }
        }
      }
    });
  }

  it('admission re-checks the placement against the bounds as they are then: a level-4 request after scaling the phase to at most 2 is INDICATION_MISMATCH', async () => {
    const fixture = await createWriteFixture(federation, providers, 'KLINISCH', 'DECIDED');
    await ind(federation).trajectoryPhase.updateMany({
      where: { trajectoryIndication: { trajectoryId: fixture.trajectoryId }, ordinal: 1 },
      data: { minSecurityLevel: 1, maxSecurityLevel: 2 },
    });
    const { response } = await requestAs(
      federation,
      principalFor('zorgaanbieder', fixture.providers.addressed),
      'mutation($id: ID!, $on: Date!) { admitPatient(placementId: $id, admittedOn: $on) { status } }',
      { id: fixture.placementId, on: today() },
    );
    expect(response.errors?.map((e) => e.extensions?.code)).toEqual(['INDICATION_MISMATCH']);
    expect(await placementStatus(federation, fixture)).toBe('DECIDED');
  });

  it('answers NOT_FOUND for references that do not exist, and changes nothing: a transfer to an unknown provider, a CV entry for an unknown patient, a handover for an unknown trajectory', async () => {
    const fixture = await createWriteFixture(federation, providers, 'KLINISCH', 'ADMITTED');
    const transfer = await requestAs(
      federation,
      principalFor('plaatser', 'dji-forzo'),
      'mutation($id: ID!, $to: ID!, $on: Date!) { transferPlacement(placementId: $id, toProviderId: $to, transferredOn: $on) { id } }',
      { id: fixture.placementId, to: 'no-such-provider', on: today() },
    );
    expect(transfer.response.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(await placementStatus(federation, fixture)).toBe('ADMITTED');
    const entries = await cv(federation).cvEntry.count();
    const entry = await requestAs(
      federation,
      principalFor('indicatiesteller', ISSUER),
      'mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { id } }',
      { input: { patientId: 'no-such-patient', occurredOn: today(), incidentType: 'AGRESSIE_VERBAAL', severity: 'LICHT', description: 'x' } },
    );
    expect(entry.response.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(await cv(federation).cvEntry.count()).toBe(entries);
    const handovers = await kw(federation).handover.count();
    const handover = await requestAs(
      federation,
      principalFor('zorgaanbieder', fixture.providers.receiving),
      'mutation($input: RecordHandoverInput!) { recordHandover(input: $input) { id } }',
      {
        input: {
          trajectoryId: 'no-such-trajectory',
          patientId: fixture.patientId,
          toProviderId: fixture.providers.receiving,
          handedOverOn: today(),
          items: ['SETTING'],
        },
      },
    );
    expect(handover.response.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(await kw(federation).handover.count()).toBe(handovers);
    // Each refusal is in the access log.
    for (const { requestId } of [transfer, entry, handover])
      expect((await federation.gateway.audit.ofRequest(requestId)).map((r) => r.outcome)).toEqual(['error']);
  });

  it('lets no organisation grant itself a relationship and then read: a probation organisation naming itself supervisor, a provider addressing a request or a transfer to itself', async () => {
    const fixture = await createWriteFixture(federation, providers, 'KLINISCH', 'ADMITTED');
    const identity = 'query($id: ID!) { patient(id: $id) { bsn } }';
    const svg = principalFor('reclassering', 'SVG');
    const open = await requestAs(federation, svg, 'mutation($input: OpenTrajectoryInput!) { openTrajectory(input: $input) { id } }', {
      input: {
        patientId: fixture.patientId,
        legalTitle: 'TBS_VOORWAARDEN',
        titleStartsOn: today(),
        probationOrganisation: 'SVG',
        careType: 'KLINISCH',
        securityLevel: 3,
      },
    });
    expect(open.response.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(open.response.errors![0]!.extensions?.reason).toBe('role');
    const stranger = principalFor('zorgaanbieder', fixture.providers.none);
    const request = await requestAs(federation, stranger, 'mutation($input: RequestPlacementInput!) { requestPlacement(input: $input) { id } }', {
      input: { patientId: fixture.patientId, trajectoryId: fixture.trajectoryId, providerId: fixture.providers.none, careType: 'KLINISCH', securityLevel: 4 },
    });
    expect(request.response.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const transfer = await requestAs(
      federation,
      stranger,
      'mutation($id: ID!, $to: ID!, $on: Date!) { transferPlacement(placementId: $id, toProviderId: $to, transferredOn: $on) { id } }',
      { id: fixture.placementId, to: fixture.providers.none, on: today() },
    );
    expect(transfer.response.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(transfer.response.errors![0]!.extensions?.reason).toBe('relationship');
    expect(await ind(federation).trajectory.count({ where: { patientId: fixture.patientId } })).toBe(1);
    expect(await pl(federation).placement.count({ where: { patientId: fixture.patientId, providerId: fixture.providers.none } })).toBe(0);
    for (const who of [svg, stranger]) {
      const read = await requestAs<{ patient: { bsn: string | null } }>(federation, who, identity, { id: fixture.patientId });
      expect(read.response.data?.patient?.bsn ?? null).toBeNull();
      expect(read.response.errors?.map((e) => e.extensions?.code)).toContain('UNAUTHORIZED_FIELD_OR_TYPE');
    }
  });

  it('answers a change that was applied with its result, never as withheld: the provider that transfers its patient onward sees the new placement', async () => {
    const fixture = await createWriteFixture(federation, providers, 'KLINISCH', 'ADMITTED');
    await pl(federation).placement.update({
      where: { id: fixture.placementId },
      data: { requestedAt: new Date(Date.now() - 400 * 86_400_000), admittedAt: new Date(Date.now() - 300 * 86_400_000) },
    });
    const transferredOn = new Date(Date.now() - 200 * 86_400_000).toISOString().slice(0, 10);
    const { response } = await requestAs<{ transferPlacement: { status: string; provider: { id: string } } }>(
      federation,
      principalFor('zorgaanbieder', fixture.providers.addressed),
      'mutation($id: ID!, $to: ID!, $on: Date!) { transferPlacement(placementId: $id, toProviderId: $to, transferredOn: $on) { status provider { id } } }',
      { id: fixture.placementId, to: fixture.providers.receiving, on: transferredOn },
    );
    // Backdated beyond the handover period: the sending provider's read relationship is over, yet it sees what it did.
    expect(response.errors).toBeUndefined();
    expect(response.data!.transferPlacement).toEqual({ status: 'ADMITTED', provider: { id: fixture.providers.receiving } });
  });

  it('applied and refused cells both occurred', () => {
    expect(counts.applied).toBeGreaterThan(25);
    expect(counts.refused).toBeGreaterThan(200);
  });
});
