import { byIdLoader, groupLoader, type Database } from '@ketengraph/service-kit';
import DataLoader from 'dataloader';
import { Prisma, type Placement, type PlacementStatus, type PrismaClient, type Provider, type ProviderCapacity } from './generated/prisma/client.js';
import { carePlacementWhere } from './access.js';

export interface ProviderPlacementsKey {
  providerId: string;
  status: PlacementStatus | null;
  size: number;
  after: string | null;
  /** Under a relationship grant: only placements of these patients (the caller's own); null means all. */
  patientIds: readonly string[] | null;
}

/** A provider as read with its capacity, in one statement. */
export type ProviderWithCapacity = Provider & { capacity: ProviderCapacity[] };
/** A placement as read by placementsByTrajectory: with its provider (and the provider's capacity). */
export type PlacementWithProvider = Placement & { provider: ProviderWithCapacity };

/** The capacity of provider `p`, as a JSON array (no dates: JSON keeps every value as Prisma types it). */
const CAPACITY_OF_P = Prisma.sql`COALESCE((
  SELECT json_agg(json_build_object('providerId', c."providerId", 'careType', c."careType", 'securityLevel', c."securityLevel",
    'totalPlaces', c."totalPlaces", 'occupiedPlaces', c."occupiedPlaces") ORDER BY c."careType", c."securityLevel")
  FROM "ProviderCapacity" c WHERE c."providerId" = p."id"), '[]')`;

/**
 * The reads every whole-trajectory request makes, in SQL on the driver (`db.read`): a statement
 * through Prisma's findMany costs about twice the CPU, and a trajectory's placements come with
 * their providers and the providers' capacity in the same statement (three through Prisma). Each
 * returns the rows exactly as the Prisma model types them (test/plaatsing.test.ts compares them
 * with findMany's).
 */
export const reads = {
  placementsByTrajectory: (db: Database, trajectoryIds: readonly string[]) =>
    db.read<PlacementWithProvider>(
      Prisma.sql`SELECT "id", "patientId", "trajectoryId", "providerId", "careType"::text, "securityLevel", "status"::text, "requestedAt", "admittedAt",
        "endedAt", "declineReason", "transferredFromId",
        (SELECT json_build_object('id', p."id", 'name', p."name", 'type', p."type", 'region', p."region", 'capacity', ${CAPACITY_OF_P})
          FROM "Provider" p WHERE p."id" = pl."providerId") AS "provider"
      FROM "Placement" pl WHERE "trajectoryId" = ANY(${trajectoryIds}) ORDER BY "requestedAt" DESC, "id" ASC`,
    ),
  providersWithCapacity: (db: Database, ids: readonly string[]) =>
    db.read<ProviderWithCapacity>(
      Prisma.sql`SELECT p."id", p."name", p."type"::text, p."region"::text, ${CAPACITY_OF_P} AS "capacity" FROM "Provider" p WHERE p."id" = ANY(${ids})`,
    ),
};

/** One set per request: every entity reference and list field resolves through these. */
export function createLoaders(prisma: PrismaClient, db: Database) {
  const capacityByProvider = groupLoader(
    (ids) =>
      prisma.providerCapacity.findMany({
        where: { providerId: { in: [...ids] } },
        orderBy: [{ providerId: 'asc' }, { careType: 'asc' }, { securityLevel: 'asc' }],
      }),
    (row) => row.providerId,
  );
  const primeProvider = ({ capacity, ...provider }: ProviderWithCapacity): Provider => {
    capacityByProvider.prime(provider.id, capacity);
    return provider;
  };
  // A provider's capacity arrives with it (and is primed for capacityByProvider): its fields nearly always ask it.
  const provider = byIdLoader(async (ids) => (await reads.providersWithCapacity(db, ids)).map(primeProvider));
  return {
    provider,
    capacityByProvider,
    placement: byIdLoader((ids) => prisma.placement.findMany({ where: { id: { in: [...ids] } } })),
    // The providers that have each patient as their own patient (forensisch-cv's careProvidersOfPatient), one statement per request.
    careProvidersByPatient: groupLoader(
      (ids) =>
        prisma.placement.findMany({
          where: { patientId: { in: [...ids] }, ...carePlacementWhere() },
          select: { patientId: true, providerId: true },
          distinct: ['patientId', 'providerId'],
          orderBy: [{ patientId: 'asc' }, { providerId: 'asc' }],
        }),
      (row) => row.patientId,
    ),
    placementsByPatient: groupLoader(
      (ids) => prisma.placement.findMany({ where: { patientId: { in: [...ids] } }, orderBy: [{ requestedAt: 'desc' }, { id: 'asc' }] }),
      (row) => row.patientId,
    ),
    // A trajectory's placements arrive with their providers, primed into the provider loader.
    placementsByTrajectory: groupLoader(
      async (ids) =>
        (await reads.placementsByTrajectory(db, ids)).map(({ provider: withCapacity, ...placement }) => {
          provider.prime(placement.providerId, primeProvider(withCapacity));
          return placement;
        }),
      (row) => row.trajectoryId,
    ),
    transferredTo: groupLoader(
      (ids) => prisma.placement.findMany({ where: { transferredFromId: { in: [...ids] } } }),
      (row) => row.transferredFromId!,
    ),
    historyByPlacement: groupLoader(
      (ids) => prisma.placementEvent.findMany({ where: { placementId: { in: [...ids] } }, orderBy: [{ placementId: 'asc' }, { sequence: 'asc' }] }),
      (row) => row.placementId,
    ),
    providerPlacements: providerPlacementsLoader(prisma),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** One page of a provider's placements: `size + 1` rows past the cursor (keyset) and the count of the whole filtered list. */
export interface ProviderPlacementsPage {
  rows: Placement[];
  totalCount: number;
}

/**
 * A provider's placements can run into the hundreds, so they are paged in SQL (keyset by id, per
 * provider) rather than loaded whole. Keys asking the same page of different providers share one
 * statement, which carries the per-provider count too.
 */
function providerPlacementsLoader(prisma: PrismaClient): DataLoader<ProviderPlacementsKey, ProviderPlacementsPage, string> {
  return new DataLoader(
    async (keys) => {
      const groups = new Map<string, ProviderPlacementsKey[]>();
      for (const key of keys) {
        const page = JSON.stringify([key.status, key.size, key.after, key.patientIds]);
        groups.set(page, [...(groups.get(page) ?? []), key]);
      }
      const results = new Map<string, ProviderPlacementsPage>();
      await Promise.all(
        [...groups.values()].map(async (group) => {
          const { status, size, after, patientIds } = group[0]!;
          const visible = { ...(status ? { status } : {}), ...(patientIds ? { patientId: { in: [...patientIds] } } : {}) };
          const rows = await prisma.provider.findMany({
            where: { id: { in: group.map((key) => key.providerId) } },
            select: {
              id: true,
              placements: { where: after ? { AND: [visible, { id: { gt: after } }] } : visible, orderBy: { id: 'asc' }, take: size + 1 },
              _count: { select: { placements: { where: visible } } },
            },
          });
          const byProvider = new Map(rows.map((row) => [row.id, row]));
          for (const key of group) {
            const row = byProvider.get(key.providerId);
            results.set(cacheKey(key), { rows: row?.placements ?? [], totalCount: row?._count.placements ?? 0 });
          }
        }),
      );
      return keys.map((key) => results.get(cacheKey(key))!);
    },
    { cacheKeyFn: cacheKey },
  );
}

function cacheKey(key: ProviderPlacementsKey): string {
  return JSON.stringify([key.providerId, key.status, key.size, key.after, key.patientIds]);
}
