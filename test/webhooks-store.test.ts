import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { retryDelayMs } from '../gateway/src/events/webhooks/schedule.js';
import { LEASE_MS } from '../gateway/src/events/webhooks/dispatcher.js';
import { generateSecret, signedHeaders } from '../gateway/src/events/webhooks/signing.js';
import { WebhookStore, type Endpoint, type WebhookFilter } from '../gateway/src/events/webhooks/store.js';
import { createDatabases, postgresUrl } from './support/postgres.js';

/**
 * The webhook schedule in its own database, statement by statement: idempotent enqueueing,
 * claims that keep a patient's events in order, leases, retries, dead letters, redelivery and
 * the organisation boundary. Against embedded PGlite, and against PostgreSQL when
 * TEST_DATABASE_URL is set (there with two stores competing for the same rows).
 */
const owner = { subject: 'u-1', organisationId: 'org-a', role: 'plaatser', scopes: ['webhook:write'], purpose: 'plaatsing' };
const selection = 'subscription { placementChanged { sequence } }';
const filter: WebhookFilter = { patientId: null, trajectoryId: null, providerId: null, toStatus: [] };
const event = (sequence: number, patientId: string, extra: Partial<{ providerId: string; toStatus: string }> = {}) => ({
  sequence: BigInt(sequence),
  patientId,
  trajectoryId: `t-${patientId}`,
  providerId: extra.providerId ?? 'prov-1',
  toStatus: extra.toStatus ?? 'REQUESTED',
});

async function countsOf(store: WebhookStore, endpointId: string): Promise<Record<string, number>> {
  const totals: Record<string, number> = { pending: 0, delivered: 0, skipped: 0, dead: 0 };
  for (const row of await store.deliveryCounts([endpointId])) totals[row.status] = row.count;
  return totals;
}

/** Endpoints a test made; deleted after it (with their deliveries), so the next test claims only its own. */
const made: Endpoint[] = [];

async function activeEndpoint(
  store: WebhookStore,
  overrides: Partial<{ organisationId: string; filter: typeof filter; fromSequence: bigint }> = {},
): Promise<Endpoint> {
  const created = await store.createEndpoint({
    owner: { ...owner, organisationId: overrides.organisationId ?? owner.organisationId },
    url: 'http://127.0.0.1:1/hook',
    description: null,
    filter: overrides.filter ?? filter,
    selection,
    secret: generateSecret(),
    fromSequence: overrides.fromSequence ?? 0n,
  });
  made.push(created);
  return (await store.transition(created.id, created.organisationId, ['pending_verification'], 'active'))!;
}

describe('signing and backoff', () => {
  it('signs with every valid secret, so a receiver holding either accepts the message', () => {
    const [oldSecret, newSecret, otherSecret] = [generateSecret(), generateSecret(), generateSecret()];
    const body = JSON.stringify({ type: 'placement.changed', data: { sequence: '7' } });
    const headers = signedHeaders('msg_1', body, [newSecret, oldSecret]);
    expect(new Webhook(oldSecret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new Webhook(newSecret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(otherSecret).verify(body, { ...headers })).toThrow('No matching signature');
    expect(() => new Webhook(newSecret).verify(`${body} `, { ...headers })).toThrow('No matching signature');
  });

  it('backs off exponentially with jitter, capped', () => {
    const policy = { maxAttempts: 8, retryBaseMs: 1000, retryMaxMs: 10_000 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n, 0))).toEqual([500, 1000, 2000, 4000, 5000]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n, 0.999999))).toEqual([1000, 2000, 4000, 8000, 10_000]);
    const spread = new Set(Array.from({ length: 20 }, () => retryDelayMs(policy, 3)));
    expect(spread.size).toBeGreaterThan(1);
  });
});

