import type { SubgraphAccess } from '@ketengraph/service-kit';
import type { Context } from './context.js';
import type { PrismaClient } from './generated/prisma/client.js';

/**
 * indicatiestelling holds "own supervisees": a probation organisation is assigned to an active
 * trajectory of the patient.
 */
export const access: SubgraphAccess<PrismaClient, Context> = {
  patientOf: {
    Patient: (patient: { id: string }) => patient.id,
    Trajectory: (trajectory: { patientId: string }) => trajectory.patientId,
  },
  relationships: {
    'own-supervisees': async (prisma, organisationId, patientIds) => {
      const rows = await prisma.trajectory.findMany({
        where: { probationOrganisation: organisationId, status: 'ACTIVE', ...(patientIds ? { patientId: { in: [...patientIds] } } : {}) },
        select: { patientId: true },
        distinct: ['patientId'],
      });
      return rows.map((row) => row.patientId);
    },
  },
};
