import { randomUUID } from 'node:crypto';
import {
  badInput,
  connectionFromKeyset,
  connectionFromList,
  DateScalar,
  DateTimeScalar,
  decodeEventCursor,
  encodeEventCursor,
  found,
  notFound,
  pageSize,
  requireActor,
  unauthorized,
  isPlacingOrganisation,
  loadAccessPolicy,
  placingNeedsTrajectory,
} from '@ketengraph/service-kit';
import { INITIAL_STATUS } from './domain/lifecycle.js';
import {
  admissionWindow,
  assertEffectiveDate,
  assertPlacementFits,
  assertReason,
  assertSecurityLevel,
  dayNumber,
  waitingDays,
  waitingTimeStatistics,
} from './domain/rules.js';
import { Prisma } from './generated/prisma/client.js';
import type { CapacitySummary, ProviderFilter, Resolvers } from './generated/resolvers.js';
import { trajectoryRelations } from './access.js';
import { applyStep, assertOffers, claimPlace, recordEvent, type StepAuthorization } from './placements.js';
import type { Context } from './context.js';
import { awaitFeed, feedHead, MAX_CHANGES, parseSequence, requireEventReader } from './events.js';

const byId = (row: { id: string }) => row.id;

export const resolvers: Resolvers = {
  Date: DateScalar,
  DateTime: DateTimeScalar,

  Query: {
    careProvidersOfPatient: async (_, { patientId }, { loaders, access }) => {
      // Which providers hold a patient is logistics: the caller must see this patient's logistics.
      const rule = access.decideField('Patient', 'placements');
      const allowed =
        rule?.decision === 'granted' || (rule?.decision === 'relationship' && rule.kind !== null && (await access.isRelated(rule.kind, patientId)));
      if (!allowed) throw unauthorized('Query.careProvidersOfPatient');
      return (await loaders.careProvidersByPatient.load(patientId)).map((row) => row.providerId);
    },
    provider: async (_, { id }, { loaders }) => found(await loaders.provider.load(id), 'provider'),
    providers: async (_, { filter, ...args }, { prisma, cursors }) => {
      const size = pageSize(args);
      const after = args.after ? cursors.decode(args.after) : null;
      const where = providerWhere(filter ?? {}, prisma.providerCapacity.fields.totalPlaces);
      const [rows, totalCount] = await Promise.all([
        prisma.provider.findMany({ where: after ? { AND: [where, { id: { gt: after } }] } : where, orderBy: { id: 'asc' }, take: size + 1 }),
        prisma.provider.count({ where }),
      ]);
      return connectionFromKeyset(rows, size, byId, totalCount, after !== null, cursors);
    },
    placement: async (_, { id }, { loaders }) => found(await loaders.placement.load(id), 'placement'),
    placementChange: async (_, { cursor }, { prisma, access }) => {
      const event = await prisma.placementEvent.findUnique({ where: { sequence: decodeEventCursor(cursor, 'cursor') } });
      if (!event) return null;
      // Under a relationship grant the whole change is withheld for another provider's patient, not just its fields.
      const rule = access.decideField('PlacementChange', 'cursor');
      if (rule?.decision === 'relationship' && !(await access.isRelated(rule.kind!, event.patientId)))
        throw unauthorized('Query.placementChange', event.patientId);
      return event;
    },
    placementChanges: async (_, { cursors }, { prisma, access }) => {
      if (cursors.length > MAX_CHANGES) throw badInput(`At most ${MAX_CHANGES} cursors at a time.`, 'cursors');
      const sequences = cursors.map((cursor) => decodeEventCursor(cursor, 'cursors'));
      const events = await prisma.placementEvent.findMany({ where: { sequence: { in: sequences } } });
      const bySequence = new Map(events.map((event) => [event.sequence, event]));
      const rule = access.decideField('PlacementChange', 'cursor');
      // A change of another provider's patient is withheld whole at its index (graphql-js answers an
      // Error item as null with the error at that index; the generated types do not model that).
      const items = await Promise.all(
        sequences.map(async (sequence) => {
          const event = bySequence.get(sequence);
          if (!event) return null;
          if (rule?.decision === 'relationship' && !(await access.isRelated(rule.kind!, event.patientId)))
            return unauthorized('Query.placementChanges', event.patientId);
          return event;
        }),
      );
      return items as (typeof events)[number][];
    },
    placementEventFeed: (_, { after, limit, waitMs }, { prisma, principal, eventRetentionDays, eventSignal }) => {
      requireEventReader(principal.scopes, 'Query.placementEventFeed');
      return awaitFeed(prisma, eventSignal, parseSequence(after, 'after'), limit, eventRetentionDays, waitMs ?? 0);
    },
    placementPatients: async (_, { ids }, { prisma, principal }) => {
      requireEventReader(principal.scopes, 'Query.placementPatients');
      if (ids.length > 100) throw badInput('At most 100 placement ids.', 'ids');
      const rows = await prisma.placement.findMany({ where: { id: { in: [...ids] } }, select: { id: true, patientId: true } });
      const patients = new Map(rows.map((row) => [row.id, row.patientId]));
      return ids.map((id) => patients.get(id) ?? null);
    },
    trajectoryRelations: (_, { trajectoryIds }, { prisma, principal }) => {
      if (trajectoryIds.length > 1000) throw badInput('At most 1000 ids per call.', 'trajectoryIds');
      return trajectoryRelations(prisma, principal.organisationId, trajectoryIds);
    },
    placementEventHead: async (_, __, { prisma, principal }) => {
      requireEventReader(principal.scopes, 'Query.placementEventHead');
      return (await feedHead(prisma)).toString();
    },
    freeCapacity: async (_, { careType, securityLevel, region }, { prisma }) => {
      if (securityLevel != null) assertSecurityLevel(securityLevel);
      const conditions = [
        careType ? Prisma.sql`c."careType" = ${careType}::"CareType"` : null,
        securityLevel != null ? Prisma.sql`c."securityLevel" = ${securityLevel}` : null,
        region ? Prisma.sql`p."region" = ${region}::"Region"` : null,
      ].filter((condition): condition is Prisma.Sql => condition !== null);
      const rows = await prisma.$queryRaw<Omit<CapacitySummary, 'freePlaces'>[]>`
        SELECT c."careType"::text AS "careType", c."securityLevel", p."region"::text AS "region",
               COUNT(*)::int AS "providerCount", SUM(c."totalPlaces")::int AS "totalPlaces", SUM(c."occupiedPlaces")::int AS "occupiedPlaces"
        FROM "ProviderCapacity" c JOIN "Provider" p ON p."id" = c."providerId"
        ${conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty}
        GROUP BY c."careType", c."securityLevel", p."region"
        ORDER BY c."careType", c."securityLevel", p."region"`;
      return rows.map((row) => ({ ...row, freePlaces: row.totalPlaces - row.occupiedPlaces }));
    },
    waitingTimes: async (_, { careType, securityLevel, from, to }, { prisma }) => {
      if (securityLevel != null) assertSecurityLevel(securityLevel);
      // Transfers continue a stay; they have no request-to-admission wait of their own.
      const rows = await prisma.placement.findMany({
        where: {
          admittedAt: admissionWindow(from, to),
          transferredFromId: null,
          ...(careType ? { careType } : {}),
          ...(securityLevel != null ? { securityLevel } : {}),
        },
        select: { requestedAt: true, admittedAt: true },
      });
      return waitingTimeStatistics(rows.map((row) => dayNumber(row.admittedAt!) - dayNumber(row.requestedAt)));
    },
  },

  Provider: {
    __resolveReference: (reference, { loaders }) => loaders.provider.load(reference.id),
    capacity: (provider, _, { loaders }) => loaders.capacityByProvider.load(provider.id),
    placements: async (provider, args, { loaders, access, principal, cursors }) => {
      // Under a relationship grant the list holds only the patients the caller may see now, in SQL on
      // every page: a provider its own placement list (a placement that ended before the handover
      // period is left out), no other provider's; probation its supervisees' placements at any provider.
      const rule = access.decideField('Provider', 'placements');
      let patientIds: string[] | null = null;
      if (rule?.decision === 'relationship') {
        if (rule.kind === 'own-patients' && provider.id !== principal.organisationId) throw unauthorized('Provider.placements');
        patientIds = await access.relatedPatientIds(rule.kind!);
      }
      const size = pageSize(args);
      const after = args.after ? cursors.decode(args.after) : null;
      const page = await loaders.providerPlacements.load({ providerId: provider.id, status: args.status ?? null, size, after, patientIds });
      return connectionFromKeyset(page.rows, size, byId, page.totalCount, after !== null, cursors);
    },
  },

  Capacity: {
    freePlaces: (capacity) => capacity.totalPlaces - capacity.occupiedPlaces,
  },

  Patient: {
    __resolveReference: (reference) => ({ id: reference.id }),
    placements: async (patient, args, { loaders, cursors }) => connectionFromList(await loaders.placementsByPatient.load(patient.id), args, byId, cursors),
  },

  Trajectory: {
    __resolveReference: (reference) => ({ id: reference.id }),
    placements: async (trajectory, args, { loaders, cursors }) =>
      connectionFromList(await loaders.placementsByTrajectory.load(trajectory.id), args, byId, cursors),
  },

  Placement: {
    __resolveReference: (reference, { loaders }) => loaders.placement.load(reference.id),
    patient: (placement) => ({ id: placement.patientId }),
    trajectory: (placement) => ({ id: placement.trajectoryId }),
    provider: async (placement, _, { loaders }) => (await loaders.provider.load(placement.providerId))!,
    transferredFrom: (placement, _, { loaders }) => (placement.transferredFromId ? loaders.placement.load(placement.transferredFromId) : null),
    transferredTo: async (placement, _, { loaders }) => (await loaders.transferredTo.load(placement.id))[0] ?? null,
    waitingDays: (placement) => waitingDays(placement),
    history: (placement, _, { loaders }) => loaders.historyByPlacement.load(placement.id),
  },

  PlacementEvent: {
    sequence: (event) => event.sequence.toString(),
    at: (event) => event.occurredAt,
  },

  PlacementChange: {
    cursor: (event) => encodeEventCursor(event.sequence),
    sequence: (event) => event.sequence.toString(),
    placement: async (event, _, { loaders }) => (await loaders.placement.load(event.placementId))!,
    patient: (event) => ({ id: event.patientId }),
  },

  PlacementFeedEvent: {
    sequence: (event) => event.sequence.toString(),
  },

  Mutation: {
    requestPlacement: async (_, { input }, context) => {
      const { prisma, actor, gatewayToken, indications, writes, principal } = context;
      const by = requireActor(actor);
      assertSecurityLevel(input.securityLevel);
      // Ask indicatiestelling before the transaction: no database connection waits on the network.
      const trajectory = await indications.trajectory(input.trajectoryId, gatewayToken);
      if (!trajectory) throw notFound('Trajectory', input.trajectoryId);
      return prisma.$transaction(async (tx) => {
        // Addressing a provider gives it reads: only the placing organisation may (never a provider itself).
        await writes.authorize('Mutation.requestPlacement', trajectory.patientId, {
          placing: isPlacingOrganisation(loadAccessPolicy(), principal, input.careType, trajectory),
        });
        assertPlacementFits(trajectory, input.patientId, input.careType, input.securityLevel);
        await assertOffers(tx, input);
        const placement = await tx.placement.create({
          data: {
            id: randomUUID(),
            patientId: input.patientId,
            trajectoryId: trajectory.id,
            providerId: input.providerId,
            careType: input.careType,
            securityLevel: input.securityLevel,
            status: INITIAL_STATUS.request,
          },
        });
        await recordEvent(tx, placement, null, null, by);
        return placement;
      });
    },

    startIntake: (_, { placementId }, context) => {
      const by = requireActor(context.actor);
      return context.prisma.$transaction((tx) => applyStep(tx, placementId, 'startIntake', by, stepRule(context, 'Mutation.startIntake')));
    },

    acceptPlacement: (_, { placementId }, context) => {
      const by = requireActor(context.actor);
      return context.prisma.$transaction((tx) => applyStep(tx, placementId, 'accept', by, stepRule(context, 'Mutation.acceptPlacement')));
    },

    declinePlacement: (_, { placementId, reason }, context) => {
      const by = requireActor(context.actor);
      const declineReason = assertReason(reason);
      return context.prisma.$transaction((tx) =>
        applyStep(tx, placementId, 'decline', by, stepRule(context, 'Mutation.declinePlacement'), { reason: declineReason, data: { declineReason } }),
      );
    },

    decidePlacement: (_, { placementId }, context) => {
      const by = requireActor(context.actor);
      return context.prisma.$transaction((tx) => applyStep(tx, placementId, 'decide', by, stepRule(context, 'Mutation.decidePlacement')));
    },

    admitPatient: async (_, { placementId, admittedOn }, context) => {
      const by = requireActor(context.actor);
      // Admission re-checks the placement against the indication and phase bounds as they are now (asked before the transaction).
      const known = await context.prisma.placement.findUnique({ where: { id: placementId }, select: { trajectoryId: true } });
      if (!known) throw notFound('Placement', placementId);
      const trajectory = await context.indications.trajectory(known.trajectoryId, context.gatewayToken);
      return context.prisma.$transaction((tx) =>
        applyStep(tx, placementId, 'admit', by, stepRule(context, 'Mutation.admitPatient'), {
          data: { admittedAt: admittedOn },
          validate: (placement) => {
            if (!trajectory) throw notFound('Trajectory', placement.trajectoryId);
            assertPlacementFits(trajectory, placement.patientId, placement.careType, placement.securityLevel);
            assertEffectiveDate(admittedOn, placement.requestedAt, 'admittedOn');
          },
        }),
      );
    },

    transferPlacement: (_, { placementId, toProviderId, transferredOn }, context) => {
      const by = requireActor(context.actor);
      return context.prisma.$transaction(async (tx) => {
        // The sending provider or the placing organisation; the receiving provider cannot transfer a patient to itself.
        const from = await applyStep(tx, placementId, 'transfer', by, stepRule(context, 'Mutation.transferPlacement'), {
          data: { endedAt: transferredOn },
          validate: (placement) => {
            assertEffectiveDate(transferredOn, placement.admittedAt ?? placement.requestedAt, 'transferredOn');
            if (placement.providerId === toProviderId) throw badInput('A transfer goes to another provider.', 'toProviderId');
          },
        });
        await assertOffers(tx, { providerId: toProviderId, careType: from.careType, securityLevel: from.securityLevel }, 'toProviderId');
        const next = await tx.placement.create({
          data: {
            id: randomUUID(),
            patientId: from.patientId,
            trajectoryId: from.trajectoryId,
            providerId: toProviderId,
            careType: from.careType,
            securityLevel: from.securityLevel,
            status: INITIAL_STATUS.transfer,
            requestedAt: transferredOn,
            admittedAt: transferredOn,
            transferredFromId: from.id,
          },
        });
        await claimPlace(tx, next);
        await recordEvent(tx, next, null, null, by);
        return next;
      });
    },

    endPlacement: (_, { placementId, endedOn, reason }, context) => {
      const by = requireActor(context.actor);
      const why = assertReason(reason);
      return context.prisma.$transaction((tx) =>
        applyStep(tx, placementId, 'end', by, stepRule(context, 'Mutation.endPlacement'), {
          reason: why,
          data: { endedAt: endedOn },
          validate: (placement) => assertEffectiveDate(endedOn, placement.admittedAt ?? placement.requestedAt, 'endedOn'),
        }),
      );
    },

    withdrawPlacement: (_, { placementId, reason }, context) => {
      const by = requireActor(context.actor);
      const why = assertReason(reason);
      return context.prisma.$transaction((tx) => applyStep(tx, placementId, 'withdraw', by, stepRule(context, 'Mutation.withdrawPlacement'), { reason: why }));
    },
  },
};

