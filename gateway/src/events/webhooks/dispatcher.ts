/**
 * Turns the event feed into signed deliveries. Two loops per gateway instance:
 *
 * - enqueue: reads the feed from the stored position (so events that happened while no gateway
 *   ran are not lost) and writes one delivery per matching endpoint, idempotently — every
 *   instance sees every event, the unique (endpoint, sequence) keeps one.
 * - deliver: claims due deliveries (row locks, SKIP LOCKED, leases; see store.claim), resolves
 *   each payload as the endpoint's owner at delivery time (authorised and audited like a
 *   query; events the owner may not see are skipped), signs it and POSTs it. A 2xx delivers;
 *   anything else is retried with backoff until the last attempt, then dead-lettered.
 */
import { randomUUID } from 'node:crypto';
import { errorDetails, serviceLogger } from '@ketengraph/service-kit';
import { CursorExpiredError, MAX_BATCH, type GatewayEvents, type PlacementChangeEvent, type PreparedSelection } from '../index.js';
import type { WebhookConfig } from './config.js';
import { webhookMetrics } from '../../observability/metrics.js';
import { postSigned, receiverDispatcher } from './receiver.js';
import { exhausted, retryDelayMs } from './schedule.js';
import { signedHeaders } from './signing.js';
import { messageId, type ClaimedDelivery, type WebhookStore } from './store.js';

export const CHANGE_EVENT = 'placement.changed';

const FEED_PAGE = 500;
/**
 * Deliveries in flight at once (each patient's earliest pending one only): those claimed together
 * for endpoints of one selection and authorization context are resolved in one batch.
 */
const CLAIM_BATCH = MAX_BATCH;
/** Finished deliveries are kept this long (for the endpoint's counts and diagnosis), then forgotten. */
const KEEP_FINISHED_DAYS = 7;
const FORGET_EVERY_MS = 3_600_000;
/**
 * A claim's lease, renewed every LEASE_RENEW_MS while its delivery is in flight (resolving the
 * payload and waiting for the receiver may take longer). Short, so a delivery whose instance died
 * (a crash, a kill) is claimed again within seconds and does not hold that patient's later events.
 */
export const LEASE_MS = 5_000;
const LEASE_RENEW_MS = 2_000;

const log = serviceLogger('gateway').child({ component: 'webhooks' });

export interface DispatcherOptions {
  store: WebhookStore;
  /** The event feed, and resolution of a payload as a principal (authorised, completed, audited like a query). */
  events: Pick<GatewayEvents, 'feed' | 'prepare' | 'resolve'>;
  config: Pick<WebhookConfig, 'maxAttempts' | 'retryBaseMs' | 'retryMaxMs' | 'timeoutMs' | 'pollMs' | 'allowPrivateAddresses'>;
}

export class WebhookDispatcher {
  /** This instance's name on its claims. */
  readonly instanceId = randomUUID();
  private readonly closing = new AbortController();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly selections = new Map<string, PreparedSelection>();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private enqueueRun: Promise<void> | undefined;
  private enqueueAgain = false;
  /** The last enqueue failed (feed or database unavailable): the poll tries again, so no event waits for the next one. */
  private enqueueFailed = false;
  private deliverRun: Promise<void> | undefined;
  private deliverAgain = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastForget = 0;

  constructor(private readonly options: DispatcherOptions) {}

  start(): void {
    this.follow();
    this.enqueue();
    this.tick();
    this.heartbeat = setInterval(() => this.renewLeases(), LEASE_RENEW_MS);
    this.heartbeat.unref();
  }

  /** Keeps the claims of deliveries in flight; should it fail, a lease runs out and the delivery is made again (at least once). */
  private renewLeases(): void {
    if (this.closed || this.inFlight.size === 0) return;
    this.options.store
      .renew([...this.inFlight.keys()], this.instanceId, LEASE_MS)
      .catch((error: unknown) => this.report('warn', 'webhook leases could not be renewed', error));
  }

  /**
   * Follows the event feed once the webhook database exists. Before the first registration
   * there is nothing to enqueue for, and following would keep the gateway polling plaatsing for
   * nobody; the feed position stored with the first enqueue (and the backfill at verification)
   * make sure no event after a registration is missed.
   */
  private follow(): void {
    if (this.unsubscribe || this.closed || !this.options.store.opened) return;
    this.unsubscribe = this.options.events.feed.onEvents(() => this.enqueue());
  }

  /** Looks for due deliveries now (after a registration, resume or redelivery). */
  wake(): void {
    this.follow();
    this.deliver();
  }

