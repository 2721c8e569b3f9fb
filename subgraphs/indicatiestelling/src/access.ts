import { filtersItself, type SubgraphAccess } from '@ketengraph/service-kit';
import type { Context } from './context.js';
import type { Prisma, PrismaClient } from './generated/prisma/client.js';

/** A trajectory the probation organisation supervises: the one definition of "own supervisees". */
export const supervisedBy = (organisationId: string): Prisma.TrajectoryWhereInput => ({ probationOrganisation: organisationId, status: 'ACTIVE' });

/**
 * indicatiestelling holds "own supervisees": a probation organisation is assigned to an active
 * trajectory of the patient.
 */
export const access: SubgraphAccess<PrismaClient, Context> = {
  patientOf: {
    // patients and patientByBsn search inside the relationship (resolvers.ts, visiblePatients).
    Query: filtersItself,
    Patient: (patient: { id: string }) => patient.id,
    Trajectory: (trajectory: { patientId: string }) => trajectory.patientId,
  },
  trajectoryOwners: async (prisma, trajectoryIds) =>
    new Map(
      (await prisma.trajectory.findMany({ where: { id: { in: [...trajectoryIds] } }, select: { id: true, patientId: true } })).map((t) => [t.id, t.patientId]),
    ),
  relationships: {
    'own-supervisees': async (prisma, organisationId, patientIds) => {
      const rows = await prisma.trajectory.findMany({
        where: { ...supervisedBy(organisationId), ...(patientIds ? { patientId: { in: [...patientIds] } } : {}) },
        select: { patientId: true },
        distinct: ['patientId'],
      });
      return rows.map((row) => row.patientId);
    },
  },
};
