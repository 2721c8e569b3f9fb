/**
 * The placement event log as a feed: the same PlacementEvent rows that are the placement history
 * (written in the transaction of each change, see placements.ts), read in sequence order by the
 * gateway to serve subscriptions and webhooks.
 *
 * Retention is a window on reading, not a deletion: the rows are also the placement's history,
 * which stays. A reader whose next event is older than the window has missed what it can no
 * longer be sure to get, so it is told CURSOR_EXPIRED and resynchronises.
 */
import { badInput, domainError, unauthorized } from '@ketengraph/service-kit';
import type { PlacementEvent, PrismaClient } from './generated/prisma/client.js';

/** The internal scope the gateway's event reader carries; no role is granted it. */
export const EVENT_READ_SCOPE = 'events:read';
export const MAX_FEED_BATCH = 1000;

export function requireEventReader(scopes: readonly string[], coordinate: string): void {
  if (!scopes.includes(EVENT_READ_SCOPE)) throw unauthorized(coordinate);
}

export function parseSequence(value: string, field: string): bigint {
  if (!/^(0|[1-9]\d{0,18})$/.test(value)) throw badInput('A sequence number is a non-negative decimal integer.', field);
  return BigInt(value);
}

/** Events after `after`, oldest first; CURSOR_EXPIRED when the first of them is past the retention. */
export async function readFeed(prisma: PrismaClient, after: bigint, limit: number, retentionDays: number): Promise<PlacementEvent[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FEED_BATCH) throw badInput(`limit must be between 1 and ${MAX_FEED_BATCH}.`, 'limit');
  const events = await prisma.placementEvent.findMany({ where: { sequence: { gt: after } }, orderBy: { sequence: 'asc' }, take: limit });
  const oldestKept = Date.now() - retentionDays * 86_400_000;
  if (events[0] && events[0].occurredAt.getTime() < oldestKept) {
    throw domainError(
      'CURSOR_EXPIRED',
      `Events after this cursor are older than the retention of ${retentionDays} days and may be incomplete; resynchronise (read the current state) and subscribe without a cursor.`,
      { retentionDays },
    );
  }
  return events;
}

export async function feedHead(prisma: PrismaClient): Promise<bigint> {
  const newest = await prisma.placementEvent.findFirst({ orderBy: { sequence: 'desc' }, select: { sequence: true } });
  return newest?.sequence ?? 0n;
}
