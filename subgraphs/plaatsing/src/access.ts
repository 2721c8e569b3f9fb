import { filtersItself, loadAccessPolicy, type SubgraphAccess } from '@ketengraph/service-kit';
import type { Context } from './context.js';
import type { PrismaClient } from './generated/prisma/client.js';

const OPEN = ['REQUESTED', 'INTAKE', 'ACCEPTED', 'DECIDED', 'ADMITTED'] as const;
const ENDED = ['ENDED', 'TRANSFERRED'] as const;

/** The placements that make a patient a provider's own: open, or ended within the handover period. */
export function carePlacementWhere() {
  const handoverStart = new Date(Date.now() - loadAccessPolicy().handoverPeriodDays * 86_400_000);
  return { OR: [{ status: { in: [...OPEN] } }, { status: { in: [...ENDED] }, endedAt: { gte: handoverStart } }] };
}

/** The caller's provider organisation and each trajectory: treating (admitted there) and receiving (a current or recent placement there). */
export async function trajectoryRelations(prisma: PrismaClient, organisationId: string, trajectoryIds: readonly string[]) {
  const handoverStart = new Date(Date.now() - loadAccessPolicy().handoverPeriodDays * 86_400_000);
  const rows = await prisma.placement.findMany({
    where: { providerId: organisationId, trajectoryId: { in: [...trajectoryIds] } },
    select: { trajectoryId: true, status: true, endedAt: true },
  });
  return trajectoryIds.map((trajectoryId) => {
    const mine = rows.filter((row) => row.trajectoryId === trajectoryId);
    return {
      trajectoryId,
      treating: mine.some((row) => row.status === 'ADMITTED'),
      receiving: mine.some(
        (row) =>
          (OPEN as readonly string[]).includes(row.status) ||
          ((ENDED as readonly string[]).includes(row.status) && row.endedAt !== null && row.endedAt >= handoverStart),
      ),
    };
  });
}

/**
 * plaatsing holds "own patients": the provider organisation has an open placement request, an
 * active placement, or one that ended within the policy's handover period.
 */
export const access: SubgraphAccess<PrismaClient, Context> = {
  patientOf: {
    // A provider's placement list is filtered to the caller's patients in its SQL (resolvers.ts).
    Provider: filtersItself,
    Patient: (patient: { id: string }) => patient.id,
    // From its placements, or (none yet) from indicatiestelling, which owns it; unknown there: withheld (null).
    Trajectory: async (trajectory: { id: string }, context: Context) =>
      (await context.loaders.placementsByTrajectory.load(trajectory.id))[0]?.patientId ?? context.access.trajectoryPatient(trajectory.id),
    Placement: (placement: { patientId: string }) => placement.patientId,
    PlacementChange: (change: { patientId: string }) => change.patientId,
  },
  relationships: {
    'own-patients': async (prisma, organisationId, patientIds) => {
      const rows = await prisma.placement.findMany({
        where: {
          providerId: organisationId,
          ...(patientIds ? { patientId: { in: [...patientIds] } } : {}),
          ...carePlacementWhere(),
        },
        select: { patientId: true },
        distinct: ['patientId'],
      });
      return rows.map((row) => row.patientId);
    },
  },
};
