/**
 * One `placementChanged` subscription, whatever the transport: replay from the event log after
 * `after`, then the live events of this gateway's poller — in order, without gaps or duplicates
 * (live events are buffered from before the replay starts and deduplicated by sequence), each
 * resolved for the subscriber like a query (authorised, completed, audited) or skipped when the
 * subscriber may not see it.
 *
 * A stream ends with a typed error the client can act on; every one of them means "subscribe
 * again with `after` set to the last cursor you received" except CURSOR_EXPIRED (resynchronise)
 * and UNAUTHENTICATED (get a new token first).
 */
import { HttpError, type Principal } from '@ketengraph/service-kit';
import { GraphQLError, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import {
  CursorExpiredError,
  MAX_BATCH,
  type EventResolution,
  type GatewayEvents,
  type EventSelection,
  type PlacementChangeEvent,
  type PreparedSelection,
} from '../index.js';
import type { OperationParams } from '../../admission/admit.js';
import { LimitError } from '../../admission/limits/limits.js';
import { Channel } from './channel.js';
import { subscriptionMetrics } from '../../observability/metrics.js';

/** Events read from the log per step of a replay. */
const REPLAY_BATCH = 200;
/** Results waiting for a slow client before resolving pauses. */
const CHANNEL_CAPACITY = 50;
/** Live events queued for a subscriber that fell behind; beyond this it catches up from the log instead. */
const LIVE_BACKLOG = 1000;
/**
 * Changes resolved ahead of the one being delivered, still delivered strictly in order: the
 * changes a subscription has waiting are asked for together, so they are resolved in one batch
 * (shared with every subscription of the same selection and authorization context).
 */
const RESOLVE_AHEAD = MAX_BATCH;
// setTimeout overflows above ~24.8 days; later expiries are re-checked then.
const MAX_TIMER_MS = 2_147_483_647;

export interface SubscribeRequest {
  selection: EventSelection;
  principal: Principal;
  /** When the subscriber's token expires (ms since the epoch): the stream ends with UNAUTHENTICATED. Infinity when the transport ends it itself. */
  expiresAt: number;
  /** Names the subscription in the access log: each delivery is audited as request `<requestId>:<sequence>`. */
  requestId: string;
  /** The request's `extensions` (a trusted document's id travels there). */
  extensions?: Record<string, unknown> | null | undefined;
}

/**
 * The gateway's admission of a new subscription (admission/admit.ts): rate limit (a new
 * subscription counts as one request; what it delivers afterwards does not), trusted documents,
 * request limits. Returns the document to run; throws the refusal.
 */
export type AdmitSubscription = (principal: Principal, params: OperationParams) => Promise<string>;

export type OpenedSubscription = { errors: readonly GraphQLFormattedError[] } | { stream: Channel<FormattedExecutionResult> };

export interface PlacementChangeSubscriptions {
  /** Validates, checks access and the cursor, and starts the stream; errors come back instead of a stream. */
  open(request: SubscribeRequest): Promise<OpenedSubscription>;
  /** Ends every open stream with SHUTTING_DOWN (the client subscribes again, to any instance, with its last cursor). */
  close(): Promise<void>;
  /** Streams open now. */
  readonly size: number;
}

export const SUBSCRIPTION_ERRORS = {
  tokenExpired: () =>
    new GraphQLError('Your token expired, so the subscription ended. Subscribe again with a new token and `after` set to the last cursor you received.', {
      extensions: { code: 'UNAUTHENTICATED' },
    }),
  shuttingDown: () =>
    new GraphQLError('The gateway is restarting. Subscribe again with `after` set to the last cursor you received; no event is lost.', {
      extensions: { code: 'SHUTTING_DOWN' },
    }),
  interrupted: () =>
    new GraphQLError('The gateway could not follow the event log without a gap. Subscribe again with `after` set to the last cursor you received.', {
      extensions: { code: 'SUBSCRIPTION_INTERRUPTED' },
    }),
  unavailable: () =>
    new GraphQLError('The event log could not be read (plaatsing unavailable). Subscribe again later with `after` set to the last cursor you received.', {
      extensions: { code: 'DEPENDENCY_UNAVAILABLE' },
    }),
};

function asGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  if (error instanceof CursorExpiredError) return new GraphQLError(error.message, { extensions: { code: 'CURSOR_EXPIRED' } });
  return SUBSCRIPTION_ERRORS.unavailable();
}

/** A resolution failure ends the stream: skipping the event would leave a gap for this subscriber. */
function failureOf(errors: readonly GraphQLFormattedError[]): GraphQLError {
  const first = errors[0];
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
  return new GraphQLError(`${first?.message ?? 'The change could not be resolved.'} Subscribe again with \`after\` set to the last cursor you received.`, {
    extensions: { code },
  });
}

