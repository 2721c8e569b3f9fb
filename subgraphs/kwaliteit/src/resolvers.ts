import { randomUUID } from 'node:crypto';
import { QUALITY_PILLARS } from '@ketengraph/domain';
import {
  badInput,
  connectionFromKeyset,
  connectionFromList,
  DateScalar,
  domainError,
  found,
  notFound,
  pageSize,
  requireActor,
  isUniqueViolation,
} from '@ketengraph/service-kit';
import { startOfUtcDay } from './domain/common.js';
import { assertHandover, handoverCompleteness, summariseHandovers } from './domain/handover.js';
import { assertQualityReport, assertQueryYear, isSubmittedOnTime, onTimeShare, pillarByNumber, reportDueOn, summarisePillars } from './domain/quality.js';
import type { Resolvers } from './generated/resolvers.js';
import { recordTransferHandovers, relayPosition, requireRelay } from './transfer-handovers.js';

const byId = (row: { id: string }) => row.id;

export const resolvers: Resolvers = {
  Date: DateScalar,

  Query: {
    qualityPillars: () => [...QUALITY_PILLARS],
    qualityReport: async (_, { id }, { loaders }) => found(await loaders.qualityReport.load(id), 'quality report'),
    qualityReports: async (_, args, { prisma, cursors }) => {
      const size = pageSize(args);
      const after = args.after ? cursors.decode(args.after) : null;
      const [rows, totalCount] = await Promise.all([
        prisma.qualityReport.findMany({ where: { year: args.year, ...(after ? { id: { gt: after } } : {}) }, orderBy: { id: 'asc' }, take: size + 1 }),
        prisma.qualityReport.count({ where: { year: args.year } }),
      ]);
      return connectionFromKeyset(rows, size, byId, totalCount, after !== null, cursors);
    },
    qualityOverview: async (_, { year }, { prisma }) => {
      assertQueryYear(year);
      // Counted and grouped in the database, in one snapshot; no report rows are loaded.
      const grouped = prisma.pillarScore.groupBy({ by: ['pillar', 'maturity'], where: { report: { year } }, _count: { _all: true } });
      const [reportCount, onTimeCount, groups] = await prisma.$transaction([
        prisma.qualityReport.count({ where: { year } }),
        prisma.qualityReport.count({ where: { year, submittedOn: { lte: reportDueOn(year) } } }),
        grouped,
      ]);
      return {
        year,
        reportCount,
        onTimeShare: onTimeShare(reportCount, onTimeCount),
        pillars: summarisePillars(groups.map((g) => ({ pillar: g.pillar, maturity: g.maturity, count: g._count._all }))),
      };
    },
    transferHandoverPosition: async (_, __, { prisma, principal }) => {
      requireRelay(principal.scopes, 'Query.transferHandoverPosition');
      return (await relayPosition(prisma))?.toString() ?? null;
    },
  },

  Provider: {
    __resolveReference: (reference) => ({ id: reference.id }),
    qualityReports: async (provider, args, { loaders, cursors }) =>
      connectionFromList(await loaders.qualityReportsByProvider.load(provider.id), args, byId, cursors),
    latestQualityReport: async (provider, _, { loaders }) => (await loaders.qualityReportsByProvider.load(provider.id))[0] ?? null,
  },

  QualityReport: {
    provider: (report) => ({ id: report.providerId }),
    dueOn: (report) => reportDueOn(report.year),
    submittedOnTime: (report) => isSubmittedOnTime(report.year, report.submittedOn),
    pillarScores: (report, _, { loaders }) => loaders.pillarScoresByReport.load(report.id),
    indicators: (report, _, { loaders }) => loaders.indicatorsByReport.load(report.id),
  },

  PillarScore: {
    pillar: (score) => pillarByNumber(score.pillar),
  },

  Trajectory: {
    __resolveReference: (reference) => ({ id: reference.id }),
    handovers: async (trajectory, args, { loaders, cursors }) =>
      connectionFromList(await loaders.handoversByTrajectory.load(trajectory.id), args, byId, cursors),
    handoverQuality: async (trajectory, _, { loaders }) =>
      summariseHandovers((await loaders.handoversByTrajectory.load(trajectory.id)).map((handover) => handover.items)),
  },

  Handover: {
    trajectory: (handover) => ({ id: handover.trajectoryId }),
    fromProvider: (handover) => (handover.fromProviderId ? { id: handover.fromProviderId } : null),
    toProvider: (handover) => ({ id: handover.toProviderId }),
    items: (handover) => handoverCompleteness(handover.items).present,
    missingItems: (handover) => handoverCompleteness(handover.items).missing,
    completeness: (handover) => handoverCompleteness(handover.items).completeness,
  },

  Mutation: {
    // Internal (@inaccessible): the gateway's handover relay, which writes each recorded handover to the access log itself.
    recordTransferHandovers: async (_, { upTo, transfers }, { prisma, principal }) => {
      requireRelay(principal.scopes, 'Mutation.recordTransferHandovers');
      const result = await recordTransferHandovers(prisma, upTo, transfers);
      return { position: result.position.toString(), recordedPatientIds: result.recordedPatientIds };
    },

    submitQualityReport: async (_, { input }, { prisma, actor, writes, principal }) => {
      const submittedBy = requireActor(actor);
      const report = assertQualityReport(input);
      await writes.authorize('Mutation.submitQualityReport', null, { 'own-organisation': report.providerId === principal.organisationId });
      const id = randomUUID();
      try {
        return await prisma.$transaction((tx) =>
          tx.qualityReport.create({
            data: {
              id,
              providerId: report.providerId,
              year: report.year,
              submittedOn: startOfUtcDay(new Date()),
              forensicPatientCount: report.forensicPatientCount,
              djiFundedShare: report.djiFundedShare,
              submittedBy: submittedBy.userId,
              submittedByOrganisation: submittedBy.organisationId,
              pillarScores: { createMany: { data: report.pillarScores.map((score) => ({ id: `${id}:${score.pillar}`, ...score })) } },
              indicators: { createMany: { data: report.indicators.map((indicator) => ({ id: randomUUID(), ...indicator })) } },
            },
          }),
        );
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw domainError('ALREADY_EXISTS', `This provider already has a quality report over ${report.year}.`, { field: 'year', year: report.year });
        }
        throw error;
      }
    },

    recordHandover: async (_, { input }, { prisma, actor, writes, principal, peerFacts }) => {
      const recordedBy = requireActor(actor);
      const handover = assertHandover(input);
      // The trajectory is indicatiestelling's, the receiving provider's placement plaatsing's: both are asked, never assumed.
      const trajectory = await peerFacts.trajectory(handover.trajectoryId);
      if (!trajectory) throw notFound('Trajectory', handover.trajectoryId);
      await writes.authorize('Mutation.recordHandover', trajectory.patientId, {
        receiving: async () => handover.toProviderId === principal.organisationId && (await peerFacts.trajectoryRelation(trajectory.id)).receiving,
      });
      if (trajectory.patientId !== handover.patientId) throw badInput('patientId is not the patient of this trajectory.', 'patientId');
      return prisma.$transaction(async (tx) => {
        return tx.handover.create({
          data: { id: randomUUID(), ...handover, recordedBy: recordedBy.userId, recordedByOrganisation: recordedBy.organisationId },
        });
      });
    },
  },
};
