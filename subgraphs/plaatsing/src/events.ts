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
/** Changes `placementChanges` answers at once. */
export const MAX_CHANGES = 100;
/** The longest a feed read waits for a change to be committed (a long poll). */
export const MAX_FEED_WAIT_MS = 30_000;
/** Notified in every transaction that records an event; PostgreSQL delivers it at commit, to every listening process. */
export const EVENT_CHANNEL = 'placement_events';

/**
 * Wakes the feed reads waiting for a change. Notified when the database reports an event's
 * commit (LISTEN on EVENT_CHANNEL): from this process's transactions and, on PostgreSQL, from
 * every other plaatsing instance's.
 */
export class EventSignal {
  private readonly waiters = new Set<() => void>();

  notify(): void {
    const woken = [...this.waiters];
    this.waiters.clear();
    for (const wake of woken) wake();
  }

  /** A wait for the next notification, at most `ms`; taken before reading, so a commit between the read and the wait still wakes it. */
  next(ms: number): { woken: Promise<void>; cancel(): void } {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const timer = setTimeout(() => cancel(), ms);
    const cancel = () => {
      clearTimeout(timer);
      this.waiters.delete(wake);
      wake();
    };
    this.waiters.add(wake);
    return { woken: woken.finally(() => clearTimeout(timer)), cancel };
  }
}

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

/**
 * Like readFeed, but when nothing follows `after` yet, waits up to `waitMs` for a change to be
 * committed and answers as soon as one is (the gateway's push path; its own timer is the safety net).
 */
export async function awaitFeed(
  prisma: PrismaClient,
  signal: EventSignal,
  after: bigint,
  limit: number,
  retentionDays: number,
  waitMs: number,
): Promise<PlacementEvent[]> {
  if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_FEED_WAIT_MS) throw badInput(`waitMs must be between 0 and ${MAX_FEED_WAIT_MS}.`, 'waitMs');
  const deadline = Date.now() + waitMs;
  for (;;) {
    const left = deadline - Date.now();
    const wait = left > 0 ? signal.next(left) : null;
    let events: PlacementEvent[];
    try {
      events = await readFeed(prisma, after, limit, retentionDays);
    } catch (error) {
      wait?.cancel();
      throw error;
    }
    if (events.length > 0 || !wait) {
      wait?.cancel();
      return events;
    }
    await wait.woken;
  }
}

export async function feedHead(prisma: PrismaClient): Promise<bigint> {
  const newest = await prisma.placementEvent.findFirst({ orderBy: { sequence: 'desc' }, select: { sequence: true } });
  return newest?.sequence ?? 0n;
}
