import type { SubgraphAccess } from '@ketengraph/service-kit';
import type { Context } from './context.js';
import type { PrismaClient } from './generated/prisma/client.js';

/** Every CV belongs to one patient; relationships are asked of the subgraphs that hold them. */
export const access: SubgraphAccess<PrismaClient, Context> = {
  patientOf: {
    Patient: (patient: { id: string }) => patient.id,
    ForensicCv: (cv: { patientId: string }) => cv.patientId,
  },
};
