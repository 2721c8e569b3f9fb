import { encodeEventCursor, type Principal } from '@ketengraph/service-kit';
import type { FormattedExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { EventFeed, GatewayEvents, PlacementChangeEvent, PreparedSelection } from '../src/events/index.js';
import type { EventResolution } from '../src/events/resolve.js';
import type { Channel } from '../src/events/subscriptions/channel.js';
import { createPlacementChangeSubscriptions } from '../src/events/subscriptions/placement-changes.js';

const principal: Principal = { subject: 'u-1', organisationId: 'org-1', role: 'plaatser', scopes: [], purpose: 'plaatsing' };
const prepared: PreparedSelection = {
  query: 'query',
  operationName: null,
  variables: {},
  responseKey: 'placementChanged',
  filter: null,
  after: null,
  batchQuery: 'batch',
};

function event(sequence: number): PlacementChangeEvent {
  const seq = BigInt(sequence);
  return {
    sequence: seq,
    cursor: encodeEventCursor(seq),
    placementId: `pl-${sequence}`,
    patientId: 'p-1',
    trajectoryId: 't-1',
    providerId: 'z-1',
    fromStatus: null,
    toStatus: 'REQUESTED',
    occurredAt: new Date(0),
  };
}

/** An event log in memory with the feed's contract: read after a sequence, listeners told of every new batch. */
function fakeFeed() {
  const log: PlacementChangeEvent[] = [];
  const listeners = new Set<(events: PlacementChangeEvent[]) => void>();
  const feed: EventFeed = {
    read: async (after, limit) => log.filter((e) => e.sequence > after).slice(0, limit),
    head: async () => log.at(-1)?.sequence ?? 0n,
    event: async (sequence) => log.find((e) => e.sequence === sequence) ?? null,
    onEvents: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: async () => undefined,
  };
  const append = (count: number) => {
    const batch = Array.from({ length: count }, (_, i) => event(log.length + i + 1));
    log.push(...batch);
    for (const listener of listeners) listener(batch);
  };
  return { feed, append };
}

const delivered = (sequence: bigint): EventResolution => ({ kind: 'deliver', result: { data: { placementChanged: { sequence: String(sequence) } } } });

async function open(events: GatewayEvents): Promise<Channel<FormattedExecutionResult>> {
  const subscriptions = createPlacementChangeSubscriptions(events, async () => 'subscription { placementChanged { sequence } }');
  const opened = await subscriptions.open({ selection: { document: 'ignored' }, principal, expiresAt: Number.POSITIVE_INFINITY, requestId: 'r-1' });
  if (!('stream' in opened)) throw new Error(`refused: ${JSON.stringify(opened.errors)}`);
  return opened.stream;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const sequenceOf = (result: FormattedExecutionResult) => (result.data!.placementChanged as { sequence: string }).sequence;

describe('a placementChanged subscription', () => {
  it('asks for a change as it arrives, while an earlier one is still being resolved, and delivers them in order', async () => {
    const { feed, append } = fakeFeed();
    const asked: bigint[] = [];
    const pending = new Map<bigint, (resolution: EventResolution) => void>();
    const events: GatewayEvents = {
      feed,
      prepare: () => prepared,
      probe: async () => null,
      close: async () => undefined,
      resolve: (_prepared, change) => {
        asked.push(change.sequence);
        return new Promise((resolve) => pending.set(change.sequence, resolve));
      },
    };
    const stream = await open(events);
    append(1);
    await settle();
    expect(asked).toEqual([1n]);
    append(1); // arrives while change 1 is being resolved: asked for now, to join the next shared batch
    await settle();
    expect(asked).toEqual([1n, 2n]);
    pending.get(2n)!(delivered(2n));
    pending.get(1n)!(delivered(1n));
    const first = await stream.next();
    const second = await stream.next();
    expect([sequenceOf(first.value), sequenceOf(second.value)]).toEqual(['1', '2']);
    stream.end();
  });

  it('catches a subscriber that fell more than the live backlog behind up from the log: every change once, in order', async () => {
    const { feed, append } = fakeFeed();
    const asked = new Map<bigint, number>();
    const events: GatewayEvents = {
      feed,
      prepare: () => prepared,
      probe: async () => null,
      close: async () => undefined,
      resolve: async (_prepared, change) => {
        asked.set(change.sequence, (asked.get(change.sequence) ?? 0) + 1);
        return delivered(change.sequence);
      },
    };
    const stream = await open(events);
    // Nobody reads the stream meanwhile: it fills, the pump waits, and the live queue outgrows its bound.
    for (let i = 0; i < 12; i++) {
      append(100);
      await settle();
    }
    const received: string[] = [];
    for (let i = 0; i < 1200; i++) received.push(sequenceOf((await stream.next()).value));
    expect(received).toEqual(Array.from({ length: 1200 }, (_, i) => String(i + 1)));
    expect([...asked.values()].every((times) => times === 1)).toBe(true);
    stream.end();
  });
});
