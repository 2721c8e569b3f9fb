import { DEFAULT_SEED, generatePatients, generateProviders, Random, type SeedPlacement, type SeedPlacementStep } from '@ketengraph/seed-data';
import type { SeedOptions } from '@ketengraph/service-kit';
import { holdsPlace, type PlacementStatus } from './domain/lifecycle.js';
import type { Prisma, PrismaClient } from './generated/prisma/client.js';

/** Organisation recorded on seeded events: DJI takes the request, decision and withdrawal; the provider the rest. */
const DJI = 'dji';
const DJI_STEPS = new Set<PlacementStatus>(['REQUESTED', 'DECIDED', 'WITHDRAWN']);

/**
 * Writes this subgraph's slice of the synthetic chain: providers with capacity, placements and
 * their steps as events. Capacity follows the placements: occupied = admitted placements, total
 * = occupied plus a deterministic 0-6 free places, so some offers are full.
 */
export async function seed(prisma: PrismaClient, { seed, patients }: SeedOptions): Promise<void> {
  seed ??= DEFAULT_SEED;
  const providers = generateProviders(seed);
  await prisma.provider.createMany({ data: providers.map(({ id, name, type, region }) => ({ id, name, type, region })) });

  // Offers per provider: what its kind offers, plus what the generator placed there anyway.
  const occupied = new Map<string, { providerId: string; careType: SeedPlacement['careType']; securityLevel: number; count: number }>();
  const offer = (providerId: string, careType: SeedPlacement['careType'], securityLevel: number) => {
    const key = `${providerId}:${careType}:${securityLevel}`;
    let entry = occupied.get(key);
    if (!entry) occupied.set(key, (entry = { providerId, careType, securityLevel, count: 0 }));
    return entry;
  };
  for (const provider of providers) for (const c of provider.capacity) offer(provider.id, c.careType, c.securityLevel);

  let placements: Prisma.PlacementCreateManyInput[] = [];
  // Events are inserted last, in the order they happened, so their sequence numbers follow time
  // as in a live system (the generator produces them patient by patient).
  const events: Prisma.PlacementEventCreateManyInput[] = [];
  const flush = async () => {
    await prisma.placement.createMany({ data: placements });
    placements = [];
  };
  for (const patient of generatePatients(seed, patients, providers)) {
    for (const trajectory of patient.trajectories) {
      for (const placement of trajectory.placements) {
        const step = (status: PlacementStatus) => placement.steps.find((s) => s.status === status);
        const ended = step('ENDED') ?? step('TRANSFERRED');
        placements.push({
          id: placement.id,
          patientId: patient.id,
          trajectoryId: trajectory.id,
          providerId: placement.providerId,
          careType: placement.careType,
          securityLevel: placement.securityLevel,
          status: placement.status,
          requestedAt: placement.steps[0]!.at,
          admittedAt: step('ADMITTED')?.at ?? null,
          endedAt: ended?.at ?? null,
          declineReason: step('DECLINED')?.reason ?? null,
          transferredFromId: placement.transferredFromId ?? null,
        });
        placement.steps.forEach((s: SeedPlacementStep, i) => {
          events.push({
            placementId: placement.id,
            patientId: patient.id,
            trajectoryId: trajectory.id,
            providerId: placement.providerId,
            fromStatus: i === 0 ? null : placement.steps[i - 1]!.status,
            toStatus: s.status,
            occurredAt: s.at,
            reason: s.reason ?? null,
            actorId: 'seed',
            actorOrganisationId: DJI_STEPS.has(s.status) ? DJI : placement.providerId,
          });
        });
        const entry = offer(placement.providerId, placement.careType, placement.securityLevel);
        if (holdsPlace(placement.status)) entry.count++;
      }
    }
    if (placements.length >= 1000) await flush();
  }
  if (placements.length) await flush();
  events.sort((a, b) => (a.occurredAt as Date).getTime() - (b.occurredAt as Date).getTime());
  for (let i = 0; i < events.length; i += 2000) await prisma.placementEvent.createMany({ data: events.slice(i, i + 2000) });

  await prisma.providerCapacity.createMany({
    data: [...occupied.values()].map(({ providerId, careType, securityLevel, count }) => ({
      providerId,
      careType,
      securityLevel,
      occupiedPlaces: count,
      totalPlaces: count + new Random(seed, `capacity:${providerId}:${careType}:${securityLevel}`).int(0, 6),
    })),
  });
}