/**
 * The write rule of a step on an existing placement, with the relationship facts it may rely on:
 * the placement's provider (addressed, sending) from the row read in the transaction; the placing
 * organisation by care type, and where the policy says so by the trajectory's legal title or
 * assigned probation organisation (asked of indicatiestelling only then).
 */
function stepRule(context: Context, coordinate: string): StepAuthorization {
  const { principal, writes, indications, gatewayToken } = context;
  return (placement) =>
    writes.authorize(coordinate, placement.patientId, {
      addressed: placement.providerId === principal.organisationId,
      sending: placement.providerId === principal.organisationId,
      placing: async () => {
        const policy = loadAccessPolicy();
        if (!placingNeedsTrajectory(policy, principal.role))
          return isPlacingOrganisation(policy, principal, placement.careType, { legalTitle: '', probationOrganisation: null, status: 'ACTIVE' });
        const trajectory = await indications.trajectory(placement.trajectoryId, gatewayToken);
        return trajectory !== null && isPlacingOrganisation(policy, principal, placement.careType, trajectory);
      },
    });
}

/** Provider filters as SQL conditions; with a care type or level, free places are counted for that offer only. */
function providerWhere(filter: ProviderFilter, totalPlaces: Prisma.FieldRef<'ProviderCapacity', 'Int'>): Prisma.ProviderWhereInput {
  if (filter.securityLevel != null) assertSecurityLevel(filter.securityLevel, 'filter.securityLevel');
  const offer: Prisma.ProviderCapacityWhereInput = {
    ...(filter.careType ? { careType: filter.careType } : {}),
    ...(filter.securityLevel != null ? { securityLevel: filter.securityLevel } : {}),
  };
  const free: Prisma.ProviderCapacityWhereInput = { ...offer, occupiedPlaces: { lt: totalPlaces } };
  const conditions: Prisma.ProviderWhereInput[] = [];
  if (filter.region) conditions.push({ region: filter.region });
  if (filter.type) conditions.push({ type: filter.type });
  if (filter.careType || filter.securityLevel != null || filter.hasFreePlaces === false) conditions.push({ capacity: { some: offer } });
  if (filter.hasFreePlaces === true) conditions.push({ capacity: { some: free } });
  if (filter.hasFreePlaces === false) conditions.push({ capacity: { none: free } });
  return conditions.length ? { AND: conditions } : {};
}
