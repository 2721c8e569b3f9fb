/**
 * The placement event feed at the gateway: plaatsing's event log (its outbox), read over the
 * gateway's own connection to plaatsing. One follower per gateway process follows the log and
 * fans new events out to every listener (subscriptions, webhooks); replays read the log directly.
 *
 * The follower long-polls: plaatsing holds its read until a change is committed (it LISTENs for
 * the NOTIFY each change's transaction sends, so also for changes made through other plaatsing
 * instances) and answers at once, so a change reaches the gateway as it commits. A read answers
 * empty after EVENT_POLL_INTERVAL_MS at the latest, and the follower asks again: should a
 * notification be lost, that is the longest a change waits (the poll is the safety net).
 *
 * Every gateway instance follows the same plaatsing database, so each sees the events caused
 * through any other instance. plaatsing makes sequence numbers visible in commit order, so
 * reading "after the last sequence seen" never skips an event. The follower runs only while
 * someone listens: an idle gateway sends plaatsing nothing.
 */
import { decodeEventCursor, encodeEventCursor, errorDetails, serviceLogger, type Principal } from '@ketengraph/service-kit';
import type { SubgraphTokens } from '../federation/subgraph-tokens.js';

const log = serviceLogger('gateway');

export interface PlacementChangeEvent {
  sequence: bigint;
  cursor: string;
  placementId: string;
  patientId: string;
  trajectoryId: string;
  providerId: string;
  fromStatus: string | null;
  toStatus: string;
  occurredAt: Date;
}

/** The events after a cursor are past plaatsing's retention (CURSOR_EXPIRED): the reader must resynchronise. */
export class CursorExpiredError extends Error {
  readonly code = 'CURSOR_EXPIRED';
}

/** plaatsing could not be read (down, slow, refused); worth retrying. */
export class FeedUnavailableError extends Error {
  readonly code = 'DEPENDENCY_UNAVAILABLE';
}

export interface EventFeed {
  /**
   * Events after `after` (exclusive), ascending, at most `limit`; throws CursorExpiredError if
   * `after` predates retention. Resolves only once this instance's poller has a position, so a
   * listener registered before the call misses no event after what the call returns.
   */
  read(after: bigint, limit: number): Promise<PlacementChangeEvent[]>;
  /** The newest sequence now (the starting point of a live-only subscriber); waits for the poller like `read`. */
  head(): Promise<bigint>;
  /** The event with this sequence (null: none), from the events this instance saw lately or else from the log; throws like `read`. */
  event(sequence: bigint): Promise<PlacementChangeEvent | null>;
  /**
   * Called, in order, with every new event seen by this instance; returns an unsubscribe function.
   * `onInterrupted` is told when the poller had to skip events (its own position expired), so a
   * listener that promises "no gaps" can end its stream instead.
   */
  onEvents(listener: (events: PlacementChangeEvent[]) => void, onInterrupted?: (error: Error) => void): () => void;
  close(): Promise<void>;
}

export function encodeCursor(sequence: bigint): string {
  return encodeEventCursor(sequence);
}

/** The sequence in a cursor; a GraphQLError with code BAD_USER_INPUT for anything else. */
export function decodeCursor(cursor: string): bigint {
  return decodeEventCursor(cursor);
}

/**
 * Who the gateway reads the log as: its own system identity with the internal scope plaatsing's
 * feed fields require. The role is one without any patient-level grant; the feed is not reachable
 * through the public graph (its fields are @inaccessible).
 */
export const EVENT_READER: Principal = Object.freeze({
  subject: 'urn:ketengraph:gateway:event-reader',
  organisationId: 'ketengraph-gateway',
  role: 'beleid',
  scopes: Object.freeze(['events:read']),
  purpose: null,
});

export interface EventFeedOptions {
  /** plaatsing's GraphQL endpoint. */
  url: string;
  tokens: SubgraphTokens;
  /** EVENT_POLL_INTERVAL_MS: the longest one read waits for a change (long poll), and the pause after a failed read. */
  pollIntervalMs: number;
  /** Events per poll (plaatsing serves at most 1000). */
  batchSize?: number;
  /** How long one read of plaatsing may take. */
  timeoutMs?: number;
}

const FEED_QUERY = `query PlacementEventFeed($after: String!, $limit: Int!, $waitMs: Int) {
  placementEventFeed(after: $after, limit: $limit, waitMs: $waitMs) { sequence placementId patientId trajectoryId providerId fromStatus toStatus occurredAt }
}`;
/** plaatsing holds a read at most this long. */
const MAX_WAIT_MS = 30_000;
/** Events kept for `event(sequence)` (a webhook delivery's event), newest first out. */
const RECENT_EVENTS = 5000;
const HEAD_QUERY = 'query PlacementEventHead { placementEventHead }';

/** An event as plaatsing's feed sends it: the sequence and time as strings, no cursor yet. */
type FeedRow = Omit<PlacementChangeEvent, 'sequence' | 'cursor' | 'occurredAt'> & { sequence: string; occurredAt: string };

interface Listener {
  events: (events: PlacementChangeEvent[]) => void;
  interrupted?: ((error: Error) => void) | undefined;
}

