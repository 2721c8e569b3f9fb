import { randomUUID } from 'node:crypto';
import {
  badInput,
  connectionFromKeyset,
  connectionFromList,
  BsnScalar,
  DateScalar,
  DateTimeScalar,
  domainError,
  forbidden,
  found,
  isUniqueViolation,
  notFound,
  pageSize,
  requireActor,
  unauthorized,
  type RequestAccess,
} from '@ketengraph/service-kit';
import type { Prisma } from './generated/prisma/client.js';
import {
  assertDateNotInFuture,
  assertNotBlank,
  assertPhases,
  assertScalingWithinBounds,
  assertSecurityLevel,
  assertValidity,
  fitsPhase,
} from './domain/rules.js';
import type { Context } from './context.js';
import type { Resolvers } from './generated/resolvers.js';
import { supervisedBy } from './access.js';
import { loadPhases } from './loaders.js';

/** The internal scope of the gateway's audit identifier (see patientsByBsn); no role is granted it. */
export const AUDIT_IDENTIFY_SCOPE = 'audit:identify';

const byId = (row: { id: string }) => row.id;

/**
 * The patients a root search may return, as a condition of its SQL: all of them, or under a
 * relationship grant the caller's own patients (asked of plaatsing) or supervisees (this
 * subgraph's own trajectories, joined in the statement).
 */
async function visiblePatients(access: RequestAccess, field: 'patients' | 'patientByBsn'): Promise<Prisma.PatientWhereInput> {
  const rule = access.decideField('Query', field);
  if (rule?.decision !== 'relationship') return {};
  if (rule.kind === 'own-supervisees') {
    return { trajectories: { some: supervisedBy(access.principal.organisationId) } };
  }
  return { id: { in: await access.relatedPatientIds(rule.kind!) } };
}

type Tx = Parameters<Parameters<Context['prisma']['$transaction']>[0]>[0];

