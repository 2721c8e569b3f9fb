/**
 * The event benchmark's load process (events.ts forks it): the partner side — writers making
 * placement changes at plaatsing, graphql-ws subscribers and a webhook receiver — in a process of
 * its own, so that its CPU is not the stack's. events.ts sends one scenario at a time
 * (`{ subscribers, rate }`); this process answers `measuring` when its subscribers are open and
 * the changes start, then the scenario's result.
 */
import { mintDevToken } from '@ketengraph/gateway';
import { syntheticBsn } from '@ketengraph/seed-data';
import { ensureKeyPair, GATEWAY_KEYS_DIR, importSigningKey, signGatewayToken, type Principal } from '@ketengraph/service-kit';
import { DJI, NIFP, provider as providerActor } from '../support/actors.js';
import { clinicalTrajectoryInput, OPEN_CLINICAL_TRAJECTORY } from '../support/operations.js';
import { wsSubscribe } from '../support/subscribers.js';
import { startReceiver } from '../support/webhook-receiver.js';

export interface EventsLoadJob {
  gatewayUrl: string;
  plaatsingUrl: string;
  /** Seconds of changes per scenario. */
  seconds: number;
  /** How long after the last change arrivals are waited for before the rest counts as missing. */
  drainMs: number;
  /** The scenarios to come, for making their placements up front. */
  scenarios: { subscribers: number; rate: number }[];
}

export type LoadMessage = { type: 'ready' } | { type: 'measuring' } | { type: 'result'; result: ScenarioResult } | { type: 'failed'; message: string };
export type ControlMessage = { type: 'scenario'; subscribers: number; rate: number } | { type: 'close' };

