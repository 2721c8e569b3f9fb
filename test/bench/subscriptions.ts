/**
 * Subscription delivery latency: the whole federation in this one process (embedded databases,
 * like the tests), SUBSCRIBERS graphql-ws clients subscribed to placementChanged with a selection
 * across all four subgraphs, and CHANGES placement changes caused one after another through the
 * gateway. Measures, per delivered change, the time from the mutation's response to its arrival at
 * each subscriber (poll interval, the log read, one federated query per subscriber and audit).
 *
 *   npx tsx test/bench/subscriptions.ts            # SUBSCRIBERS=10 CHANGES=40 EVENT_POLL_INTERVAL_MS=250
 */
import { randomUUID } from 'node:crypto';
import { encodeEventCursor } from '@ketengraph/service-kit';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startFederation } from '../support/federation.js';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 10);
const CHANGES = Number(process.env.CHANGES ?? 40);
const POLL_MS = Number(process.env.EVENT_POLL_INTERVAL_MS ?? 250);
const STEPS = ['startIntake', 'acceptPlacement', 'decidePlacement', 'withdrawPlacement'];
const QUERY = `subscription Bench($after: String) { placementChanged(after: $after) {
  sequence toStatus
  placement { id status provider { name } trajectory { trajectoryIndication { issuer } handoverQuality { handoverCount } } }
  patient { name { family } forensicCv { riskAssessments { totalCount } } }
} }`;

const federation = await startFederation({ seedPatients: 20 });
const gateway = await federation.startGateway({ port: 0, events: { pollIntervalMs: POLL_MS } });
try {
  const plaatsing = federation.subgraphs.plaatsing.prisma as any;
  const seeded = await plaatsing.placement.findMany({ distinct: ['patientId'], take: Math.ceil(CHANGES / STEPS.length) });
  const fixtures: string[] = [];
  for (const placement of seeded) {
    const provider = await plaatsing.provider.findFirst({ where: { id: { not: placement.providerId } }, include: { capacity: true } });
    const id = randomUUID();
    await plaatsing.placement.create({
      data: {
        id,
        patientId: placement.patientId,
        trajectoryId: placement.trajectoryId,
        providerId: provider.id,
        careType: provider.capacity[0].careType,
        securityLevel: provider.capacity[0].securityLevel,
        status: 'REQUESTED',
      },
    });
    fixtures.push(id);
  }

  const arrivals = new Map<string, number[]>();
  const token = await federation.callerToken();
  const after = encodeEventCursor(await gateway.events!.feed.head());
  const clients = Array.from({ length: SUBSCRIBERS }, () => {
    const client = createClient({
      url: gateway.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    client.subscribe<{ placementChanged: { sequence: string } }>(
      { query: QUERY, variables: { after } },
      {
        next: (result) => {
          const sequence = result.data?.placementChanged?.sequence;
          if (!sequence) throw new Error(`unexpected result: ${JSON.stringify(result.errors)}`);
          arrivals.set(sequence, [...(arrivals.get(sequence) ?? []), performance.now()]);
        },
        error: (error) => console.error('subscription error', error),
        complete: () => undefined,
      },
    );
    return client;
  });
  while (gateway.subscriptions!.size < SUBSCRIBERS) await new Promise((resolve) => setTimeout(resolve, 20));

  const caused = new Map<string, number>();
  const started = performance.now();
  let done = 0;
  outer: for (const step of STEPS) {
    for (const id of fixtures) {
      if (done === CHANGES) break outer;
      const args = step === 'withdrawPlacement' ? '(placementId: $id, reason: "Bench")' : '(placementId: $id)';
      const result = await federation.request<Record<string, { status: string }>>(`mutation($id: ID!) { ${step}${args} { status } }`, { id });
      if (result.errors) throw new Error(`mutation failed: ${JSON.stringify(result.errors)}`);
      const newest = await plaatsing.placementEvent.findFirst({ where: { placementId: id }, orderBy: { sequence: 'desc' } });
      caused.set(newest.sequence.toString(), performance.now());
      done++;
    }
  }
  const deadline = Date.now() + 60_000;
  while ([...caused.keys()].some((s) => (arrivals.get(s)?.length ?? 0) < SUBSCRIBERS) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  const elapsed = performance.now() - started;

  const latencies = [...caused].flatMap(([sequence, at]) => (arrivals.get(sequence) ?? []).map((arrived) => arrived - at)).sort((a, b) => a - b);
  const deliveries = latencies.length;
  const pct = (p: number) => latencies[Math.min(deliveries - 1, Math.ceil((p / 100) * deliveries) - 1)]!.toFixed(0);
  console.log(
    JSON.stringify({
      subscribers: SUBSCRIBERS,
      changes: caused.size,
      pollIntervalMs: POLL_MS,
      deliveries,
      expectedDeliveries: caused.size * SUBSCRIBERS,
      latencyMs: { p50: pct(50), p95: pct(95), max: latencies.at(-1)!.toFixed(0) },
      deliveriesPerSecond: Math.round(deliveries / (elapsed / 1000)),
    }),
  );
  await Promise.all(clients.map((client) => client.dispose()));
} finally {
  await gateway.close();
  await federation.close();
}
