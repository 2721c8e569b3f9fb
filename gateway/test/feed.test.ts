import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, sendJson } from '@ketengraph/service-kit';
import { createTestKeyPair } from '@ketengraph/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CursorExpiredError, createEventFeed, FeedUnavailableError, type EventFeed, type PlacementChangeEvent } from '../src/events/feed.js';
import { createSubgraphTokens } from '../src/federation/subgraph-tokens.js';

/**
 * The event feed against a stand-in for plaatsing's feed fields over real HTTP: a log of events,
 * a retention (events before `oldest` are gone), and a switch that makes it refuse.
 */
describe('the placement event feed', () => {
  const log: {
    sequence: string;
    placementId: string;
    patientId: string;
    trajectoryId: string;
    providerId: string;
    fromStatus: null;
    toStatus: string;
    occurredAt: string;
  }[] = [];
  const append = (n: number) => {
    for (let i = 0; i < n; i++) {
      const sequence = String(log.length + 1);
      log.push({
        sequence,
        placementId: `pl-${sequence}`,
        patientId: 'p',
        trajectoryId: 't',
        providerId: 'pr',
        fromStatus: null,
        toStatus: 'REQUESTED',
        occurredAt: new Date().toISOString(),
      });
    }
  };
  let oldest = 0n;
  let down = false;
  let reads = 0;
  let server: Server;
  let url: string;
  const feeds: EventFeed[] = [];

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      const { query, variables } = JSON.parse((await readBody(request, 100_000)) as string) as { query: string; variables: { after?: string; limit?: number } };
      reads++;
      if (down) return sendJson(response, 503, { errors: [{ message: 'down', extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }] });
      if (query.includes('placementEventHead')) return sendJson(response, 200, { data: { placementEventHead: String(log.length) } });
      const after = BigInt(variables.after!);
      if (after < oldest) return sendJson(response, 200, { data: null, errors: [{ message: 'expired', extensions: { code: 'CURSOR_EXPIRED' } }] });
      sendJson(response, 200, { data: { placementEventFeed: log.filter((e) => BigInt(e.sequence) > after).slice(0, variables.limit) } });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    append(5);
  });
  afterAll(async () => {
    for (const feed of feeds) await feed.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const feed = async () => {
    const created = createEventFeed({ url, tokens: createSubgraphTokens((await createTestKeyPair()).signingKey), pollIntervalMs: 20, batchSize: 3 });
    feeds.push(created);
    return created;
  };
  const until = async (condition: () => boolean) => {
    for (const deadline = Date.now() + 10_000; !condition(); await new Promise((r) => setTimeout(r, 10)))
      if (Date.now() > deadline) throw new Error('timed out');
  };

  it('reads the head and the events after a cursor, in order, with cursors', async () => {
    const events = await feed();
    expect(await events.head()).toBe(5n);
    const read = await events.read(2n, 10);
    expect(read.map((e) => e.sequence)).toEqual([3n, 4n, 5n]);
    expect(read[0]!.cursor).toMatch(/\S/);
    expect(read[0]!.occurredAt).toBeInstanceOf(Date);
  });

  it('tells listeners every new event once, in order, across batches, from the head when they came', async () => {
    const events = await feed();
    const seen: bigint[] = [];
    const stop = events.onEvents((batch: PlacementChangeEvent[]) => seen.push(...batch.map((e) => e.sequence)));
    await events.head(); // the poller has its position
    const from = BigInt(log.length);
    append(7); // more than two batches of 3
    await until(() => seen.length === 7);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => from + BigInt(i + 1)));
    stop();
    // Nobody listens: the poller stops, so plaatsing is not asked anything.
    await new Promise((r) => setTimeout(r, 100));
    const quiet = reads;
    await new Promise((r) => setTimeout(r, 200));
    expect(reads).toBe(quiet);
  });

  it('says a cursor past the retention is expired, and an unreachable plaatsing unavailable', async () => {
    const events = await feed();
    oldest = 3n;
    await expect(events.read(1n, 10)).rejects.toBeInstanceOf(CursorExpiredError);
    oldest = 0n;
    down = true;
    await expect(events.read(1n, 10)).rejects.toBeInstanceOf(FeedUnavailableError);
    down = false;
  });

  it('interrupts listeners when its own position falls behind the retention, then follows from the head', async () => {
    const events = await feed();
    let interrupted = false;
    const seen: bigint[] = [];
    events.onEvents(
      (batch) => seen.push(...batch.map((e) => e.sequence)),
      () => (interrupted = true),
    );
    await events.head();
    down = true;
    append(2);
    oldest = BigInt(log.length); // the events appended while plaatsing was down are past the retention
    await new Promise((r) => setTimeout(r, 60));
    down = false;
    await until(() => interrupted);
    append(1);
    await until(() => seen.includes(BigInt(log.length)));
    expect(seen).toEqual([BigInt(log.length)]);
    oldest = 0n;
  });
});
