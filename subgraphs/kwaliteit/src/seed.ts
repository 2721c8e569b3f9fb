import { DEFAULT_SEED, generatePatients, generateProviders } from '@ketengraph/seed-data';
import type { SeedOptions } from '@ketengraph/service-kit';
import type { Prisma, PrismaClient } from './generated/prisma/client.js';

// A seed batch on a busy machine can take longer than Prisma's default 5 s for a transaction.
const SEED_TRANSACTION = { timeout: 120_000 };

/** Writes this subgraph's slice of the synthetic chain: providers' quality reports and every handover. */
export async function seed(prisma: PrismaClient, { seed, patients }: SeedOptions): Promise<void> {
  seed ??= DEFAULT_SEED;
  const providers = generateProviders(seed);
  const reports: Prisma.QualityReportCreateManyInput[] = [];
  const scores: Prisma.PillarScoreCreateManyInput[] = [];
  const indicators: Prisma.PerformanceIndicatorCreateManyInput[] = [];
  for (const provider of providers) {
    for (const report of provider.qualityReports) {
      reports.push({
        id: report.id,
        providerId: provider.id,
        year: report.year,
        submittedOn: report.submittedOn,
        forensicPatientCount: report.forensicPatientCount,
        djiFundedShare: report.djiFundedShare,
      });
      for (const score of report.pillarScores) scores.push({ id: `${report.id}:${score.pillar}`, reportId: report.id, ...score });
      for (const indicator of report.indicators) indicators.push({ id: `${report.id}:${indicator.code}`, reportId: report.id, ...indicator });
    }
  }
  await prisma.$transaction(
    [
      prisma.qualityReport.createMany({ data: reports }),
      prisma.pillarScore.createMany({ data: scores }),
      prisma.performanceIndicator.createMany({ data: indicators }),
    ],
    SEED_TRANSACTION,
  );

  let batch: Prisma.HandoverCreateManyInput[] = [];
  for (const patient of generatePatients(seed, patients, providers)) {
    for (const trajectory of patient.trajectories) {
      for (const handover of trajectory.handovers) {
        // The generator also hands over a readmission at the same provider; no provider hands over then.
        const fromProviderId = handover.fromProviderId === handover.toProviderId ? null : handover.fromProviderId;
        batch.push({
          id: handover.id,
          trajectoryId: trajectory.id,
          patientId: patient.id,
          fromProviderId,
          toProviderId: handover.toProviderId,
          handedOverOn: handover.handedOverOn,
          items: handover.items,
        });
      }
    }
    if (batch.length >= 1000) {
      await prisma.handover.createMany({ data: batch });
      batch = [];
    }
  }
  if (batch.length) await prisma.handover.createMany({ data: batch });
}
