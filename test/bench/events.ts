/**
 * Event latency: from a placement change to its arrival at subscribers (graphql-ws) and at a
 * webhook receiver, at fixed change rates and subscriber counts. The whole federation runs in
 * this one process on embedded databases (like the tests); changes are made open-loop at the
 * target rate (each a plaatsing mutation, timed from its response), subscribers and the receiver
 * record arrival times. Every subscriber's selection reaches all four subgraphs, resolved per
 * subscriber (authorised and audited per delivery), so the work grows with rate × subscribers.
 *
 *   npm run bench:events                                    # rates 1, 10, 50 /s × 10 and 100 subscribers, 10 s each
 *   BENCH_SECONDS=30 BENCH_RATES=50 BENCH_SUBSCRIBERS=100 npm run bench:events
 *
 * EVENT_POLL_INTERVAL_MS sets the gateway's feed poll as in production. Prints one JSON line per
 * scenario and a Markdown table at the end.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { encodeEventCursor, type Principal } from '@ketengraph/service-kit';
import { placementActor, provider as providerActor } from '../support/actors.js';
import { startFederation, TEST_PRINCIPAL } from '../support/federation.js';
import { wsSubscribe } from '../support/subscribers.js';
import { startReceiver } from '../support/webhook-receiver.js';

const list = (value: string | undefined, fallback: number[]) => (value ? value.split(',').map(Number) : fallback);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATES = list(process.env.BENCH_RATES, [1, 10, 50]);
const SUBSCRIBER_COUNTS = list(process.env.BENCH_SUBSCRIBERS, [10, 100]);
const POLL_MS = Number(process.env.EVENT_POLL_INTERVAL_MS ?? 250);
/** How long after the last change arrivals are waited for before the rest counts as missing. */
const DRAIN_MS = Number(process.env.BENCH_DRAIN_MS ?? 60_000);
const STEPS = [
  { field: 'startIntake', status: 'INTAKE', byProvider: true },
  { field: 'acceptPlacement', status: 'ACCEPTED', byProvider: true },
  { field: 'decidePlacement', status: 'DECIDED', byProvider: false },
  { field: 'withdrawPlacement', status: 'WITHDRAWN', byProvider: false, args: ', reason: "Bench"' },
];
const SELECTION = `subscription Bench($after: String) { placementChanged(after: $after) {
  sequence toStatus
  placement { id status provider { name } trajectory { trajectoryIndication { issuer } handoverQuality { handoverCount } } }
  patient { name { family } forensicCv { riskAssessments { totalCount } } }
} }`;
const WEBHOOK_SELECTION = SELECTION.replace('subscription Bench($after: String)', 'subscription BenchWebhook').replace('(after: $after)', '');
const principal = { ...TEST_PRINCIPAL, scopes: [...TEST_PRINCIPAL.scopes, 'webhook:write'] };

