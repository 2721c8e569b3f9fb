/**
 * The handover relay: every transfer (overplaatsing) in plaatsing gets its handover in kwaliteit,
 * exactly once, even when kwaliteit is down at the time of the transfer.
 *
 * plaatsing writes a transfer as two events in one transaction, under its event-order lock, so
 * they are consecutive in the feed: the sending placement ADMITTED → TRANSFERRED, then the
 * receiving placement (null) → ADMITTED. The relay follows the feed from the position kwaliteit
 * keeps, and hands kwaliteit each range it has read with the transfers in it; kwaliteit records
 * the handovers (unique per transfer) and moves the position in one transaction. So a retry, a
 * gateway restart or several gateways relaying at once record each handover once and skip none.
 * While kwaliteit (or plaatsing, or forensisch-cv) cannot be reached the relay backs off and tries again from the
 * position kwaliteit kept; the feed keeps events EVENT_RETENTION_DAYS, so nothing is lost unless
 * the outage outlasts that (then it logs an error every attempt, and an operator must act).
 *
 * The handover's items come from what the patient's forensic CV held at the transfer: the relay asks
 * forensisch-cv (internal cvContentKinds, kinds only, never content) for the kinds of entry of the
 * batch's patients, in one call, and kwaliteit maps them to the minimum-content items. When
 * forensisch-cv cannot answer, the relay backs off like when kwaliteit is down: a handover recorded
 * without them would understate what was handed over, and could not be corrected by a retry.
 *
 * Each handover the relay records is written to the access log (action create, the relay's system
 * identity, the patient, outcome granted): the relay is the one who took that step.
 */
import { randomUUID } from 'node:crypto';
import { errorDetails, serviceLogger, type Principal } from '@ketengraph/service-kit';
import type { AuditRecordInput } from '../audit/chain.js';
import type { SubgraphTokens } from '../federation/subgraph-tokens.js';

const log = serviceLogger('gateway');

/**
 * Who the relay acts as: the gateway's system identity with the internal scopes of plaatsing's
 * feed and the relay fields of kwaliteit and forensisch-cv (granted to no role; all @inaccessible).
 */
export const HANDOVER_RELAY: Principal = Object.freeze({
  subject: 'urn:ketengraph:gateway:handover-relay',
  organisationId: 'ketengraph-gateway',
  role: 'beleid',
  scopes: Object.freeze(['events:read', 'handovers:relay']),
  purpose: null,
});

export interface HandoverRelayConfig {
  /** HANDOVER_RELAY: `on` (default) or `off`. */
  enabled: boolean;
  /** HANDOVER_RELAY_INTERVAL_MS: pause between reads of the feed once caught up; also the first retry delay. */
  intervalMs: number;
  /** HANDOVER_RELAY_MAX_BACKOFF_MS: the longest pause between retries while plaatsing, kwaliteit or forensisch-cv cannot be reached. */
  maxBackoffMs: number;
}

/** A feed event as the relay needs it (no reason, no actor). */
export interface RelayFeedEvent {
  sequence: string;
  placementId: string;
  patientId: string;
  trajectoryId: string;
  providerId: string;
  fromStatus: string | null;
  toStatus: string;
  occurredAt: string;
}

export interface Transfer {
  sequence: string;
  trajectoryId: string;
  patientId: string;
  fromProviderId: string;
  toProviderId: string;
  transferredAt: string;
}

/**
 * The transfers in a batch of feed events read after `after`, and how far the batch may be
 * counted as relayed: up to its last event, or to just before a transfer whose receiving event
 * is not in the batch yet (read again next time, with its partner).
 */
