import { randomUUID } from 'node:crypto';
import { encodeEventCursor, startSubgraph, type Principal, type RunningSubgraph } from '@ketengraph/service-kit';
import { createTestGateway } from '@ketengraph/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import { createPlaatsing } from '../src/subgraph.js';

/**
 * The event log as plaatsing serves it: the internal feed the gateway reads (only with the
 * internal scope), retention as a window on reading that leaves placement history intact, and
 * one change by its cursor under the relationship rules.
 */
const gateway = await createTestGateway();
const planner = { userId: 'user-dji-1', organisationId: 'dji', role: 'plaatser' };
const reader: Principal = {
  subject: 'urn:ketengraph:gateway:event-reader',
  organisationId: 'ketengraph-gateway',
  role: 'beleid',
  scopes: ['events:read'],
  purpose: null,
};
const RETENTION_DAYS = 30;

interface Result<T = any> {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

describe('plaatsing event feed', () => {
  let sg: RunningSubgraph<PrismaClient>;
  beforeAll(async () => {
    // indicatiestelling is not needed: no request here asks it anything.
    sg = await startSubgraph(
      createPlaatsing({ indicatiestellingUrl: 'http://127.0.0.1:9/graphql', indicatiestellingTimeoutMs: 100, eventRetentionDays: RETENTION_DAYS }),
      { port: 0, dataDir: 'memory://', seedPatients: 10, gatewayKeys: gateway.gatewayKeys },
    );
  });
  afterAll(() => sg?.close());

  async function gql<T = any>(query: string, variables: Record<string, unknown>, who: Principal | typeof planner): Promise<Result<T>> {
    const response = await fetch(sg.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await gateway.authorization(who)) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as Result<T>;
  }
  const FEED =
    'query($after: String!, $limit: Int!) { placementEventFeed(after: $after, limit: $limit) { sequence placementId patientId trajectoryId providerId fromStatus toStatus occurredAt } }';
  const HEAD = '{ placementEventHead }';
  const code = (result: Result) => result.errors?.[0]?.extensions?.code;

  /** A fresh REQUESTED placement (fixture), taken one step through the API: one new event. */
  async function freshEvent(): Promise<{ placementId: string; patientId: string; providerId: string }> {
    const seeded = await sg.prisma.placement.findFirstOrThrow({ orderBy: { id: 'asc' } });
    const provider = await sg.prisma.provider.findFirstOrThrow({
      where: { id: { not: seeded.providerId } },
      include: { capacity: true },
      orderBy: { id: 'desc' },
    });
    const id = randomUUID();
    await sg.prisma.placement.create({
      data: {
        id,
        patientId: seeded.patientId,
        trajectoryId: seeded.trajectoryId,
        providerId: provider.id,
        careType: provider.capacity[0]!.careType,
        securityLevel: provider.capacity[0]!.securityLevel,
        status: 'REQUESTED',
      },
    });
    // The provider the request is addressed to starts the intake (the write rules).
    const step = await gql(
      'mutation($id: ID!) { startIntake(placementId: $id) { status } }',
      { id },
      { userId: 'user-provider', organisationId: provider.id, role: 'zorgaanbieder' },
    );
    expect(step.errors).toBeUndefined();
    return { placementId: id, patientId: seeded.patientId, providerId: provider.id };
  }

  it('serves the feed and its head only to the gateway’s event reader (scope events:read)', async () => {
    for (const query of [HEAD, FEED]) {
      const refused = await gql(query, { after: '0', limit: 10 }, planner);
      expect(code(refused)).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    }
    const head = await gql<{ placementEventHead: string }>(HEAD, {}, reader);
    const newest = await sg.prisma.placementEvent.findFirstOrThrow({ orderBy: { sequence: 'desc' } });
    expect(head.data!.placementEventHead).toBe(newest.sequence.toString());
  });

  it('tells the event reader, and no one else, which patient each placement belongs to (for the access log)', async () => {
    const placement = await sg.prisma.placement.findFirstOrThrow({ orderBy: { id: 'asc' } });
    const query = 'query($ids: [ID!]!) { placementPatients(ids: $ids) }';
    expect(code(await gql(query, { ids: [placement.id] }, planner))).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    const answer = await gql<{ placementPatients: (string | null)[] }>(query, { ids: ['no-such-placement', placement.id] }, reader);
    expect(answer.data!.placementPatients).toEqual([null, placement.patientId]);
  });

  it('returns the events after a sequence, oldest first, with everything the gateway routes on', async () => {
    const before = BigInt((await gql<{ placementEventHead: string }>(HEAD, {}, reader)).data!.placementEventHead);
    const first = await freshEvent();
    const second = await freshEvent();
    const feed = await gql<{
      placementEventFeed: { sequence: string; placementId: string; patientId: string; providerId: string; fromStatus: string; toStatus: string }[];
    }>(FEED, { after: before.toString(), limit: 10 }, reader);
    expect(feed.errors).toBeUndefined();
    expect(feed.data!.placementEventFeed.map((e) => [e.placementId, e.fromStatus, e.toStatus])).toEqual([
      [first.placementId, 'REQUESTED', 'INTAKE'],
      [second.placementId, 'REQUESTED', 'INTAKE'],
    ]);
    expect(feed.data!.placementEventFeed[0]).toMatchObject({ patientId: first.patientId, providerId: first.providerId });
    const limited = await gql<{ placementEventFeed: { sequence: string }[] }>(FEED, { after: before.toString(), limit: 1 }, reader);
    expect(limited.data!.placementEventFeed).toHaveLength(1);
    expect(BigInt(limited.data!.placementEventFeed[0]!.sequence)).toBeGreaterThan(before);
    expect(code(await gql(FEED, { after: before.toString(), limit: 0 }, reader))).toBe('BAD_USER_INPUT');
    expect(code(await gql(FEED, { after: '-1', limit: 5 }, reader))).toBe('BAD_USER_INPUT');
  });

  it('refuses a reader whose next event is past the retention with CURSOR_EXPIRED, and keeps the placement history', async () => {
    const oldest = await sg.prisma.placementEvent.findFirstOrThrow({ orderBy: { sequence: 'asc' } });
    await sg.prisma.placementEvent.update({
      where: { sequence: oldest.sequence },
      data: { occurredAt: new Date(Date.now() - (RETENTION_DAYS + 1) * 86_400_000) },
    });
    const expired = await gql(FEED, { after: (oldest.sequence - 1n).toString(), limit: 10 }, reader);
    expect(code(expired)).toBe('CURSOR_EXPIRED');
    expect(expired.errors![0]!.message).toMatch(/resynchronise/);
    // Nothing was deleted: the history of that placement still has its first event.
    const history = await gql<{ placement: { history: { sequence: string }[] } }>(
      'query($id: ID!) { placement(id: $id) { history { sequence } } }',
      { id: oldest.placementId },
      planner,
    );
    expect(history.data!.placement.history[0]!.sequence).toBe(oldest.sequence.toString());
  });

  it('gives one change by its cursor, withheld from a provider without a relationship with the patient', async () => {
    const { placementId, patientId, providerId } = await freshEvent();
    const event = await sg.prisma.placementEvent.findFirstOrThrow({ where: { placementId }, orderBy: { sequence: 'desc' } });
    const CHANGE = 'query($cursor: String!) { placementChange(cursor: $cursor) { cursor sequence fromStatus toStatus placement { id } patient { id } } }';
    const cursor = encodeEventCursor(event.sequence);
    const planned = await gql(CHANGE, { cursor }, planner);
    expect(planned.data!.placementChange).toEqual({
      cursor,
      sequence: event.sequence.toString(),
      fromStatus: 'REQUESTED',
      toStatus: 'INTAKE',
      placement: { id: placementId },
      patient: { id: patientId },
    });

    const own = { userId: 'user-provider', organisationId: providerId, role: 'zorgaanbieder' };
    expect((await gql(CHANGE, { cursor }, own)).data!.placementChange.placement).toEqual({ id: placementId });
    const strangerId = (await sg.prisma.provider.findFirstOrThrow({ where: { placements: { none: { patientId } } } })).id;
    const stranger = await gql(CHANGE, { cursor }, { userId: 'user-stranger', organisationId: strangerId, role: 'zorgaanbieder' });
    expect(stranger.data!.placementChange).toBeNull();
    expect(stranger.errors).toEqual([
      expect.objectContaining({ path: ['placementChange'], extensions: expect.objectContaining({ code: 'UNAUTHORIZED_FIELD_OR_TYPE' }) }),
    ]);

    expect((await gql(CHANGE, { cursor: encodeEventCursor(0n) }, planner)).data!.placementChange).toBeNull();
    expect(code(await gql(CHANGE, { cursor: 'bm9wZQ' }, planner))).toBe('BAD_USER_INPUT');
  });

  it('gives several changes by their cursors in the order asked: null for an unknown cursor, withheld at its index without a relationship', async () => {
    const first = await freshEvent();
    const second = await freshEvent();
    const [a, b] = await Promise.all(
      [first, second].map((e) => sg.prisma.placementEvent.findFirstOrThrow({ where: { placementId: e.placementId }, orderBy: { sequence: 'desc' } })),
    );
    const CHANGES = 'query($cursors: [String!]!) { placementChanges(cursors: $cursors) { sequence placement { id } } }';
    const cursors = [encodeEventCursor(b!.sequence), encodeEventCursor(0n), encodeEventCursor(a!.sequence)];
    expect((await gql(CHANGES, { cursors }, planner)).data!.placementChanges).toEqual([
      { sequence: b!.sequence.toString(), placement: { id: second.placementId } },
      null,
      { sequence: a!.sequence.toString(), placement: { id: first.placementId } },
    ]);
    // A provider that never had the patient: both changes are withheld, each at its own index.
    const strangerId = (
      await sg.prisma.provider.findFirstOrThrow({ where: { placements: { none: { patientId: { in: [first.patientId, second.patientId] } } } } })
    ).id;
    const stranger = await gql(CHANGES, { cursors }, { userId: 'user-stranger', organisationId: strangerId, role: 'zorgaanbieder' });
    expect(stranger.data!.placementChanges).toEqual([null, null, null]);
    expect(stranger.errors!.map((e) => [e.path, e.extensions?.code])).toEqual([
      [['placementChanges', 0], 'UNAUTHORIZED_FIELD_OR_TYPE'],
      [['placementChanges', 2], 'UNAUTHORIZED_FIELD_OR_TYPE'],
    ]);
    const own = await gql(CHANGES, { cursors }, { userId: 'user-provider', organisationId: first.providerId, role: 'zorgaanbieder' });
    expect(own.errors).toBeUndefined();
    expect(own.data!.placementChanges[2]).toEqual({ sequence: a!.sequence.toString(), placement: { id: first.placementId } });
    expect(code(await gql(CHANGES, { cursors: Array.from({ length: 101 }, () => cursors[0]) }, planner))).toBe('BAD_USER_INPUT');
  });

  it('holds a feed read with waitMs until a change commits and answers at once (long poll), and answers empty when none comes', async () => {
    const head = (await gql<{ placementEventHead: string }>(HEAD, {}, reader)).data!.placementEventHead;
    const LONG = 'query($after: String!, $wait: Int) { placementEventFeed(after: $after, limit: 10, waitMs: $wait) { sequence placementId } }';
    const started = Date.now();
    const empty = await gql(LONG, { after: head, wait: 300 }, reader);
    expect(empty.data!.placementEventFeed).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    const waiting = gql(LONG, { after: head, wait: 20_000 }, reader);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const changedAt = Date.now();
    const { placementId } = await freshEvent();
    const answered = await waiting;
    // Woken by the commit's notification, not by the end of the wait.
    expect(Date.now() - changedAt).toBeLessThan(10_000);
    expect(answered.data!.placementEventFeed.map((e: { placementId: string }) => e.placementId)).toContain(placementId);
    expect(code(await gql(LONG, { after: head, wait: 30_001 }, reader))).toBe('BAD_USER_INPUT');
  });
});