function storeTests(open: () => Promise<WebhookStore>) {
  let store: WebhookStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(() => store?.close());
  afterEach(async () => {
    for (const endpoint of made.splice(0)) await store.deleteEndpoint(endpoint.id, endpoint.organisationId);
  });

  it('enqueues each matching (endpoint, event after its registration) once, whoever enqueues it; claims only for verified endpoints', async () => {
    const all = await activeEndpoint(store);
    const admitted = await activeEndpoint(store, { filter: { ...filter, toStatus: ['ADMITTED'], providerId: 'prov-2' } });
    const later = await activeEndpoint(store, { fromSequence: 2n });
    const pending = await store.createEndpoint({
      owner,
      url: 'http://127.0.0.1:1/x',
      description: null,
      filter,
      selection,
      secret: generateSecret(),
      fromSequence: 0n,
    });
    made.push(pending);
    const events = [event(1, 'p1'), event(2, 'p1', { providerId: 'prov-2', toStatus: 'ADMITTED' }), event(3, 'p2', { toStatus: 'ADMITTED' })];
    expect(await store.enqueue(events, 3n)).toBe(8);
    expect(await store.enqueue(events, 3n)).toBe(0);
    expect(await store.enqueue(events, null, later.id)).toBe(0);
    expect(await countsOf(store, all.id)).toMatchObject({ pending: 3 });
    expect(await countsOf(store, admitted.id)).toMatchObject({ pending: 1 });
    expect(await countsOf(store, later.id)).toMatchObject({ pending: 1 });
    expect(await countsOf(store, pending.id)).toMatchObject({ pending: 3 });
    const claimed = await store.claim('instance-1', 100, 60_000);
    expect(new Set(claimed.map((d) => d.endpoint.id))).toEqual(new Set([all.id, admitted.id, later.id]));
    await store.release(
      claimed.map((d) => d.id),
      'instance-1',
    );
    expect(await store.position(async () => 0n)).toBe(3n);
    await store.skipTo(2n);
    expect(await store.position(async () => 0n)).toBe(3n);
  });

  it("claims a patient's next event only after the previous one is finished, and never what another instance holds", async () => {
    const endpoint = await activeEndpoint(store);
    await store.enqueue([event(11, 'pa'), event(12, 'pb'), event(13, 'pa'), event(14, 'pa')], 14n);
    const first = await store.claim('instance-1', 10, 60_000);
    expect(first.map((d) => [d.sequence, d.patientId])).toEqual([
      [11n, 'pa'],
      [12n, 'pb'],
    ]);
    expect(first[0]!.secrets).toHaveLength(1);
    expect(first[0]!.endpoint.owner).toEqual(owner);
    expect(await store.claim('instance-2', 10, 60_000)).toEqual([]);
    await store.finish(first[0]!.id, 'instance-1', 'delivered', 1);
    // Another instance cannot finish what it does not hold.
    await store.finish(first[1]!.id, 'instance-2', 'delivered', 1);
    const second = await store.claim('instance-2', 10, 60_000);
    expect(second.map((d) => d.sequence)).toEqual([13n]);
    await store.deadLetter(second[0]!.id, 'instance-2', 3, 'http_500');
    expect((await store.claim('instance-1', 10, 60_000)).map((d) => d.sequence)).toEqual([14n]);
    expect(await countsOf(store, endpoint.id)).toEqual({ pending: 2, delivered: 1, skipped: 0, dead: 1 });
    // Finished deliveries are forgotten after the keep period; dead ones stay with their dead letter.
    expect(await store.forgetFinished(1)).toBe(0);
    await store.db.query(`UPDATE "webhook_delivery" SET "finished_at" = now() - interval '2 days' WHERE "endpoint_id" = $1`, [endpoint.id]);
    expect(await store.forgetFinished(1)).toBe(1);
    expect(await countsOf(store, endpoint.id)).toEqual({ pending: 2, delivered: 0, skipped: 0, dead: 1 });
  });

  it('retries after the delay, returns an expired lease, and redelivers a dead letter once', async () => {
    const endpoint = await activeEndpoint(store);
    await store.enqueue([event(21, 'pc'), event(22, 'pc')], 22n);
    const [claimed] = await store.claim('instance-1', 1, 60_000);
    await store.retryLater(claimed!.id, 'instance-1', 1, 150, 'timeout');
    expect(await store.claim('instance-1', 10, 60_000)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [retried] = await store.claim('instance-1', 10, 1);
    expect(retried).toMatchObject({ id: claimed!.id, attempts: 1 });
    // instance-1 "crashed": its lease of 1 ms runs out and another instance takes the delivery over.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [takenOver] = await store.claim('instance-2', 10, 60_000);
    expect(takenOver?.id).toBe(claimed!.id);
    await store.deadLetter(takenOver!.id, 'instance-2', 2, 'connection_reset');

    const letters = await store.deadLetters(endpoint.id, owner.organisationId);
    expect(letters.totalCount).toBe(1);
    const letter = letters.edges[0]!.node;
    expect(letter).toMatchObject({ sequence: 21n, attempts: 2, lastError: 'connection_reset', redeliveredAt: null });
    expect(await store.deadLetters(endpoint.id, 'org-b')).toMatchObject({ totalCount: 0 });
    expect(await store.redeliver(letter.id, 'org-b')).toBeUndefined();
    expect(await store.redeliver(letter.id, owner.organisationId)).toMatchObject({ id: letter.id });
    expect(await store.redeliver(letter.id, owner.organisationId)).toBe('already');
    // The redelivered event comes before the patient's later one again.
    const again = await store.claim('instance-1', 10, 60_000);
    expect(again.map((d) => [d.sequence, d.attempts])).toEqual([[21n, 0]]);
  });

  it("a renewed lease keeps the delivery; once renewals stop (the instance crashed) another takes it over within the short lease, with the patient's next event behind it", async () => {
    await activeEndpoint(store);
    await store.enqueue([event(31, 'pd'), event(32, 'pd')], 32n);
    const [claimed] = await store.claim('instance-1', 10, 1000);
    expect(claimed?.sequence).toBe(31n);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await store.renew([claimed!.id], 'instance-1', 1000); // the heartbeat
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await store.claim('instance-2', 10, 1000)).toEqual([]); // still held, past the first lease
    await new Promise((resolve) => setTimeout(resolve, 1100)); // no more heartbeats
    const takenOver = await store.claim('instance-2', 10, 1000);
    expect(takenOver.map((d) => d.sequence)).toEqual([31n]);
    await store.finish(takenOver[0]!.id, 'instance-2', 'delivered', 1);
    // A late renewal of the crashed instance's claim changes nothing.
    await store.renew([claimed!.id], 'instance-1', 60_000);
    expect((await store.claim('instance-2', 10, 300)).map((d) => d.sequence)).toEqual([32n]);
    expect(LEASE_MS).toBeLessThanOrEqual(5_000); // what the dispatcher claims with: a crash holds a patient's events for seconds
  });

  it('keeps the previous secret signing during the overlap, and the organisation boundary', async () => {
    const endpoint = await activeEndpoint(store);
    const [first] = await store.secrets(endpoint.id);
    const next = generateSecret();
    expect(await store.rotateSecret(endpoint.id, 'org-b', next, 1)).toBe(false);
    expect(await store.rotateSecret(endpoint.id, owner.organisationId, next, 1)).toBe(true);
    expect(await store.secrets(endpoint.id)).toEqual([next, first]);
    const last = generateSecret();
    expect(await store.rotateSecret(endpoint.id, owner.organisationId, last, 0)).toBe(true);
    expect(await store.secrets(endpoint.id)).toEqual([last]);
    expect(await store.endpoint(endpoint.id, 'org-b')).toBeUndefined();
    expect(await store.transition(endpoint.id, 'org-b', ['active'], 'paused')).toBeUndefined();
    expect(await store.transition(endpoint.id, owner.organisationId, ['pending_verification'], 'active')).toBeUndefined();
    expect(await store.deleteEndpoint(endpoint.id, 'org-b')).toBe(false);
    expect((await store.endpoints('org-b')).totalCount).toBe(0);
    expect((await store.endpoints(owner.organisationId)).edges.map((e) => e.node.id)).toContain(endpoint.id);
    expect(await store.deleteEndpoint(endpoint.id, owner.organisationId)).toBe(true);
  });
}

