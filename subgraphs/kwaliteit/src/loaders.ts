import { byIdLoader, groupLoader } from '@ketengraph/service-kit';
import type { PrismaClient } from './generated/prisma/client.js';

/** One set per request: every entity reference and list field resolves through these. */
export function createLoaders(prisma: PrismaClient) {
  return {
    qualityReport: byIdLoader((ids) => prisma.qualityReport.findMany({ where: { id: { in: [...ids] } } })),
    qualityReportsByProvider: groupLoader(
      (ids) => prisma.qualityReport.findMany({ where: { providerId: { in: [...ids] } }, orderBy: [{ year: 'desc' }, { id: 'asc' }] }),
      (row) => row.providerId,
    ),
    pillarScoresByReport: groupLoader(
      (ids) => prisma.pillarScore.findMany({ where: { reportId: { in: [...ids] } }, orderBy: [{ reportId: 'asc' }, { pillar: 'asc' }] }),
      (row) => row.reportId,
    ),
    indicatorsByReport: groupLoader(
      (ids) => prisma.performanceIndicator.findMany({ where: { reportId: { in: [...ids] } }, orderBy: [{ reportId: 'asc' }, { code: 'asc' }] }),
      (row) => row.reportId,
    ),
    handoversByTrajectory: groupLoader(
      (ids) => prisma.handover.findMany({ where: { trajectoryId: { in: [...ids] } }, orderBy: [{ handedOverOn: 'desc' }, { id: 'asc' }] }),
      (row) => row.trajectoryId,
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
