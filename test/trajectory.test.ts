import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatientsTrajectoriesDocument, PatientTrajectoryDocument, type PatientTrajectoryQuery } from './generated/operations.js';
import { startFederation, type Federation } from './support/federation.js';
import { execute } from './support/operations.js';

type Patient = NonNullable<PatientTrajectoryQuery['patient']>;
type Trajectory = NonNullable<Patient['trajectories']>['edges'][number]['node'];

/** The whole trajectory of a patient in one request, through the real gateway and all four subgraphs. */
describe('whole-trajectory query through the gateway', () => {
  let federation: Federation;
  beforeAll(async () => {
    federation = await startFederation({ seedPatients: 40 });
  });
  afterAll(() => federation?.close());

  async function patientIds(first: number): Promise<string[]> {
    const result = await federation.request<{ patients: { edges: { node: { id: string } }[] } }>(
      'query($first: Int) { patients(first: $first) { edges { node { id } } } }',
      { first },
    );
    return result.data!.patients.edges.map((edge) => edge.node.id);
  }

  it('returns identity, trajectories, placements with providers, CV and handover quality, from every subgraph', async () => {
    // Pick a patient with an admitted placement so that every part of the query has data.
    const ids = await patientIds(40);
    const isAdmitted = (trajectory: Trajectory) => trajectory.placements!.edges.some((edge) => edge.node?.status === 'ADMITTED');
    let found: Patient | undefined;
    for (const id of ids) {
      const result = await execute(federation, PatientTrajectoryDocument, { id });
      expect(result.errors).toBeUndefined();
      const trajectories = result.data!.patient!.trajectories!.edges.map((edge) => edge.node);
      if (trajectories.some((trajectory) => isAdmitted(trajectory) && trajectory.handoverQuality!.handoverCount > 0)) {
        found = result.data!.patient!;
        break;
      }
    }
    expect(found).toBeDefined();
    const patient = found!;
    expect(patient.bsn).toMatch(/^\d{9}$/); // indicatiestelling
    expect(patient.name!.full.length).toBeGreaterThan(0);
    const trajectory = patient.trajectories!.edges.map((edge) => edge.node).find(isAdmitted)!;
    expect(trajectory.legalTitle!.kind).toBeTruthy();
    expect(trajectory.indications!.edges.length).toBeGreaterThan(0);
    const admitted = trajectory.placements!.edges.map((edge) => edge.node!).find((placement) => placement.status === 'ADMITTED')!; // plaatsing
    expect(admitted.provider.name).toBeTruthy();
    expect(admitted.provider.capacity.length).toBeGreaterThan(0);
    expect(admitted.provider.latestQualityReport!.pillarScores).toHaveLength(5); // kwaliteit via Provider
    expect(admitted.waitingDays).toBeGreaterThanOrEqual(0);
    expect(trajectory.handoverQuality!.averageCompleteness).toBeGreaterThan(0); // kwaliteit via Trajectory
    expect(patient.forensicCv!.riskAssessments!.edges.length).toBeGreaterThan(0); // forensisch-cv

    // One SQL statement per subgraph fetch of the plan (indicatiestelling, then plaatsing, forensisch-cv and kwaliteit
    // for the trajectories, then kwaliteit for the providers): related rows come with their parents (loaders.ts).
    const before = federation.statementCount();
    expect((await execute(federation, PatientTrajectoryDocument, { id: patient.id })).errors).toBeUndefined();
    expect(federation.statementCount() - before).toBe(5);
  });

  it('agrees with each subgraph about the same patient (ids join across subgraphs)', async () => {
    const [id] = await patientIds(1);
    const viaGateway = await federation.request<{
      patient: { trajectories: { edges: { node: { id: string; placements: { edges: { node: { id: string } }[] } } }[] } };
    }>('query($id: ID!) { patient(id: $id) { trajectories { edges { node { id placements { edges { node { id } } } } } } } }', { id });
    const direct = await fetch(federation.subgraphs.plaatsing.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await federation.gatewayToken()}` },
      body: JSON.stringify({
        query: 'query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Patient { placements { edges { node { id } } } } } }',
        variables: { reps: [{ __typename: 'Patient', id }] },
      }),
    }).then((r) => r.json() as Promise<{ data: { _entities: { placements: { edges: { node: { id: string } }[] } }[] } }>);
    const viaGatewayIds = viaGateway.data!.patient.trajectories.edges.flatMap((t) => t.node.placements.edges.map((p) => p.node.id)).sort();
    const directIds = direct.data._entities[0]!.placements.edges.map((p) => p.node.id).sort();
    expect(viaGatewayIds).toEqual(directIds);
    expect(directIds.length).toBeGreaterThan(0);
  });

  it('sends the same number of SQL statements for 2 patients as for 20 (DataLoader batching across the federation)', async () => {
    const count = async (first: number) => {
      const before = federation.statementCount();
      const result = await execute(federation, PatientsTrajectoriesDocument, { first });
      expect(result.errors).toBeUndefined();
      return federation.statementCount() - before;
    };
    await count(2); // warm caches that are not per request (none expected, but keep the comparison fair)
    const few = await count(2);
    const many = await count(20);
    expect(few).toBeGreaterThan(0);
    expect(many).toBe(few);
  });

  it('returns null with NOT_FOUND at the path for an unknown patient', async () => {
    const result = await execute(federation, PatientTrajectoryDocument, { id: 'no-such-patient' });
    expect(result.errors?.map((e) => [e.extensions?.code, e.path, e.message])).toEqual([['NOT_FOUND', ['patient'], 'No patient has this id.']]);
    expect(result.data).toEqual({ patient: null });
  });
});
