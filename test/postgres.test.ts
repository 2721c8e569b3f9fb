import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from './support/federation.js';
import { PatientsTrajectoriesDocument, PatientTrajectoryDocument } from './generated/operations.js';
import { execute } from './support/operations.js';
import { createDatabases, postgresUrl } from './support/postgres.js';
import { loadAccessPolicy } from '@ketengraph/service-kit';
import { probation } from './support/actors.js';
import { careKindsOf, casesOf, MUTATIONS, runCell } from './support/write-matrix.js';
import { pickProviders } from './support/write-scenario.js';

/**
 * Production runs the subgraphs on PostgreSQL (DATABASE_URL): the same migrations, seed and
 * queries as on the embedded database. `.ci/run` starts a server and sets TEST_DATABASE_URL.
 */
describe.skipIf(!postgresUrl)('the federation on PostgreSQL', () => {
  let federation: Federation;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const databases = await createDatabases(['indicatiestelling', 'plaatsing', 'forensisch-cv', 'kwaliteit'] as const);
    drop = databases.drop;
    federation = await startFederation({ seedPatients: 30, databaseUrls: databases.urls });
  });
  afterAll(async () => {
    await federation?.close();
    await drop?.();
  });

  it('migrates, seeds and answers the whole-trajectory query', async () => {
    const ids = await federation.request<{ patients: { totalCount: number; edges: { node: { id: string } }[] } }>(
      '{ patients(first: 5) { totalCount edges { node { id } } } }',
    );
    expect(ids.data!.patients.totalCount).toBe(30);
    const result = await execute(federation, PatientTrajectoryDocument, { id: ids.data!.patients.edges[0]!.node.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.patient!.trajectories!.totalCount).toBeGreaterThan(0);
  });

  it('keeps SQL statements per request independent of the page size', async () => {
    const count = async (first: number) => {
      const before = federation.statementCount();
      const result = await execute(federation, PatientsTrajectoriesDocument, { first });
      expect(result.errors).toBeUndefined();
      return federation.statementCount() - before;
    };
    expect(await count(20)).toBe(await count(2));
  });

  it('applies the write rules as on the embedded databases: every mutation × every role × every relationship, state re-read, access-log record', async () => {
    const policy = loadAccessPolicy();
    const providers = await pickProviders(federation);
    let applied = 0;
    for (const mutation of MUTATIONS) {
      for (const role of Object.keys(policy.roles)) {
        for (const careType of careKindsOf(mutation, role)) {
          for (const kase of casesOf(role, providers.KLINISCH)) if (await runCell(federation, providers, mutation, role, kase, careType)) applied++;
        }
      }
    }
    expect(applied).toBeGreaterThan(25);
  }, 600_000);

  it('refuses an out-of-bounds scaling decision and leaves the trajectory unchanged', async () => {
    const { data } = await federation.request<{
      patients: {
        edges: {
          node: {
            trajectories: {
              edges: {
                node: {
                  id: string;
                  status: string;
                  probationOrganisation: string | null;
                  currentCareType: string;
                  currentSecurityLevel: number;
                  currentPhase: { maxSecurityLevel: number } | null;
                };
              }[];
            };
          };
        }[];
      };
    }>(
      '{ patients(first: 30) { edges { node { trajectories { edges { node { id status probationOrganisation currentCareType currentSecurityLevel currentPhase { maxSecurityLevel } } } } } } } }',
    );
    const trajectory = data!.patients.edges
      .flatMap((p) => p.node.trajectories.edges.map((t) => t.node))
      .find((t) => t.status === 'ACTIVE' && t.probationOrganisation && t.currentPhase && t.currentPhase.maxSecurityLevel < 5)!;
    // The supervising probation organisation may scale, within the bounds only.
    const refused = await federation.request(
      'mutation($input: RecordScalingDecisionInput!) { recordScalingDecision(input: $input) { id } }',
      { input: { trajectoryId: trajectory.id, careType: trajectory.currentCareType, securityLevel: 5, reason: 'Escalatie na incident' } },
      { principal: probation(trajectory.probationOrganisation!) },
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('REINDICATION_REQUIRED');
    const after = await federation.request<{ trajectory: { currentSecurityLevel: number; scalingDecisions: { totalCount: number } } }>(
      'query($id: ID!) { trajectory(id: $id) { currentSecurityLevel scalingDecisions { totalCount } } }',
      { id: trajectory.id },
    );
    expect(after.data!.trajectory).toEqual({ currentSecurityLevel: trajectory.currentSecurityLevel, scalingDecisions: { totalCount: 0 } });
  });
});
