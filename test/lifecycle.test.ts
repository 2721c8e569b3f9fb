import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from './support/federation.js';
import { PatientTrajectoryDocument } from './generated/operations.js';
import { clinicalTrajectoryInput, execute, OPEN_CLINICAL_TRAJECTORY } from './support/operations.js';
import { DJI, NIFP, placementActor, probation, provider as asProvider } from './support/actors.js';
import type { Principal } from '@ketengraph/service-kit';

/**
 * A new patient's path through the chain, every step a mutation through the gateway, each
 * routed to the subgraph that owns it; the whole trajectory query then shows all of it.
 */
describe('a trajectory from registration to admission, through the gateway', () => {
  let federation: Federation;
  beforeAll(async () => {
    federation = await startFederation({ seedPatients: 5 });
  });
  afterAll(() => federation?.close());

  async function ok<T>(query: string, variables?: Record<string, unknown>, principal: Principal = NIFP): Promise<T> {
    const result = await federation.request<T>(query, variables, { principal });
    expect(result.errors).toBeUndefined();
    return result.data!;
  }

  async function code(query: string, variables?: Record<string, unknown>, principal: Principal = NIFP): Promise<string | undefined> {
    const result = await federation.request(query, variables, { principal });
    return result.errors?.[0]?.extensions?.code;
  }

  const today = new Date().toISOString().slice(0, 10);

  it('registers, indicates, places, admits, records CV and handover, and refuses what breaks the rules', async () => {
    const { registerPatient: patient } = await ok<{ registerPatient: { id: string } }>(
      'mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { id } }',
      { input: { bsn: '999990019', givenName: 'Test', familyName: 'Patiënt', birthDate: '1990-05-01' } },
    );
    const { openTrajectory: trajectory } = await ok<{ openTrajectory: { id: string } }>(OPEN_CLINICAL_TRAJECTORY, clinicalTrajectoryInput(patient.id));
    await ok('mutation($input: IssueTrajectoryIndicationInput!) { issueTrajectoryIndication(input: $input) { id } }', {
      input: {
        trajectoryId: trajectory.id,
        issuer: 'NIFP',
        issuedOn: '2026-01-10',
        phases: [
          { name: 'Klinische behandeling', minSecurityLevel: 4, maxSecurityLevel: 5, careTypes: ['KLINISCH'] },
          { name: 'Resocialisatie', minSecurityLevel: 2, maxSecurityLevel: 4, careTypes: ['KLINISCH', 'VERBLIJF'] },
        ],
      },
    });

    // A provider offering KLINISCH at level 4 with a free place.
    const { providers } = await ok<{ providers: { edges: { node: { id: string } }[] } }>(
      '{ providers(first: 1, filter: { careType: KLINISCH, securityLevel: 4, hasFreePlaces: true }) { edges { node { id } } } }',
    );
    const providerId = providers.edges[0]!.node.id;
    const request = (securityLevel: number) =>
      federation.request<{ requestPlacement: { id: string; status: string } }>(
        'mutation($input: RequestPlacementInput!) { requestPlacement(input: $input) { id status } }',
        { input: { trajectoryId: trajectory.id, patientId: patient.id, providerId, careType: 'KLINISCH', securityLevel } },
        { principal: DJI },
      );
    expect((await request(3)).errors?.[0]?.extensions?.code).toBe('INDICATION_MISMATCH');
    const placement = (await request(4)).data!.requestPlacement;
    expect(placement.status).toBe('REQUESTED');

    const treating = asProvider(providerId);
    expect(
      await code('mutation($id: ID!, $on: Date!) { admitPatient(placementId: $id, admittedOn: $on) { id } }', { id: placement.id, on: today }, treating),
    ).toBe('INVALID_TRANSITION');
    for (const step of ['startIntake', 'acceptPlacement', 'decidePlacement']) {
      await ok(`mutation($id: ID!) { ${step}(placementId: $id) { status } }`, { id: placement.id }, await placementActor(federation, step, placement.id));
    }
    await ok('mutation($id: ID!, $on: Date!) { admitPatient(placementId: $id, admittedOn: $on) { status } }', { id: placement.id, on: today }, treating);

    // Scaling inside phase 1 is the treating provider's (or the supervising probation organisation's) decision; outside it needs a re-indication.
    await ok(
      'mutation($input: RecordScalingDecisionInput!) { recordScalingDecision(input: $input) { id } }',
      {
        input: { trajectoryId: trajectory.id, careType: 'KLINISCH', securityLevel: 5, reason: 'Verhoogd risico na incident' },
      },
      treating,
    );
    expect(
      await code(
        'mutation($input: RecordScalingDecisionInput!) { recordScalingDecision(input: $input) { id } }',
        {
          input: { trajectoryId: trajectory.id, careType: 'VERBLIJF', securityLevel: 2, reason: 'Afschalen' },
        },
        probation('RECLASSERING_NEDERLAND'),
      ),
    ).toBe('REINDICATION_REQUIRED');

    await ok(
      'mutation($input: RecordRiskAssessmentInput!) { recordRiskAssessment(input: $input) { id } }',
      {
        input: {
          patientId: patient.id,
          occurredOn: today,
          instrument: 'HCR_20V3',
          outcomeLevel: 'HOOG',
          riskFactors: ['impulsiviteit'],
          protectiveFactors: ['dagbesteding'],
        },
      },
      treating,
    );
    await ok(
      'mutation($input: RecordHandoverInput!) { recordHandover(input: $input) { id } }',
      {
        input: {
          trajectoryId: trajectory.id,
          patientId: patient.id,
          toProviderId: providerId,
          handedOverOn: today,
          items: ['SETTING', 'POPULATION', 'RESPONSIVITY'],
        },
      },
      treating,
    );

    const result = await execute(federation, PatientTrajectoryDocument, { id: patient.id }, { principal: NIFP });
    expect(result.errors).toBeUndefined();
    const t = result.data!.patient!.trajectories!.edges[0]!.node;
    expect(t.currentSecurityLevel).toBe(5);
    expect(t.placements!.edges[0]!.node).toMatchObject({ status: 'ADMITTED', securityLevel: 4, provider: { id: providerId } });
    expect(t.handoverQuality).toEqual({ handoverCount: 1, averageCompleteness: 0.25, mostOftenMissing: expect.any(Array) });
    expect(result.data!.patient!.forensicCv!.riskAssessments!.edges[0]!.node).toMatchObject({ instrument: 'HCR_20V3', outcomeLevel: 'HOOG' });
  });
});
