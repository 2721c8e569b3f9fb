import { byIdLoader, groupLoader, type Database } from '@ketengraph/service-kit';
import { Prisma, type Handover, type PillarScore, type PrismaClient, type QualityReport } from './generated/prisma/client.js';

/** A quality report as read with its pillar scores, in one statement. */
export type QualityReportWithScores = QualityReport & { pillarScores: PillarScore[] };

/**
 * The reads every whole-trajectory request makes, in SQL on the driver (`db.read`): a statement
 * through Prisma's findMany costs about twice the CPU, and a report comes with its pillar scores
 * in the same statement. Each returns the rows exactly as the Prisma model types them
 * (test/subgraph.test.ts compares them with findMany's).
 */
export const reads = {
  handoversByTrajectory: (db: Database, trajectoryIds: readonly string[]) =>
    db.read<Handover>(
      Prisma.sql`SELECT "id", "trajectoryId", "patientId", "fromProviderId", "toProviderId", "handedOverOn", "items"::text[], "recordedBy",
        "recordedByOrganisation", "recordedAt", "sourceSequence"
      FROM "Handover" WHERE "trajectoryId" = ANY(${trajectoryIds}) ORDER BY "handedOverOn" DESC, "id" ASC`,
    ),
  qualityReportsByProvider: (db: Database, providerIds: readonly string[]) =>
    db.read<QualityReportWithScores>(
      Prisma.sql`SELECT r."id", r."providerId", r."year", r."submittedOn", r."forensicPatientCount", r."djiFundedShare", r."submittedBy",
        r."submittedByOrganisation", r."createdAt", COALESCE((
          SELECT json_agg(json_build_object('id', s."id", 'reportId', s."reportId", 'pillar', s."pillar", 'maturity', s."maturity",
            'explanation', s."explanation") ORDER BY s."pillar")
          FROM "PillarScore" s WHERE s."reportId" = r."id"), '[]') AS "pillarScores"
      FROM "QualityReport" r WHERE r."providerId" = ANY(${providerIds}) ORDER BY r."year" DESC, r."id" ASC`,
    ),
};

/** One set per request: every entity reference and list field resolves through these. */
export function createLoaders(prisma: PrismaClient, db: Database) {
  const pillarScoresByReport = groupLoader(
    (ids) => prisma.pillarScore.findMany({ where: { reportId: { in: [...ids] } }, orderBy: [{ reportId: 'asc' }, { pillar: 'asc' }] }),
    (row) => row.reportId,
  );
  return {
    qualityReport: byIdLoader((ids) => prisma.qualityReport.findMany({ where: { id: { in: [...ids] } } })),
    // A report's pillar scores arrive with it (and are primed for pillarScoresByReport).
    qualityReportsByProvider: groupLoader(
      async (ids) =>
        (await reads.qualityReportsByProvider(db, ids)).map(({ pillarScores, ...report }) => {
          pillarScoresByReport.prime(report.id, pillarScores);
          return report;
        }),
      (row) => row.providerId,
    ),
    pillarScoresByReport,
    indicatorsByReport: groupLoader(
      (ids) => prisma.performanceIndicator.findMany({ where: { reportId: { in: [...ids] } }, orderBy: [{ reportId: 'asc' }, { code: 'asc' }] }),
      (row) => row.reportId,
    ),
    handoversByTrajectory: groupLoader(
      (ids) => reads.handoversByTrajectory(db, ids),
      (row) => row.trajectoryId,
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