export function transfersIn(after: bigint, events: readonly RelayFeedEvent[]): { upTo: bigint; transfers: Transfer[] } {
  const transfers: Transfer[] = [];
  let upTo = after;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (event.toStatus === 'TRANSFERRED') {
      const receiving = events[i + 1];
      if (!receiving) return { upTo, transfers };
      if (
        receiving.fromStatus === null &&
        receiving.toStatus === 'ADMITTED' &&
        receiving.trajectoryId === event.trajectoryId &&
        receiving.patientId === event.patientId &&
        BigInt(receiving.sequence) === BigInt(event.sequence) + 1n
      ) {
        transfers.push({
          sequence: receiving.sequence,
          trajectoryId: receiving.trajectoryId,
          patientId: receiving.patientId,
          fromProviderId: event.providerId,
          toProviderId: receiving.providerId,
          transferredAt: receiving.occurredAt,
        });
        upTo = BigInt(receiving.sequence);
        i++;
        continue;
      }
      // Not written by transferPlacement as plaatsing does today: reported (no patient data), never guessed at.
      log.error({ sequence: event.sequence }, 'handover relay: a TRANSFERRED event without its receiving placement next to it; no handover recorded for it');
    }
    upTo = BigInt(event.sequence);
  }
  return { upTo, transfers };
}

export interface HandoverRelayOptions {
  plaatsingUrl: string;
  kwaliteitUrl: string;
  forensischCvUrl: string;
  tokens: SubgraphTokens;
  config: HandoverRelayConfig;
  /** Writes the access-log records of the handovers the relay recorded. */
  audit: (records: AuditRecordInput[]) => Promise<void>;
  /** Feed events per read (at most 200: a transfer is two events, and forensisch-cv answers 100 patients per call). */
  batchSize?: number;
  timeoutMs?: number;
}

export interface HandoverRelay {
  /** Resolves once the relay has relayed everything plaatsing's feed held when called (for tests and shutdown checks). */
  caughtUp(): Promise<void>;
  close(): Promise<void>;
}

class RelayCallError extends Error {}

const FEED_QUERY = `query HandoverRelayFeed($after: String!, $limit: Int!) {
  placementEventFeed(after: $after, limit: $limit) { sequence placementId patientId trajectoryId providerId fromStatus toStatus occurredAt }
}`;
const HEAD_QUERY = 'query HandoverRelayHead { placementEventHead }';
const POSITION_QUERY = 'query HandoverRelayPosition { transferHandoverPosition }';
const CV_KINDS_QUERY = `query HandoverRelayCvKinds($patientIds: [ID!]!, $asOf: DateTime) {
  cvContentKinds(patientIds: $patientIds, asOf: $asOf) { patientId kinds }
}`;
/** forensisch-cv answers at most this many patients per call; a feed read of twice as many events holds at most as many transfers. */
const CV_KINDS_BATCH = 100;
const RECORD_MUTATION = `mutation HandoverRelayRecord($upTo: String!, $transfers: [TransferHandoverInput!]!) {
  recordTransferHandovers(upTo: $upTo, transfers: $transfers) { position recordedPatientIds }
}`;

