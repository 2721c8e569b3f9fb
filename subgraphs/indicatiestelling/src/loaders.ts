import { byIdLoader, groupLoader } from '@ketengraph/service-kit';
import type { PrismaClient, TrajectoryIndication, TrajectoryPhase } from './generated/prisma/client.js';

/** A trajectory indication always travels with its phases, loaded in the same batch. */
export type TrajectoryIndicationWithPhases = TrajectoryIndication & { phases: TrajectoryPhase[] };

/** One set per request: every entity reference and list field resolves through these. */
export function createLoaders(prisma: PrismaClient) {
  return {
    patient: byIdLoader((ids) => prisma.patient.findMany({ where: { id: { in: [...ids] } } })),
    trajectory: byIdLoader((ids) => prisma.trajectory.findMany({ where: { id: { in: [...ids] } } })),
    trajectoriesByPatient: groupLoader(
      (ids) => prisma.trajectory.findMany({ where: { patientId: { in: [...ids] } }, orderBy: [{ titleStartsOn: 'desc' }, { id: 'asc' }] }),
      (row) => row.patientId,
    ),
    indicationsByTrajectory: groupLoader(
      (ids) => prisma.indication.findMany({ where: { trajectoryId: { in: [...ids] } }, orderBy: [{ issuedOn: 'desc' }, { id: 'asc' }] }),
      (row) => row.trajectoryId,
    ),
    trajectoryIndicationByTrajectory: groupLoader(
      (ids) => prisma.trajectoryIndication.findMany({ where: { trajectoryId: { in: [...ids] } }, include: { phases: { orderBy: { ordinal: 'asc' } } } }),
      (row) => row.trajectoryId,
    ),
    scalingDecisionsByTrajectory: groupLoader(
      (ids) => prisma.scalingDecision.findMany({ where: { trajectoryId: { in: [...ids] } }, orderBy: [{ decidedAt: 'desc' }, { id: 'asc' }] }),
      (row) => row.trajectoryId,
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

export async function loadPhases(loaders: Loaders, trajectoryId: string): Promise<TrajectoryPhase[] | null> {
  const [indication] = await loaders.trajectoryIndicationByTrajectory.load(trajectoryId);
  return indication ? indication.phases : null;
}