const federation = await startFederation({ seedPatients: 40 });
const gateway = await federation.startGateway({ port: 0, events: { pollIntervalMs: POLL_MS }, rateLimit: { perSecond: 0, burst: 0, burstSeconds: 1 } });
const receiver = await startReceiver();
const results: Record<string, unknown>[] = [];
try {
  const plaatsing = federation.subgraphs.plaatsing.prisma as any;
  const callerToken = await federation.callerToken(principal);
  const gql = async (url: string, token: string, query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(body.errors).slice(0, 300)}`);
    return body.data;
  };

  // One webhook endpoint with the same cross-subgraph selection, verified, so every change is delivered to it too.
  const registered = await gql(
    gateway.url,
    callerToken,
    'mutation($input: RegisterWebhookEndpointInput!) { registerWebhookEndpoint(input: $input) { secret endpoint { id } } }',
    {
      input: { url: receiver.url('/bench'), description: 'bench', selection: WEBHOOK_SELECTION },
    },
  );
  receiver.trust('/bench', registered.registerWebhookEndpoint.secret);
  await gql(gateway.url, callerToken, 'mutation($id: ID!) { verifyWebhookEndpoint(id: $id) { status } }', {
    id: registered.registerWebhookEndpoint.endpoint.id,
  });

  // Placements to change: each takes the four steps, so a scenario of N changes needs N/4 of them.
  const seeded = await plaatsing.placement.findMany({ distinct: ['patientId'], take: 40 });
  const providers = await plaatsing.provider.findMany({ include: { capacity: true }, take: 20 });
  let nextFixture = 0;
  /** Who takes each step on a fixture, as the write rules say (the addressed provider, the placing organisation). */
  const actors = new Map<string, { provider: Principal; placing: Principal }>();
  const newFixture = async (): Promise<string> => {
    const placement = seeded[nextFixture % seeded.length];
    const provider = providers.find((p: any) => p.id !== placement.providerId && p.capacity.length > 0);
    nextFixture++;
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
    actors.set(id, { provider: providerActor(provider.id), placing: await placementActor(federation, 'decidePlacement', id) });
    return id;
  };

  for (const subscribers of SUBSCRIBER_COUNTS) {
    for (const rate of RATES) {
      const total = Math.max(1, Math.round(rate * SECONDS));
      const fixtures = await Promise.all(Array.from({ length: Math.ceil(total / STEPS.length) }, newFixture));
      const changes = Array.from({ length: total }, (_, i) => ({ placementId: fixtures[i % fixtures.length]!, step: STEPS[Math.floor(i / fixtures.length)]! }));

      // Arrivals keyed by placement and status: what a change is, without asking the database for its sequence.
      const arrivals = new Map<string, number[]>();
      const webhookArrivals = new Map<string, number>();
      const received = receiver.events('/bench').length;
      const after = encodeEventCursor(await gateway.events!.feed.head());
      const errors: string[] = [];
      const clients = Array.from({ length: subscribers }, () =>
        wsSubscribe<{ data?: any; errors?: unknown }>(gateway.url, callerToken, { query: SELECTION, variables: { after } }, (result) => {
          const change = result.data?.placementChanged;
          if (!change) return void errors.push(JSON.stringify(result.errors).slice(0, 200));
          const key = `${change.placement.id}:${change.toStatus}`;
          arrivals.set(key, [...(arrivals.get(key) ?? []), performance.now()]);
        }),
      );
      const opened = gateway.subscriptions!.size;
      const subscribeDeadline = Date.now() + 60_000;
      while (gateway.subscriptions!.size < subscribers && Date.now() < subscribeDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
      if (gateway.subscriptions!.size < subscribers)
        throw new Error(
          `only ${gateway.subscriptions!.size} of ${subscribers} subscribed (${opened} at first): ${JSON.stringify(clients.find((c) => c.failure)?.failure ?? errors[0] ?? '')}`,
        );

      // Open loop: change i is made at i / rate seconds whether or not the previous one has finished.
      const caused = new Map<string, number>();
      // The receiver stamps arrivals with the wall clock.
      const causedWall = new Map<string, number>();
      const started = performance.now();
      // A placement's next step waits for its previous one (a transition needs the state before it).
      const previous = new Map<string, Promise<void>>();
      const made = changes.map(async ({ placementId, step }, i) => {
        const due = started + (i * 1000) / rate;
        const before = previous.get(placementId);
        let finished!: () => void;
        previous.set(placementId, new Promise<void>((resolve) => (finished = resolve)));
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
        await before;
        // The gateway's tokens to subgraphs live 60 s: one per change, as the gateway signs them.
        await gql(
          federation.subgraphs.plaatsing.url,
          await federation.gatewayToken(step.byProvider ? actors.get(placementId)!.provider : actors.get(placementId)!.placing),
          `mutation($id: ID!) { ${step.field}(placementId: $id${step.args ?? ''}) { status } }`,
          { id: placementId },
        );
        caused.set(`${placementId}:${step.status}`, performance.now());
        causedWall.set(`${placementId}:${step.status}`, Date.now());
        finished();
      });
      await Promise.all(made);
      const changeSeconds = (performance.now() - started) / 1000;

      const complete = () => [...caused.keys()].every((key) => (arrivals.get(key)?.length ?? 0) >= subscribers && webhookArrivals.has(key));
      const drainDeadline = Date.now() + DRAIN_MS;
      while (!complete() && Date.now() < drainDeadline) {
        for (const request of receiver.events('/bench').slice(received)) {
          const change = (request.payload?.data as any)?.data?.placementChanged;
          if (change) {
            const key = `${change.placement.id}:${change.toStatus}`;
            if (!webhookArrivals.has(key)) webhookArrivals.set(key, request.at);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (const client of clients) {
        if (client.failure) errors.push(String((client.failure as Error)?.message ?? JSON.stringify(client.failure)).slice(0, 200));
        client.stop();
      }
      while (gateway.subscriptions!.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));

      const subscriberLatencies = [...caused].flatMap(([key, at]) => (arrivals.get(key) ?? []).map((arrived) => arrived - at));
      const webhookLatencies = [...causedWall].flatMap(([key, at]) => (webhookArrivals.has(key) ? [webhookArrivals.get(key)! - at] : []));
      const result = {
        subscribers,
        targetRate: rate,
        achievedRate: Number((caused.size / changeSeconds).toFixed(1)),
        changes: caused.size,
        subscriber: { delivered: subscriberLatencies.length, expected: caused.size * subscribers, ...percentiles(subscriberLatencies) },
        webhook: { delivered: webhookLatencies.length, expected: caused.size, ...percentiles(webhookLatencies) },
        errors: errors.slice(0, 3),
        loadAverage: loadavg()[0]!.toFixed(1),
      };
      console.log(JSON.stringify(result));
      results.push(result);
    }
  }
} finally {
  await receiver.close();
  await gateway.close();
  await federation.close();
}

console.log(
  `\n${availableParallelism()} cores, poll ${POLL_MS} ms, ${SECONDS} s per scenario; latency in ms from a change's commit (mutation answered) to its arrival\n`,
);
console.log('| subscribers | changes/s (target → made) | subscriber p50 | p95 | p99 | delivered | webhook p50 | p95 | p99 | delivered | load avg |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results as any[]) {
  console.log(
    `| ${r.subscribers} | ${r.targetRate} → ${r.achievedRate} | ${r.subscriber.p50} | ${r.subscriber.p95} | ${r.subscriber.p99} | ${r.subscriber.delivered}/${r.subscriber.expected} | ${r.webhook.p50} | ${r.webhook.p95} | ${r.webhook.p99} | ${r.webhook.delivered}/${r.webhook.expected} | ${r.loadAverage} |`,
  );
}
process.exit(0);

function percentiles(values: number[]): { p50: number | null; p95: number | null; p99: number | null } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!) : null);
  return { p50: at(50), p95: at(95), p99: at(99) };
}