export function createPlacementChangeSubscriptions(events: GatewayEvents, admit: AdmitSubscription): PlacementChangeSubscriptions {
  const open = new Set<Channel<FormattedExecutionResult>>();

  async function start(request: SubscribeRequest): Promise<OpenedSubscription> {
    if (request.expiresAt <= Date.now()) return { errors: [SUBSCRIPTION_ERRORS.tokenExpired().toJSON()] };
    let prepared: PreparedSelection;
    try {
      const { selection } = request;
      const document = await admit(request.principal, {
        query: selection.document,
        operationName: selection.operationName,
        variables: selection.variables,
        extensions: request.extensions ?? undefined,
      });
      prepared = events.prepare({ ...selection, document });
    } catch (error) {
      if (error instanceof HttpError || error instanceof LimitError)
        return { errors: [{ message: error.message, extensions: { code: error instanceof HttpError ? error.code : error.extensions.code } }] };
      return { errors: [asGraphQLError(error).toJSON()] };
    }
    const refusal = await events.probe(prepared, { requestId: `${request.requestId}:check`, principal: request.principal });
    if (refusal) return { errors: refusal };

    const live: PlacementChangeEvent[] = [];
    /** Changes asked for and not yet delivered, in order (at most RESOLVE_AHEAD). */
    const ahead: { event: PlacementChangeEvent; resolution: Promise<EventResolution> }[] = [];
    /** The queue deliverInOrder takes from now: new live events are asked for as they arrive. */
    let taking: PlacementChangeEvent[] | null = null;
    let wake: (() => void) | null = null;
    let expiry: NodeJS.Timeout | null = null;
    // Registered before the first read: whatever the log gets after that read reaches `live`.
    const stopListening = events.feed.onEvents(
      (batch) => {
        live.push(...batch);
        if (taking === live) takeFrom(live);
        wake?.();
      },
      () => end(SUBSCRIPTION_ERRORS.interrupted()),
    );
    const channel = new Channel<FormattedExecutionResult>(CHANNEL_CAPACITY, () => {
      stopListening();
      if (expiry) clearTimeout(expiry);
      if (open.delete(channel)) subscriptionMetrics.open.dec();
      wake?.();
    });
    const end = (error: GraphQLError) => {
      if (!channel.ended) subscriptionMetrics.ended.inc({ code: String(error.extensions.code ?? 'INTERNAL_SERVER_ERROR') });
      channel.end(error);
    };

    let last: bigint;
    let first: PlacementChangeEvent[];
    try {
      last = prepared.after ?? (await events.feed.head());
      first = await events.feed.read(last, REPLAY_BATCH);
    } catch (error) {
      channel.end();
      return { errors: [asGraphQLError(error).toJSON()] };
    }

    const watchExpiry = () => {
      const left = request.expiresAt - Date.now();
      if (left <= 0) end(SUBSCRIPTION_ERRORS.tokenExpired());
      else if (Number.isFinite(left)) expiry = setTimeout(watchExpiry, Math.min(left, MAX_TIMER_MS));
    };
    open.add(channel);
    subscriptionMetrics.open.inc();
    watchExpiry();

    /** Asks for the next events of `queue` (after `last`), as many as RESOLVE_AHEAD leaves room for. */
    function takeFrom(queue: PlacementChangeEvent[]): void {
      while (ahead.length < RESOLVE_AHEAD && queue.length > 0 && !(queue === live && queue.length > LIVE_BACKLOG)) {
        const event = queue.shift()!;
        if (event.sequence <= (ahead.at(-1)?.event.sequence ?? last)) continue;
        const resolution = events.resolve(prepared, event, { requestId: `${request.requestId}:${event.sequence}`, principal: request.principal });
        resolution.catch(() => undefined); // awaited in turn by deliverInOrder; a stream that ends first leaves it unobserved
        ahead.push({ event, resolution });
      }
    }

    /**
     * Delivers the events of `queue` after `last` in order, resolving up to RESOLVE_AHEAD at once.
     * From the live queue, a change that arrives while earlier ones are being resolved or sent is
     * asked for at once (the feed listener calls takeFrom), so it joins the next shared batch
     * instead of waiting until everything before it has gone out. Returns when the queue is
     * drained, or, for the live queue, when it outgrew LIVE_BACKLOG (the pump then catches up from
     * the log).
     */
    async function deliverInOrder(queue: PlacementChangeEvent[]): Promise<void> {
      taking = queue;
      try {
        while (!channel.ended) {
          takeFrom(queue);
          const current = ahead.shift();
          if (!current) return;
          await channel.room();
          if (channel.ended) return;
          const resolution = await current.resolution;
          if (resolution.kind === 'failed') throw failureOf(resolution.errors);
          subscriptionMetrics.events.inc({ outcome: resolution.kind === 'deliver' ? 'delivered' : 'skipped' });
          if (resolution.kind === 'deliver') channel.push(resolution.result);
          last = current.event.sequence;
        }
      } finally {
        taking = null;
      }
    }

    /** Everything in the log after `last`, batch by batch, until a batch comes back short. */
    async function replay(batch: PlacementChangeEvent[]): Promise<void> {
      for (;;) {
        const complete = batch.length === REPLAY_BATCH;
        await deliverInOrder(batch);
        if (!complete || channel.ended) return;
        batch = await events.feed.read(last, REPLAY_BATCH);
      }
    }

    async function pump(): Promise<void> {
      await replay(first);
      while (!channel.ended) {
        if (live.length > LIVE_BACKLOG) {
          live.length = 0;
          await replay(await events.feed.read(last, REPLAY_BATCH));
          continue;
        }
        if (live.length === 0) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
          continue;
        }
        await deliverInOrder(live);
      }
    }

    pump().catch((error: unknown) => end(asGraphQLError(error)));
    return { stream: channel };
  }

  return {
    open: start,
    async close() {
      for (const channel of [...open]) {
        subscriptionMetrics.ended.inc({ code: 'SHUTTING_DOWN' });
        channel.end(SUBSCRIPTION_ERRORS.shuttingDown());
      }
    },
    get size() {
      return open.size;
    },
  };
}