export interface Latencies {
  delivered: number;
  expected: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface ScenarioResult {
  subscribers: number;
  targetRate: number;
  achievedRate: number;
  changes: number;
  subscriber: Latencies;
  webhook: Latencies;
  /** Changes refused by plaatsing (e.g. overloaded); not made, so not expected. */
  writeErrors: number;
  errors: string[];
}

const STEPS = [
  { field: 'startIntake', status: 'INTAKE', byProvider: true },
  { field: 'acceptPlacement', status: 'ACCEPTED', byProvider: true },
  { field: 'decidePlacement', status: 'DECIDED', byProvider: false },
  { field: 'withdrawPlacement', status: 'WITHDRAWN', byProvider: false, args: ', reason: "Bench"' },
];
/** Like the README's example: the selection reaches all four subgraphs. */
const SELECTION = `subscription Bench { placementChanged {
  sequence toStatus
  placement { id status provider { name } trajectory { trajectoryIndication { issuer } handoverQuality { handoverCount } } }
  patient { name { family } forensicCv { riskAssessments { totalCount } } }
} }`;
const WEBHOOK_SELECTION = SELECTION.replace('subscription Bench', 'subscription BenchWebhook');
/** Patients the placements are made for (each with a trajectory and an indication for clinical care at level 4). */
const PATIENTS = 40;
const WEBHOOK_DESCRIPTION = 'bench:events';

const job = JSON.parse(process.argv[2]!) as EventsLoadJob;
const send = (message: LoadMessage) => process.send!(message);
const next = () => new Promise<ControlMessage>((resolve) => process.once('message', (message) => resolve(message as ControlMessage)));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The subscribers and the endpoint's owner: DJI's placement desk (one authorization context, so they share each batch's resolution).
const callerTokens = new Map<string, string>();
const callerToken = async (principal: Principal) => {
  const key = JSON.stringify(principal);
  if (!callerTokens.has(key)) callerTokens.set(key, await mintDevToken(principal, { expiresInSeconds: 7200 }));
  return callerTokens.get(key)!;
};
// Changes are made at plaatsing directly, with a token as the gateway signs it for the acting party.
const gatewayKey = await importSigningKey(await ensureKeyPair(GATEWAY_KEYS_DIR));
const subgraphTokens = new Map<string, string>();
const subgraphToken = async (principal: Principal) => {
  const key = JSON.stringify(principal);
  if (!subgraphTokens.has(key)) subgraphTokens.set(key, await signGatewayToken(principal, gatewayKey, 7200));
  return subgraphTokens.get(key)!;
};

async function gql<T = any>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors || !body.data) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(body.errors).slice(0, 300)}`);
  return body.data;
}
const viaGateway = async <T = any>(principal: Principal, query: string, variables: Record<string, unknown> = {}) =>
  gql<T>(job.gatewayUrl, await callerToken(principal), query, variables);

/** Open subscriptions, from the gateway's metrics. */
async function subscriptionsOpen(): Promise<number> {
  const text = await (await fetch(new URL('/metrics', job.gatewayUrl))).text();
  const match = /^ketengraph_subscriptions_open(?:\{[^}]*\})? (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

const receiver = await startReceiver();
try {
  // Endpoints a previous run left (one that was stopped before it could delete its own).
  const listed = await viaGateway(DJI, '{ webhookEndpoints(first: 100) { edges { node { id description } } } }');
  for (const { node } of listed.webhookEndpoints.edges as { node: { id: string; description: string } }[]) {
    if (node.description === WEBHOOK_DESCRIPTION) await viaGateway(DJI, 'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id: node.id });
  }

  // Placements to change, made up front (their REQUESTED events come before anyone listens):
  // each takes the four steps, so a scenario of N changes needs N/4 of them.
  const providers = (
    await viaGateway(DJI, '{ providers(first: 10, filter: { careType: KLINISCH, securityLevel: 4 }) { edges { node { id } } } }')
  ).providers.edges.map((e: { node: { id: string } }) => e.node.id) as string[];
  if (providers.length < 2) throw new Error('The seed has fewer than two providers of KLINISCH care at level 4.');
  const trajectories: { patientId: string; trajectoryId: string }[] = [];
  // New patients, numbered from a random point past the seed's (a number taken by an earlier run is skipped).
  const first = 50_000 + Math.floor(Math.random() * 39_000);
  let refused: unknown;
  for (let n = first; trajectories.length < PATIENTS; n++) {
    if (n - first > 4 * PATIENTS) throw new Error(`Could not register the benchmark patients: ${String(refused)}`);
    const registered = await viaGateway(NIFP, 'mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { id } }', {
      input: { bsn: syntheticBsn(n), givenName: 'Bench', familyName: `Events ${n}`, birthDate: '1988-03-04' },
    }).catch((error: unknown) => void (refused = error));
    if (!registered) continue;
    const patient = registered.registerPatient as { id: string };
    const { openTrajectory: trajectory } = await viaGateway(NIFP, OPEN_CLINICAL_TRAJECTORY, clinicalTrajectoryInput(patient.id));
    await viaGateway(NIFP, 'mutation($input: IssueTrajectoryIndicationInput!) { issueTrajectoryIndication(input: $input) { id } }', {
      input: {
        trajectoryId: trajectory.id,
        issuer: 'NIFP',
        issuedOn: '2026-01-10',
        phases: [{ name: 'Klinisch', minSecurityLevel: 3, maxSecurityLevel: 5, careTypes: ['KLINISCH'] }],
      },
    });
    trajectories.push({ patientId: patient.id, trajectoryId: trajectory.id });
  }
  const providerOf = new Map<string, string>();
  const newFixture = async (n: number): Promise<string> => {
    const { patientId, trajectoryId } = trajectories[n % trajectories.length]!;
    const providerId = providers[n % providers.length]!;
    const { requestPlacement } = await viaGateway(DJI, 'mutation($input: RequestPlacementInput!) { requestPlacement(input: $input) { id } }', {
      input: { trajectoryId, patientId, providerId, careType: 'KLINISCH', securityLevel: 4 },
    });
    providerOf.set(requestPlacement.id, providerId);
    return requestPlacement.id;
  };
  const fixtures: string[][] = [];
  let made = 0;
  for (const { rate } of job.scenarios) {
    const needed = Math.ceil(Math.max(1, Math.round(rate * job.seconds)) / STEPS.length);
    const ids: string[] = [];
    for (let i = 0; i < needed; i++) ids.push(await newFixture(made++));
    fixtures.push(ids);
  }

  // One webhook endpoint with the same cross-subgraph selection, verified after the fixtures, so every change is delivered to it too.
  const registered = await viaGateway(
    DJI,
    'mutation($input: RegisterWebhookEndpointInput!) { registerWebhookEndpoint(input: $input) { secret endpoint { id } } }',
    { input: { url: receiver.url('/bench'), description: WEBHOOK_DESCRIPTION, selection: WEBHOOK_SELECTION } },
  );
  const endpointId = registered.registerWebhookEndpoint.endpoint.id as string;
  receiver.trust('/bench', registered.registerWebhookEndpoint.secret);
  await viaGateway(DJI, 'mutation($id: ID!) { verifyWebhookEndpoint(id: $id) { status } }', { id: endpointId });

  send({ type: 'ready' });
  for (let scenario = 0; ; scenario++) {
    const control = await next();
    if (control.type === 'close') break;
    send({ type: 'result', result: await runScenario(control.subscribers, control.rate, fixtures[scenario]!, providerOf) });
  }
  await viaGateway(DJI, 'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id: endpointId });
} catch (error) {
  send({ type: 'failed', message: String((error as Error)?.stack ?? error) });
} finally {
  await receiver.close();
}
process.exit(0);

async function runScenario(subscribers: number, rate: number, fixtures: string[], providerOf: Map<string, string>): Promise<ScenarioResult> {
  const total = Math.max(1, Math.round(rate * job.seconds));
  const changes = Array.from({ length: total }, (_, i) => ({ placementId: fixtures[i % fixtures.length]!, step: STEPS[Math.floor(i / fixtures.length)]! }));

  // Arrivals keyed by placement and status: what a change is, without asking for its sequence.
  const arrivals = new Map<string, number[]>();
  const webhookArrivals = new Map<string, number>();
  const received = receiver.events('/bench').length;
  const errors: string[] = [];
  const token = await callerToken(DJI);
  const clients = Array.from({ length: subscribers }, () =>
    wsSubscribe<{ data?: any; errors?: unknown }>(job.gatewayUrl, token, { query: SELECTION }, (result) => {
      const change = result.data?.placementChanged;
      if (!change) return void errors.push(JSON.stringify(result.errors).slice(0, 200));
      const key = `${change.placement.id}:${change.toStatus}`;
      const times = arrivals.get(key);
      if (times) times.push(performance.now());
      else arrivals.set(key, [performance.now()]);
    }),
  );
  // Live only: a subscription counts as open once it has its starting point, so every change from here on reaches it.
  const subscribeDeadline = Date.now() + 60_000;
  let open = 0;
  while ((open = await subscriptionsOpen()) < subscribers && Date.now() < subscribeDeadline) await sleep(50);
  if (open < subscribers)
    throw new Error(`only ${open} of ${subscribers} subscribed: ${JSON.stringify(clients.find((c) => c.failure)?.failure ?? errors[0] ?? '')}`);
  send({ type: 'measuring' });

  // Open loop: change i is made at i / rate seconds whether or not the previous one has finished.
  const caused = new Map<string, number>();
  // The receiver stamps arrivals with the wall clock.
  const causedWall = new Map<string, number>();
  const started = performance.now();
  // A placement's next step waits for its previous one (a transition needs the state before it).
  const previous = new Map<string, Promise<void>>();
  const failed = new Set<string>();
  const writeErrors: string[] = [];
  await Promise.all(
    changes.map(async ({ placementId, step }, i) => {
      const due = started + (i * 1000) / rate;
      const before = previous.get(placementId);
      let finished!: () => void;
      previous.set(placementId, new Promise<void>((resolve) => (finished = resolve)));
      await sleep(Math.max(0, due - performance.now()));
      await before;
      try {
        // A placement whose previous step failed cannot take this one: not attempted, not expected.
        if (failed.has(placementId)) return;
        const actor = step.byProvider ? providerActor(providerOf.get(placementId)!) : DJI;
        await gql(job.plaatsingUrl, await subgraphToken(actor), `mutation($id: ID!) { ${step.field}(placementId: $id${step.args ?? ''}) { status } }`, {
          id: placementId,
        });
        caused.set(`${placementId}:${step.status}`, performance.now());
        causedWall.set(`${placementId}:${step.status}`, Date.now());
      } catch (error) {
        // An overloaded plaatsing may refuse a step; counted, and the benchmark goes on with the rest.
        failed.add(placementId);
        writeErrors.push(String((error as Error).message).slice(0, 200));
      } finally {
        finished();
      }
    }),
  );
  const changeSeconds = (performance.now() - started) / 1000;

  const collectWebhooks = () => {
    for (const request of receiver.events('/bench').slice(received)) {
      const change = (request.payload?.data as any)?.data?.placementChanged;
      if (change) {
        const key = `${change.placement.id}:${change.toStatus}`;
        if (!webhookArrivals.has(key)) webhookArrivals.set(key, request.at);
      }
    }
  };
  const complete = () => [...caused.keys()].every((key) => (arrivals.get(key)?.length ?? 0) >= subscribers && webhookArrivals.has(key));
  const drainDeadline = Date.now() + job.drainMs;
  while (!complete() && Date.now() < drainDeadline) {
    collectWebhooks();
    await sleep(50);
  }
  collectWebhooks();
  for (const client of clients) {
    if (client.failure) errors.push(String((client.failure as Error)?.message ?? JSON.stringify(client.failure)).slice(0, 200));
    client.stop();
  }
  while ((await subscriptionsOpen()) > 0) await sleep(50);

  const subscriberLatencies = [...caused].flatMap(([key, at]) => (arrivals.get(key) ?? []).map((arrived) => arrived - at));
  const webhookLatencies = [...causedWall].flatMap(([key, at]) => (webhookArrivals.has(key) ? [webhookArrivals.get(key)! - at] : []));
  return {
    subscribers,
    targetRate: rate,
    achievedRate: Number((caused.size / changeSeconds).toFixed(1)),
    changes: caused.size,
    subscriber: { delivered: subscriberLatencies.length, expected: caused.size * subscribers, ...percentiles(subscriberLatencies) },
    webhook: { delivered: webhookLatencies.length, expected: caused.size, ...percentiles(webhookLatencies) },
    writeErrors: writeErrors.length,
    errors: [...writeErrors, ...errors].slice(0, 3),
  };
}

function percentiles(values: number[]): { p50: number | null; p95: number | null; p99: number | null } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!) : null);
  return { p50: at(50), p95: at(95), p99: at(99) };
}