/** Reads the trajectory and locks its row for the rest of the transaction: the write-rule check and the change see the same trajectory. */
async function lockTrajectory(tx: Tx, id: string) {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "Trajectory" WHERE "id" = ${id} FOR UPDATE`;
  const trajectory = rows[0] && (await tx.trajectory.findUnique({ where: { id } }));
  if (!trajectory) throw notFound('Trajectory', id);
  return trajectory;
}

/** Organisation ids compare without regard to case (`nifp` acts for issuer `NIFP`). */
function sameOrganisation(a: string | null | undefined, b: string): boolean {
  return typeof a === 'string' && a.toUpperCase() === b.toUpperCase();
}

/** The issuing body: of the trajectory indication, else of the current indication; before any is issued, every indication body. */
async function isIssuingBody(tx: Tx, trajectoryId: string, organisationId: string): Promise<boolean> {
  const trajectoryIndication = await tx.trajectoryIndication.findUnique({ where: { trajectoryId }, select: { issuer: true } });
  if (trajectoryIndication) return sameOrganisation(trajectoryIndication.issuer, organisationId);
  const current = await tx.indication.findFirst({ where: { trajectoryId, status: 'ISSUED' }, orderBy: { issuedOn: 'desc' }, select: { issuer: true } });
  return current ? sameOrganisation(current.issuer, organisationId) : true;
}

/** An indication body issues in its own name only. */
function assertOwnIssuer(issuer: string, organisationId: string): void {
  if (!sameOrganisation(issuer, organisationId)) {
    throw forbidden(`An indication is issued in the name of your own organisation: set issuer to ${organisationId}.`, { reason: 'issuer', field: 'issuer' });
  }
}

function assertIdBatch(ids: readonly string[], field: string): void {
  if (ids.length > 1000) throw badInput('At most 1000 ids per call.', field);
}

export const resolvers: Resolvers = {
  Date: DateScalar,
  DateTime: DateTimeScalar,
  BSN: BsnScalar,

  Query: {
    patient: async (_, { id }, { loaders }) => found(await loaders.patientWithTrajectories.load(id), 'patient'),
    patientsByBsn: async (_, { bsns }, { prisma, principal }) => {
      // Only the gateway's audit identifier (a scope no role is granted): it answers who a BSN is, outside any relationship.
      if (!principal.scopes.includes(AUDIT_IDENTIFY_SCOPE)) throw unauthorized('Query.patientsByBsn');
      if (bsns.length > 100) throw badInput('At most 100 BSNs.', 'bsns');
      const rows = await prisma.patient.findMany({ where: { bsn: { in: [...bsns] } }, select: { id: true, bsn: true } });
      const ids = new Map(rows.map((row) => [row.bsn, row.id]));
      return bsns.map((bsn) => ids.get(bsn) ?? null);
    },
    patientByBsn: async (_, { bsn }, { prisma, access }) => {
      // Under a relationship grant the search runs inside the relationship: a patient outside it is not found.
      return prisma.patient.findFirst({ where: { AND: [{ bsn }, await visiblePatients(access, 'patientByBsn')] } });
    },
    patients: async (_, args, { prisma, access, cursors }) => {
      const size = pageSize(args);
      const after = args.after ? cursors.decode(args.after) : null;
      // The relationship is part of the statement for every page, so no cursor reaches past it.
      const visible = await visiblePatients(access, 'patients');
      const [rows, totalCount] = await Promise.all([
        prisma.patient.findMany({ where: after ? { AND: [visible, { id: { gt: after } }] } : visible, orderBy: { id: 'asc' }, take: size + 1 }),
        prisma.patient.count({ where: visible }),
      ]);
      return connectionFromKeyset(rows, size, byId, totalCount, after !== null, cursors);
    },
    trajectory: async (_, { id }, { loaders }) => found(await loaders.trajectory.load(id), 'trajectory'),
    trajectoryFacts: async (_, { ids }, { prisma }) => {
      assertIdBatch(ids, 'ids');
      const rows = await prisma.trajectory.findMany({ where: { id: { in: ids } }, include: { trajectoryIndication: { include: { phases: true } } } });
      return rows.map((t) => ({
        id: t.id,
        patientId: t.patientId,
        status: t.status,
        legalTitle: t.legalTitle,
        probationOrganisation: t.probationOrganisation,
        currentCareType: t.currentCareType,
        currentSecurityLevel: t.currentSecurityLevel,
        currentPhase: t.trajectoryIndication?.phases.find((phase) => phase.ordinal === t.currentPhase) ?? null,
      }));
    },
    existingPatients: async (_, { ids }, { prisma }) => {
      assertIdBatch(ids, 'ids');
      return (await prisma.patient.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((row) => row.id);
    },
  },

  Patient: {
    __resolveReference: (reference, { loaders }) => loaders.patient.load(reference.id),
    name: (patient) => ({
      given: patient.givenName,
      prefix: patient.familyNamePrefix,
      family: patient.familyName,
      full: [patient.givenName, patient.familyNamePrefix, patient.familyName].filter(Boolean).join(' '),
    }),
    trajectories: async (patient, args, { loaders, cursors }) => connectionFromList(await loaders.trajectoriesByPatient.load(patient.id), args, byId, cursors),
  },

  Trajectory: {
    __resolveReference: (reference, { loaders }) => loaders.trajectory.load(reference.id),
    patient: async (trajectory, _, { loaders }) => (await loaders.patient.load(trajectory.patientId))!,
    legalTitle: (trajectory) => ({ kind: trajectory.legalTitle, startsOn: trajectory.titleStartsOn, endsOn: trajectory.titleEndsOn }),
    currentPhase: async (trajectory, _, { loaders }) => {
      const phases = await loadPhases(loaders, trajectory.id);
      return phases?.find((phase) => phase.ordinal === trajectory.currentPhase) ?? null;
    },
    trajectoryIndication: async (trajectory, _, { loaders }) => (await loaders.trajectoryIndicationByTrajectory.load(trajectory.id))[0] ?? null,
    indications: async (trajectory, args, { loaders, cursors }) =>
      connectionFromList(await loaders.indicationsByTrajectory.load(trajectory.id), args, byId, cursors),
    scalingDecisions: async (trajectory, args, { loaders, cursors }) =>
      connectionFromList(await loaders.scalingDecisionsByTrajectory.load(trajectory.id), args, byId, cursors),
  },

  TrajectoryIndication: {
    // Preloaded by the loader (include); the mapper type makes every other path supply them too.
    phases: (indication) => indication.phases,
  },

  Indication: {
    trajectory: async (indication, _, { loaders }) => (await loaders.trajectory.load(indication.trajectoryId))!,
  },

  Mutation: {
    registerPatient: async (_, { input }, { prisma, writes }) => {
      assertDateNotInFuture(input.birthDate, 'birthDate');
      const data = {
        id: randomUUID(),
        bsn: input.bsn,
        givenName: assertNotBlank(input.givenName, 'givenName', 100),
        familyNamePrefix: input.familyNamePrefix?.trim() || null,
        familyName: assertNotBlank(input.familyName, 'familyName', 100),
        birthDate: input.birthDate,
      };
      await writes.authorize('Mutation.registerPatient', null, {});
      try {
        const patient = await prisma.patient.create({ data });
        writes.recordPatient(patient.id);
        return patient;
      } catch (error) {
        if (isUniqueViolation(error)) throw domainError('ALREADY_EXISTS', 'A patient with this BSN is already registered.', { field: 'bsn' });
        throw error;
      }
    },

    openTrajectory: async (_, { input }, { prisma, writes }) => {
      assertSecurityLevel(input.securityLevel);
      assertDateNotInFuture(input.titleStartsOn, 'titleStartsOn');
      return prisma.$transaction(async (tx) => {
        // The patient first: the step's record names only a patient that exists.
        if (!(await tx.patient.findUnique({ where: { id: input.patientId }, select: { id: true } }))) throw notFound('Patient', input.patientId);
        // Naming the probation organisation grants it reads: only the roles the write rules name may do it.
        await writes.authorize('Mutation.openTrajectory', input.patientId, {});
        return tx.trajectory.create({
          data: {
            id: randomUUID(),
            patientId: input.patientId,
            legalTitle: input.legalTitle,
            titleStartsOn: input.titleStartsOn,
            probationOrganisation: input.probationOrganisation?.trim() || null,
            currentCareType: input.careType,
            currentSecurityLevel: input.securityLevel,
          },
        });
      });
    },

    closeTrajectory: (_, { trajectoryId, endsOn }, { prisma, writes, principal }) =>
      prisma.$transaction(async (tx) => {
        const trajectory = await lockTrajectory(tx, trajectoryId);
        await writes.authorize('Mutation.closeTrajectory', trajectory.patientId, { issuing: () => isIssuingBody(tx, trajectory.id, principal.organisationId) });
        if (trajectory.status === 'CLOSED') throw domainError('INVALID_TRANSITION', 'This trajectory is already closed.');
        if (endsOn < trajectory.titleStartsOn) throw badInput('endsOn must not be before the title took effect.', 'endsOn');
        await tx.indication.updateMany({ where: { trajectoryId, status: 'ISSUED' }, data: { status: 'EXPIRED' } });
        return tx.trajectory.update({ where: { id: trajectoryId }, data: { status: 'CLOSED', titleEndsOn: endsOn } });
      }),

    issueIndication: async (_, { input }, { prisma, writes, principal }) => {
      assertSecurityLevel(input.securityLevel);
      assertValidity(input.validFrom, input.validUntil);
      const issuer = assertNotBlank(input.issuer, 'issuer', 100);
      return prisma.$transaction(async (tx) => {
        const trajectory = await lockTrajectory(tx, input.trajectoryId);
        await writes.authorize('Mutation.issueIndication', trajectory.patientId, {});
        assertOwnIssuer(issuer, principal.organisationId);
        if (trajectory.status === 'CLOSED') throw domainError('INVALID_TRANSITION', 'No indications can be issued in a closed trajectory.');
        await tx.indication.updateMany({ where: { trajectoryId: trajectory.id, status: 'ISSUED' }, data: { status: 'SUPERSEDED' } });
        const indication = await tx.indication.create({
          data: {
            id: randomUUID(),
            trajectoryId: trajectory.id,
            issuer,
            careType: input.careType,
            securityLevel: input.securityLevel,
            intensity: input.intensity,
            validFrom: input.validFrom,
            validUntil: input.validUntil,
            status: 'ISSUED',
            issuedOn: new Date(),
          },
        });
        // A new indication sets the care the trajectory continues with.
        await tx.trajectory.update({ where: { id: trajectory.id }, data: { currentCareType: input.careType, currentSecurityLevel: input.securityLevel } });
        return indication;
      });
    },

    withdrawIndication: async (_, { indicationId, reason }, { prisma, writes, principal }) => {
      const statusReason = assertNotBlank(reason, 'reason');
      return prisma.$transaction(async (tx) => {
        const indication = await tx.indication.findUnique({ where: { id: indicationId }, include: { trajectory: { select: { patientId: true } } } });
        if (!indication) throw notFound('Indication', indicationId);
        await writes.authorize('Mutation.withdrawIndication', indication.trajectory.patientId, {
          issuing: sameOrganisation(indication.issuer, principal.organisationId),
        });
        if (indication.status !== 'ISSUED' && indication.status !== 'DRAFT') {
          throw domainError('INVALID_TRANSITION', `An indication that is ${indication.status} cannot be withdrawn.`, { status: indication.status });
        }
        // Conditional on the status read above, so a concurrent withdrawal cannot apply twice.
        const changed = await tx.indication.updateMany({ where: { id: indicationId, status: indication.status }, data: { status: 'WITHDRAWN', statusReason } });
        if (changed.count === 0) throw domainError('INVALID_TRANSITION', 'The indication changed at the same time; reload and try again.');
        return { ...indication, status: 'WITHDRAWN' as const, statusReason };
      });
    },

    issueTrajectoryIndication: async (_, { input }, { prisma, writes, principal }) => {
      assertPhases(input.phases);
      const issuer = assertNotBlank(input.issuer, 'issuer', 100);
      return prisma.$transaction(async (tx) => {
        const trajectory = await lockTrajectory(tx, input.trajectoryId);
        await writes.authorize('Mutation.issueTrajectoryIndication', trajectory.patientId, {
          issuing: () => isIssuingBody(tx, trajectory.id, principal.organisationId),
        });
        assertOwnIssuer(issuer, principal.organisationId);
        if (trajectory.status === 'CLOSED') throw domainError('INVALID_TRANSITION', 'A closed trajectory cannot get a trajectory indication.');
        const first = { ordinal: 1, ...input.phases[0]! };
        if (!fitsPhase(first, trajectory.currentCareType, trajectory.currentSecurityLevel)) {
          throw badInput('The current care type and security level must fit the first phase.', 'phases[0]');
        }
        const existing = await tx.trajectoryIndication.findUnique({ where: { trajectoryId: trajectory.id } });
        if (existing) {
          await tx.trajectoryPhase.deleteMany({ where: { trajectoryIndicationId: existing.id } });
          await tx.trajectoryIndication.delete({ where: { id: existing.id } });
        }
        await tx.trajectoryIndication.create({
          data: {
            id: randomUUID(),
            trajectoryId: trajectory.id,
            issuer,
            issuedOn: input.issuedOn,
            phases: {
              create: input.phases.map((phase, i) => ({
                id: randomUUID(),
                ordinal: i + 1,
                name: phase.name,
                minSecurityLevel: phase.minSecurityLevel,
                maxSecurityLevel: phase.maxSecurityLevel,
                careTypes: phase.careTypes,
              })),
            },
          },
        });
        return tx.trajectory.update({ where: { id: trajectory.id }, data: { currentPhase: 1 } });
      });
    },

    advanceTrajectoryPhase: (_, { trajectoryId }, { prisma, writes, principal }) =>
      prisma.$transaction(async (tx) => {
        await lockTrajectory(tx, trajectoryId);
        const trajectory = (await tx.trajectory.findUnique({ where: { id: trajectoryId }, include: { trajectoryIndication: { include: { phases: true } } } }))!;
        await writes.authorize('Mutation.advanceTrajectoryPhase', trajectory.patientId, {
          issuing: () => isIssuingBody(tx, trajectory.id, principal.organisationId),
        });
        if (trajectory.status === 'CLOSED') throw domainError('INVALID_TRANSITION', 'A closed trajectory has no next phase.');
        const next = trajectory.trajectoryIndication?.phases.find((phase) => phase.ordinal === trajectory.currentPhase + 1);
        if (!next) throw domainError('INVALID_TRANSITION', 'This trajectory has no next phase.');
        if (!fitsPhase(next, trajectory.currentCareType, trajectory.currentSecurityLevel)) {
          throw domainError(
            'REINDICATION_REQUIRED',
            `The current care does not fit phase ${next.ordinal}; scale within the current phase first or re-indicate.`,
            { phase: next.ordinal },
          );
        }
        return tx.trajectory.update({ where: { id: trajectoryId }, data: { currentPhase: next.ordinal } });
      }),

    recordScalingDecision: async (_, { input }, { prisma, actor, writes, principal, peerFacts }) => {
      const decidedBy = requireActor(actor);
      const reason = assertNotBlank(input.reason, 'reason');
      return prisma.$transaction(async (tx) => {
        await lockTrajectory(tx, input.trajectoryId);
        const trajectory = (await tx.trajectory.findUnique({
          where: { id: input.trajectoryId },
          include: { trajectoryIndication: { include: { phases: true } } },
        }))!;
        // The treating provider (its admitted placement lives in plaatsing) or the supervising probation organisation; nobody else.
        await writes.authorize('Mutation.recordScalingDecision', trajectory.patientId, {
          assigned: trajectory.status === 'ACTIVE' && sameOrganisation(trajectory.probationOrganisation, principal.organisationId),
          treating: async () => (await peerFacts.trajectoryRelation(trajectory.id)).treating,
        });
        if (trajectory.status === 'CLOSED') throw domainError('INVALID_TRANSITION', 'Care in a closed trajectory cannot be scaled.');
        const phase = trajectory.trajectoryIndication?.phases.find((p) => p.ordinal === trajectory.currentPhase) ?? null;
        assertScalingWithinBounds(phase, input.careType, input.securityLevel);
        const decision = await tx.scalingDecision.create({
          data: {
            id: randomUUID(),
            trajectoryId: trajectory.id,
            phase: trajectory.currentPhase,
            fromCareType: trajectory.currentCareType,
            fromSecurityLevel: trajectory.currentSecurityLevel,
            toCareType: input.careType,
            toSecurityLevel: input.securityLevel,
            reason,
            decidedBy: decidedBy.userId,
            decidedByOrganisation: decidedBy.organisationId,
          },
        });
        await tx.trajectory.update({ where: { id: trajectory.id }, data: { currentCareType: input.careType, currentSecurityLevel: input.securityLevel } });
        return decision;
      });
    },
  },
};
