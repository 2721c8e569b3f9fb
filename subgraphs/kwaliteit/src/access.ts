import type { SubgraphAccess } from '@ketengraph/service-kit';
import type { Context } from './context.js';
import type { PrismaClient } from './generated/prisma/client.js';

/** Handovers belong to a patient; relationships are asked of the subgraphs that hold them. */
export const access: SubgraphAccess<PrismaClient, Context> = {
  patientOf: {
    // From its handovers, or (none yet) from indicatiestelling, which owns it; unknown there: withheld (null).
    Trajectory: async (trajectory: { id: string }, context: Context) =>
      (await context.loaders.handoversByTrajectory.load(trajectory.id))[0]?.patientId ?? context.access.trajectoryPatient(trajectory.id),
    Handover: (handover: { patientId: string }) => handover.patientId,
  },
};