export function createEventFeed(options: EventFeedOptions): EventFeed {
  const batchSize = options.batchSize ?? 500;
  const timeoutMs = options.timeoutMs ?? 5000;
  const listeners = new Set<Listener>();
  const inFlight = new Set<AbortController>();
  let position: bigint | null = null;
  let starting: Promise<void> | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let polling: Promise<void> | null = null;
  let failing = false;
  // Bumped when the poller stops, so a poll still in flight from before is discarded.
  let generation = 0;

  const recent = new Map<bigint, PlacementChangeEvent>();
  const waitMs = Math.min(options.pollIntervalMs, MAX_WAIT_MS);
  /** The follower's read waiting in plaatsing, ended when the last listener goes. */
  let waiting: AbortController | null = null;

  async function call<T>(query: string, variables: Record<string, unknown>, wait = 0): Promise<T> {
    if (closed) throw new FeedUnavailableError('The event feed is closed.');
    const abort = new AbortController();
    inFlight.add(abort);
    const timeout = setTimeout(() => abort.abort(), timeoutMs + wait);
    if (wait) waiting = abort;
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await options.tokens.tokenFor(EVENT_READER)}` },
        body: JSON.stringify({ query, variables }),
        signal: abort.signal,
      });
      const body = (await response.json()) as { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };
      const error = body.errors?.[0];
      if (error?.extensions?.code === 'CURSOR_EXPIRED') throw new CursorExpiredError(error.message);
      if (error || !body.data) throw new FeedUnavailableError(`plaatsing refused the event feed read (${error?.extensions?.code ?? response.status}).`);
      return body.data;
    } catch (error) {
      if (error instanceof CursorExpiredError || error instanceof FeedUnavailableError) throw error;
      throw new FeedUnavailableError('plaatsing could not be reached for the event feed.');
    } finally {
      clearTimeout(timeout);
      inFlight.delete(abort);
      if (waiting === abort) waiting = null;
    }
  }

  const fetchHead = async () => BigInt((await call<{ placementEventHead: string }>(HEAD_QUERY, {})).placementEventHead);

  async function fetchEvents(after: bigint, limit: number, waiting = 0): Promise<PlacementChangeEvent[]> {
    const data = await call<{ placementEventFeed: FeedRow[] }>(FEED_QUERY, { after: after.toString(), limit, waitMs: waiting }, waiting);
    return data.placementEventFeed.map((row) => {
      const sequence = BigInt(row.sequence);
      return { ...row, sequence, cursor: encodeEventCursor(sequence), occurredAt: new Date(row.occurredAt) };
    });
  }

  /** The poller's starting point: the head when it first could be read after a listener came. */
  async function ensureStarted(): Promise<void> {
    while (position === null) {
      const started = generation;
      starting ??= fetchHead()
        .then((head) => {
          if (started === generation) position ??= head;
        })
        .finally(() => {
          starting = null;
        });
      await starting;
    }
  }

  function emit(events: PlacementChangeEvent[]): void {
    for (const listener of [...listeners]) {
      try {
        listener.events(events);
      } catch (error) {
        log.error(errorDetails(error), 'event listener failed');
      }
    }
  }

  /** One long-polling read; its events go to every listener. */
  async function pollOnce(): Promise<void> {
    const polled = generation;
    await ensureStarted();
    if (position === null) return;
    let events: PlacementChangeEvent[];
    try {
      events = await fetchEvents(position, batchSize, waitMs);
    } catch (error) {
      if (!(error instanceof CursorExpiredError)) throw error;
      // The poller itself fell behind the retention (plaatsing unreachable for that long): the
      // events in between cannot be delivered live, so every listener is told, then it starts over.
      log.error('event poller position expired; listeners interrupted');
      position = await fetchHead();
      for (const listener of [...listeners]) listener.interrupted?.(error);
      return;
    }
    if (closed || polled !== generation) return;
    if (events.length) {
      position = events[events.length - 1]!.sequence;
      for (const event of events) recent.set(event.sequence, event);
      for (const sequence of recent.keys()) {
        if (recent.size <= RECENT_EVENTS) break;
        recent.delete(sequence);
      }
      emit(events);
    }
  }

  function schedule(delay: number): void {
    if (closed || listeners.size === 0 || timer || polling) return;
    timer = setTimeout(() => {
      timer = null;
      const polled = generation;
      polling = pollOnce()
        .then(
          () => {
            if (failing) log.info('event feed reachable again');
            failing = false;
            // The next read right away: it waits in plaatsing for the next change.
            return 0;
          },
          (error: unknown) => {
            if (polled !== generation) return 0; // ended by stop(): nobody listened any more
            // Logged once per outage, without event data; the poller keeps trying at its interval.
            if (!failing && !closed) log.warn(errorDetails(error), 'event feed unavailable');
            failing = true;
            return options.pollIntervalMs;
          },
        )
        .then((next) => {
          polling = null;
          schedule(next);
        });
    }, delay);
  }

  /** Nobody listens: stop polling and forget the position (the next listener starts from the head then). */
  function stop(): void {
    generation++;
    position = null;
    recent.clear();
    if (timer) clearTimeout(timer);
    timer = null;
    waiting?.abort();
    waiting = null;
  }

  return {
    async read(after, limit) {
      await ensureStarted();
      return fetchEvents(after, limit);
    },
    async head() {
      await ensureStarted();
      return fetchHead();
    },
    async event(sequence) {
      const seen = recent.get(sequence);
      if (seen) return seen;
      const [found] = await fetchEvents(sequence - 1n, 1);
      return found?.sequence === sequence ? found : null;
    },
    onEvents(listener, onInterrupted) {
      const entry: Listener = { events: listener, interrupted: onInterrupted };
      // The first listener starts the poller afresh from the head, not from a stale position.
      if (listeners.size === 0) stop();
      listeners.add(entry);
      schedule(0);
      return () => {
        if (listeners.delete(entry) && listeners.size === 0) stop();
      };
    },
    async close() {
      closed = true;
      stop();
      for (const abort of inFlight) abort.abort();
      await polling?.catch(() => undefined);
      listeners.clear();
    },
  };
}