  /** Stops claiming; in-flight deliveries are aborted and their claims released (no attempt counted). */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    this.unsubscribe?.();
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    await Promise.allSettled([this.enqueueRun, this.deliverRun, ...this.inFlight.values()]);
  }

  private get closed(): boolean {
    return this.closing.signal.aborted;
  }

  private tick(): void {
    if (this.closed) return;
    // Retries fall due while nothing else happens; the schedule lives in the database, so polling it is what finds them.
    this.timer = setTimeout(() => {
      this.follow();
      if (this.enqueueFailed) this.enqueue();
      else this.deliver();
      if (this.options.store.opened && Date.now() - this.lastForget > FORGET_EVERY_MS) {
        this.lastForget = Date.now();
        this.options.store
          .forgetFinished(KEEP_FINISHED_DAYS)
          .catch((error: unknown) => this.report('warn', 'finished webhook deliveries could not be removed', error));
      }
      this.tick();
    }, this.options.config.pollMs);
    this.timer.unref();
  }

  // ---- enqueue ---------------------------------------------------------------------------------

  private enqueue(): void {
    if (this.closed) return;
    if (this.enqueueRun) {
      this.enqueueAgain = true;
      return;
    }
    this.enqueueRun = (async () => {
      do {
        this.enqueueAgain = false;
        try {
          await this.enqueueFromFeed();
          this.enqueueFailed = false;
        } catch (error) {
          this.enqueueFailed = true;
          this.report('warn', 'webhook enqueue failed; retried at the next poll', error);
        }
      } while (this.enqueueAgain && !this.closed);
    })().finally(() => {
      this.enqueueRun = undefined;
      this.deliver();
    });
  }

  private async enqueueFromFeed(): Promise<void> {
    const { store } = this.options;
    if (!store.opened) return;
    const { feed } = this.options.events;
    let position = await store.position(() => feed.head());
    while (!this.closed) {
      let events: PlacementChangeEvent[];
      try {
        events = await feed.read(position, FEED_PAGE);
      } catch (error) {
        if (!(error instanceof CursorExpiredError)) throw error;
        // The webhooks were down longer than the feed keeps events: those are gone. Say so loudly, continue from now.
        const head = await feed.head();
        this.report('error', 'webhook events past the feed retention were not enqueued', undefined, {
          fromSequence: position.toString(),
          toSequence: head.toString(),
        });
        webhookMetrics.lostEvents.inc(Number(head - position));
        await store.skipTo(head);
        position = head;
        continue;
      }
      if (events.length === 0) return;
      const through = events[events.length - 1]!.sequence;
      const enqueued = await store.enqueue(events, through);
      webhookMetrics.enqueued.inc(enqueued);
      position = through;
      if (events.length < FEED_PAGE) return;
    }
  }

  /**
   * Enqueues for one endpoint the events after `fromSequence` that the enqueuers have passed.
   * Run when the endpoint is verified: an instance whose enqueue statement began before the
   * endpoint's registration was committed did not see it, and this catches what it skipped
   * (idempotent, like every enqueue).
   */
  async backfill(endpointId: string, fromSequence: bigint): Promise<void> {
    this.follow();
    const { store } = this.options;
    const { feed } = this.options.events;
    const through = await store.position(() => feed.head());
    let after = fromSequence;
    while (after < through) {
      const events = (await feed.read(after, FEED_PAGE)).filter((event) => event.sequence <= through);
      if (events.length === 0) break;
      webhookMetrics.enqueued.inc(await store.enqueue(events, null, endpointId));
      after = events[events.length - 1]!.sequence;
    }
    this.deliver();
  }

  // ---- deliver ---------------------------------------------------------------------------------

  private deliver(): void {
    if (this.closed) return;
    if (this.deliverRun) {
      this.deliverAgain = true;
      return;
    }
    this.deliverRun = (async () => {
      do {
        this.deliverAgain = false;
        try {
          await this.claimAndSend();
        } catch (error) {
          this.report('warn', 'webhook delivery round failed; retried at the next poll', error);
        }
      } while (this.deliverAgain && !this.closed);
    })().finally(() => {
      this.deliverRun = undefined;
    });
  }

  /** Claims what is due, up to CLAIM_BATCH in flight; each finished delivery may make a patient's next event due. */
  private async claimAndSend(): Promise<void> {
    while (!this.closed && this.options.store.opened) {
      const room = CLAIM_BATCH - this.inFlight.size;
      if (room <= 0) return;
      const claimed = await this.options.store.claim(this.instanceId, room, LEASE_MS);
      if (claimed.length === 0) return;
      for (const delivery of claimed) {
        const run = this.send(delivery).finally(() => {
          this.inFlight.delete(delivery.id);
          this.deliver();
        });
        this.inFlight.set(delivery.id, run);
      }
    }
  }

  private async send(delivery: ClaimedDelivery): Promise<void> {
    const { store, config, events } = this.options;
    const attempts = delivery.attempts + 1;
    try {
      let event: PlacementChangeEvent | null;
      try {
        event = await events.feed.event(delivery.sequence);
      } catch (error) {
        if (!(error instanceof CursorExpiredError)) {
          // plaatsing unreachable: nothing was attempted, so no attempt is counted; try again after a backoff.
          this.report('warn', 'webhook event could not be read; delivery postponed', error, { endpointId: delivery.endpoint.id });
          return await store.retryLater(delivery.id, this.instanceId, delivery.attempts, retryDelayMs(config, attempts), 'feed_unavailable');
        }
        event = null;
      }
      if (!event) return await this.fail(delivery, attempts, 'event_expired', true);
      let prepared: PreparedSelection;
      try {
        prepared = this.prepared(delivery.endpoint.selection);
      } catch {
        // The served schema no longer has what the selection asks for: no attempt can succeed.
        return await this.fail(delivery, attempts, 'selection_invalid', true);
      }
      const context = { principal: delivery.endpoint.owner, requestId: `webhook-${messageId(delivery.id)}-${attempts}` };
      const resolution = await events.resolve(prepared, event, context).catch((error: unknown) => ({ kind: 'failed' as const, errors: [], error }));
      if (this.closed && resolution.kind === 'failed') return await store.release([delivery.id], this.instanceId);
      if (resolution.kind === 'failed') {
        const codes = resolution.errors.map((e) => e.extensions?.code);
        this.report('warn', 'webhook payload could not be resolved', 'error' in resolution ? resolution.error : undefined, {
          endpointId: delivery.endpoint.id,
          sequence: delivery.sequence.toString(),
          codes,
        });
        return await this.fail(delivery, attempts, 'resolve_failed');
      }
      if (resolution.kind === 'skip') {
        await store.finish(delivery.id, this.instanceId, 'skipped', delivery.attempts);
        webhookMetrics.deliveries.inc({ outcome: 'skipped' });
        return;
      }
      const body = JSON.stringify({
        type: CHANGE_EVENT,
        timestamp: event.occurredAt.toISOString(),
        data: { sequence: event.sequence.toString(), cursor: event.cursor, ...resolution.result },
      });
      const headers = signedHeaders(messageId(delivery.id), body, delivery.secrets);
      const outcome = await postSigned(delivery.endpoint.url, body, headers, {
        timeoutMs: config.timeoutMs,
        signal: this.closing.signal,
        dispatcher: receiverDispatcher(config.allowPrivateAddresses),
      });
      if (outcome.ok) {
        await store.finish(delivery.id, this.instanceId, 'delivered', attempts);
        webhookMetrics.deliveries.inc({ outcome: 'delivered' });
        return;
      }
      if (outcome.error === 'aborted') return await store.release([delivery.id], this.instanceId);
      await this.fail(delivery, attempts, outcome.error);
    } catch (error) {
      // The database failed while recording: the lease runs out and the delivery is claimed again (at least once).
      this.report('warn', 'webhook delivery could not be recorded', error, { endpointId: delivery.endpoint.id });
    }
  }

  private async fail(delivery: ClaimedDelivery, attempts: number, error: string, final = false): Promise<void> {
    const { store, config } = this.options;
    if (final || exhausted(config, attempts)) {
      await store.deadLetter(delivery.id, this.instanceId, attempts, error);
      webhookMetrics.deliveries.inc({ outcome: 'dead_letter' });
      return;
    }
    await store.retryLater(delivery.id, this.instanceId, attempts, retryDelayMs(config, attempts), error);
    webhookMetrics.deliveries.inc({ outcome: 'retry' });
  }

  private prepared(source: string): PreparedSelection {
    let prepared = this.selections.get(source);
    if (!prepared) {
      prepared = this.options.events.prepare({ document: source });
      if (this.selections.size > 1000) this.selections.clear();
      this.selections.set(source, prepared);
    }
    return prepared;
  }

  /** Ids, sequences and codes only: a receiver's answer or a driver's message could carry personal data. */
  private report(level: 'warn' | 'error', msg: string, error?: unknown, details: Record<string, unknown> = {}): void {
    log[level]({ ...details, ...(error === undefined ? {} : errorDetails(error)) }, msg);
  }
}
