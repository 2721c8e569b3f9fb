/**
 * The writes behind the placement mutations, always inside the caller's transaction: a status
 * change guarded by the lifecycle table, the capacity it claims or frees, and the event that
 * records it (outbox and history in one row).
 */
import { badInput, domainError, notFound, type Actor } from '@ketengraph/service-kit';
import { transition, type PlacementStep } from './domain/lifecycle.js';
import { EVENT_CHANNEL } from './events.js';
import type { CareType, Placement, PlacementStatus, Prisma } from './generated/prisma/client.js';

type Tx = Prisma.TransactionClient;

/** Columns a step may set besides the status. */
type StepData = Partial<Pick<Placement, 'admittedAt' | 'endedAt' | 'declineReason'>>;

export interface StepOptions {
  reason?: string | null;
  data?: StepData;
  /** Checks that need the current placement (dates against earlier steps); run after the lifecycle check. */
  validate?: (placement: Placement) => void;
}

/** The write-rule check of a step, on the placement as read in the step's transaction. */
export type StepAuthorization = (placement: Placement) => Promise<void>;

/** Takes one lifecycle step; refuses it (and so rolls back the transaction) when it is not allowed. */
export async function applyStep(
  tx: Tx,
  placementId: string,
  step: PlacementStep,
  actor: Actor,
  authorize: StepAuthorization,
  options: StepOptions = {},
): Promise<Placement> {
  const placement = await tx.placement.findUnique({ where: { id: placementId } });
  if (!placement) throw notFound('Placement', placementId);
  // Before anything about the placement's state is told: a caller who may not take the step learns nothing more.
  await authorize(placement);
  const { to, capacity } = transition(placement.status, step);
  options.validate?.(placement);
  // Conditional on the status read above: of two concurrent steps on one placement only one applies.
  const changed = await tx.placement.updateMany({ where: { id: placement.id, status: placement.status }, data: { status: to, ...options.data } });
  if (changed.count === 0) {
    throw domainError('INVALID_TRANSITION', `The placement changed while it could ${step}; it is no longer ${placement.status}. Reload and try again.`, {
      status: placement.status,
      step,
    });
  }
  if (capacity === 'claim') await claimPlace(tx, placement);
  if (capacity === 'release') await releasePlace(tx, placement);
  const updated: Placement = { ...placement, ...options.data, status: to };
  await recordEvent(tx, updated, placement.status, options.reason ?? null, actor);
  return updated;
}

type Offer = Pick<Placement, 'providerId' | 'careType' | 'securityLevel'>;

/**
 * Claims a free place with one conditional update, so two admissions for the last place cannot
 * both succeed; the CHECK constraint on the table backs this up.
 */
export async function claimPlace(tx: Tx, { providerId, careType, securityLevel }: Offer): Promise<void> {
  const claimed = await tx.providerCapacity.updateMany({
    where: { providerId, careType, securityLevel, occupiedPlaces: { lt: tx.providerCapacity.fields.totalPlaces } },
    data: { occupiedPlaces: { increment: 1 } },
  });
  if (claimed.count === 1) return;
  await assertOffers(tx, { providerId, careType, securityLevel });
  throw domainError('NO_CAPACITY', `The provider has no free place for ${careType} at security level ${securityLevel}.`, {
    providerId,
    careType,
    securityLevel,
  });
}

export async function releasePlace(tx: Tx, { providerId, careType, securityLevel }: Offer): Promise<void> {
  await tx.providerCapacity.updateMany({
    where: { providerId, careType, securityLevel, occupiedPlaces: { gt: 0 } },
    data: { occupiedPlaces: { decrement: 1 } },
  });
}

/** The provider exists (NOT_FOUND) and offers this care type at this level at all (BAD_USER_INPUT). */
export async function assertOffers(
  tx: Tx,
  { providerId, careType, securityLevel }: { providerId: string; careType: CareType; securityLevel: number },
  field = 'providerId',
): Promise<void> {
  const provider = await tx.provider.findUnique({
    where: { id: providerId },
    select: { id: true, capacity: { where: { careType, securityLevel }, select: { providerId: true } } },
  });
  if (!provider) throw notFound('Provider', providerId);
  if (provider.capacity.length === 0) throw badInput(`The provider does not offer ${careType} care at security level ${securityLevel}.`, field);
}

/**
 * Event writers take turns from here to commit, so sequence numbers become visible in order:
 * otherwise a reader could see sequence 11 committed before 10 and skip 10 for good.
 */
const EVENT_ORDER_LOCK = 4_242_001;

export async function recordEvent(tx: Tx, placement: Placement, fromStatus: PlacementStatus | null, reason: string | null, actor: Actor): Promise<void> {
  // One statement takes the turn, writes the event and queues the notification that wakes the
  // feed's waiting readers (the gateway's long poll) at commit: the turn is held until commit and
  // every other writer waits for it, so no round trip through this process happens in between.
  // The time is taken under the turn (UTC, as Prisma stores DateTime), so it follows the sequence.
  await tx.$executeRaw`
    WITH "turn" AS (SELECT pg_advisory_xact_lock(${EVENT_ORDER_LOCK}::bigint)),
    "event" AS (
      INSERT INTO "PlacementEvent" ("placementId", "patientId", "trajectoryId", "providerId", "fromStatus", "toStatus", "occurredAt", "reason", "actorId", "actorOrganisationId")
      SELECT ${placement.id}, ${placement.patientId}, ${placement.trajectoryId}, ${placement.providerId}, ${fromStatus}::"PlacementStatus",
        ${placement.status}::"PlacementStatus", (clock_timestamp() AT TIME ZONE 'UTC')::timestamp(3), ${reason}, ${actor.userId}, ${actor.organisationId}
      FROM "turn"
      RETURNING "sequence")
    SELECT pg_notify(${EVENT_CHANNEL}, '') FROM "event"`;
}