describe('webhook store (embedded)', () => {
  storeTests(() => WebhookStore.open({ databaseUrl: undefined, dataDir: 'memory://' }));

  it('creates the embedded database with the first endpoint, and opens an existing one at once', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ketengraph-webhook-store-')), 'webhooks');
    try {
      const fresh = await WebhookStore.open({ databaseUrl: undefined, dataDir: dir });
      expect(fresh.opened).toBe(false);
      expect(existsSync(dir)).toBe(false);
      expect(await fresh.ready()).toBe(true);
      expect(await fresh.endpoints(owner.organisationId)).toMatchObject({ totalCount: 0, edges: [] });
      expect(fresh.opened).toBe(false);
      const created = await fresh.createEndpoint({
        owner,
        url: 'http://127.0.0.1:1/x',
        description: null,
        filter,
        selection,
        secret: generateSecret(),
        fromSequence: 5n,
      });
      expect(fresh.opened).toBe(true);
      await fresh.close();
      const reopened = await WebhookStore.open({ databaseUrl: undefined, dataDir: dir });
      try {
        expect(reopened.opened).toBe(true);
        expect(await reopened.endpoint(created.id, owner.organisationId)).toMatchObject({ id: created.id, fromSequence: 5n, status: 'pending_verification' });
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });
});

describe.skipIf(!postgresUrl)('webhook store (PostgreSQL)', () => {
  let databases: Awaited<ReturnType<typeof createDatabases<'webhooks'>>> | undefined;
  afterAll(() => databases?.drop());
  storeTests(async () => {
    databases = await createDatabases(['webhooks'] as const);
    return WebhookStore.open({ databaseUrl: databases.urls.webhooks, dataDir: 'memory://' });
  });

  it('two instances claiming at once never claim the same delivery', async () => {
    const a = await WebhookStore.open({ databaseUrl: databases!.urls.webhooks, dataDir: 'memory://' });
    const b = await WebhookStore.open({ databaseUrl: databases!.urls.webhooks, dataDir: 'memory://' });
    try {
      const endpoint = await activeEndpoint(a);
      await a.enqueue(
        Array.from({ length: 200 }, (_, i) => event(1000 + i, `patient-${i}`)),
        1199n,
      );
      const seen: string[] = [];
      const drain = async (store: WebhookStore, name: string) => {
        for (;;) {
          const claimed = await store.claim(name, 7, 60_000);
          if (claimed.length === 0) return;
          for (const d of claimed) {
            seen.push(d.id);
            await store.finish(d.id, name, 'delivered', 1);
          }
        }
      };
      await Promise.all([drain(a, 'a'), drain(b, 'b'), drain(a, 'a2'), drain(b, 'b2')]);
      expect(seen).toHaveLength(200);
      expect(new Set(seen).size).toBe(200);
      await a.deleteEndpoint(endpoint.id, owner.organisationId);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