export function startHandoverRelay(options: HandoverRelayOptions): HandoverRelay {
  const batchSize = Math.min(options.batchSize ?? CV_KINDS_BATCH * 2, CV_KINDS_BATCH * 2);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { intervalMs, maxBackoffMs } = options.config;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let failures = 0;
  // Waiters for caughtUp(): released once a pass reads an empty batch at or after their target.
  const waiters: { target: bigint | null; resolve: () => void }[] = [];
  const abort = new AbortController();

  async function call<T>(url: string, query: string, variables: Record<string, unknown>): Promise<T> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await options.tokens.tokenFor(HANDOVER_RELAY)}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]),
    }).catch(() => {
      throw new RelayCallError(`${new URL(url).host} could not be reached`);
    });
    const body = (await response.json().catch(() => ({}))) as { data?: T | null; errors?: { extensions?: { code?: string } }[] };
    if (body.errors?.length || !body.data) throw new RelayCallError(`refused (${body.errors?.[0]?.extensions?.code ?? response.status})`);
    return body.data;
  }

  /** One pass: relays batches until the feed is exhausted. */
  async function pass(): Promise<void> {
    const kept = (await call<{ transferHandoverPosition: string | null }>(options.kwaliteitUrl, POSITION_QUERY, {})).transferHandoverPosition;
    let position: bigint;
    if (kept === null) {
      // The first run: transfers before the relay existed are history (recorded by hand or by the seed), not relayed.
      const head = (await call<{ placementEventHead: string }>(options.plaatsingUrl, HEAD_QUERY, {})).placementEventHead;
      position = BigInt(await record(BigInt(head), []));
      log.info({ position: position.toString() }, 'handover relay starts at the head of the event feed');
    } else position = BigInt(kept);
    for (;;) {
      const events = (await call<{ placementEventFeed: RelayFeedEvent[] }>(options.plaatsingUrl, FEED_QUERY, { after: position.toString(), limit: batchSize }))
        .placementEventFeed;
      const { upTo, transfers } = transfersIn(position, events);
      if (upTo > position) position = BigInt(await record(upTo, await withCvKinds(transfers)));
      if (events.length < batchSize) {
        const head = events.length ? BigInt(events[events.length - 1]!.sequence) : position;
        for (const waiter of waiters.splice(0)) {
          if (waiter.target !== null && waiter.target > head) waiters.push(waiter);
          else waiter.resolve();
        }
        return;
      }
      if (closed) return;
    }
  }

  /**
   * The transfers with the kinds of entry each patient's CV held at the latest transfer of the
   * batch: one call. A CV entry recorded between a patient's transfer and that instant is
   * counted too — the receiving provider gets the CV as it is when the relay hands it over.
   */
  async function withCvKinds(transfers: Transfer[]): Promise<(Transfer & { cvKinds: string[] })[]> {
    if (!transfers.length) return [];
    const patientIds = [...new Set(transfers.map((t) => t.patientId))];
    const asOf = new Date(Math.max(...transfers.map((t) => Date.parse(t.transferredAt)))).toISOString();
    const answer = (await call<{ cvContentKinds: { patientId: string; kinds: string[] }[] }>(options.forensischCvUrl, CV_KINDS_QUERY, { patientIds, asOf }))
      .cvContentKinds;
    const kinds = new Map(answer.map((row) => [row.patientId, row.kinds]));
    return transfers.map((transfer) => {
      const cvKinds = kinds.get(transfer.patientId);
      if (!cvKinds) throw new RelayCallError('forensisch-cv did not answer for every patient');
      return { ...transfer, cvKinds };
    });
  }

  async function record(upTo: bigint, transfers: (Transfer & { cvKinds: string[] })[]): Promise<string> {
    const { recordTransferHandovers: result } = await call<{ recordTransferHandovers: { position: string; recordedPatientIds: string[] } }>(
      options.kwaliteitUrl,
      RECORD_MUTATION,
      { upTo: upTo.toString(), transfers },
    );
    if (result.recordedPatientIds.length) {
      const requestId = randomUUID();
      await options.audit(
        result.recordedPatientIds.map((patientId) => ({
          eventId: randomUUID(),
          occurredAt: new Date(),
          action: 'create',
          patientId,
          userId: HANDOVER_RELAY.subject,
          organisationId: HANDOVER_RELAY.organisationId,
          role: HANDOVER_RELAY.role,
          purpose: null,
          fieldsDelivered: ['Mutation.recordTransferHandovers'],
          categoriesDelivered: ['logistics'],
          fieldsWithheld: [],
          categoriesWithheld: [],
          outcome: 'granted',
          requestId,
          operationName: 'HandoverRelayRecord',
        })),
      );
    }
    return result.position;
  }

  function schedule(delay: number): void {
    if (closed || timer || running) return;
    timer = setTimeout(() => {
      timer = null;
      running = pass()
        .then(
          () => {
            if (failures) log.info('handover relay reachable again');
            failures = 0;
            return intervalMs;
          },
          (error: unknown) => {
            if (failures === 0 && !closed) log.warn(errorDetails(error), 'handover relay cannot relay now; retrying with backoff');
            failures++;
            return Math.min(maxBackoffMs, intervalMs * 2 ** Math.min(failures, 20));
          },
        )
        .then((next) => {
          running = null;
          schedule(next);
        });
    }, delay);
    timer.unref?.();
  }

  schedule(0);

  return {
    async caughtUp() {
      const head = BigInt((await call<{ placementEventHead: string }>(options.plaatsingUrl, HEAD_QUERY, {})).placementEventHead);
      await new Promise<void>((resolve) => {
        waiters.push({ target: head, resolve });
        if (timer && !running) {
          clearTimeout(timer);
          timer = null;
          schedule(0);
        }
      });
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      abort.abort();
      await running?.catch(() => undefined);
      for (const waiter of waiters.splice(0)) waiter.resolve();
    },
  };
}
