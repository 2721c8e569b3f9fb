/**
 * Subgraph faults: kwaliteit behind a proxy that misbehaves on demand (hangs, 5xx, resets,
 * HTML, a non-GraphQL shape, a flood). The gateway answers with the rest of the data, the
 * kwaliteit fields null and SUBGRAPH_UNAVAILABLE naming the subgraph and nothing internal;
 * retries repeat queries but never mutations; the circuit opens, /ready names the subgraph, and
 * the gateway recovers when the subgraph does. A caller's bad input is the caller's error: it
 * neither opens the breaker nor changes /ready, however often it is sent.
 */
import type { RunningGateway } from '@ketengraph/gateway';
import { kwaliteit } from '@ketengraph/kwaliteit';
import { redirectLogs, startSubgraph, type Principal, type RunningSubgraph } from '@ketengraph/service-kit';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultyProxy, INTERNAL_DETAIL, type Fault, type FaultyProxy } from './support/faulty-proxy.js';
import { startFederation, type Federation } from './support/federation.js';
import { metricValue, post } from './support/gateway-client.js';

let federation: Federation;
let proxy: FaultyProxy;
/** Breaker effectively off: each fault is seen on its own. */
let gateway: RunningGateway;
let patientId: string;

/** The subgraph deadline of this file's gateways. */
const DEADLINE_MS = 1500;
const ROOT_QUERY = '{ qualityPillars { number } providers(first: 2) { edges { node { id name } } } }';
const NESTED_QUERY = `query Nested($id: ID!) { patient(id: $id) { id trajectories(first: 3) { edges { node { id handoverQuality { handoverCount } } } } } }`;

beforeAll(async () => {
  federation = await startFederation({ seedPatients: 20 });
  proxy = await startFaultyProxy(federation.subgraphs.kwaliteit.url, { oversizedBytes: 300_000 });
  // Deadlines long enough that a healthy subgraph on a loaded CI machine meets them (a shorter one
  // turned slow plaatsing answers into a second SUBGRAPH_UNAVAILABLE); the hanging proxy never does.
  gateway = await federation.startGateway({
    subgraphUrls: { kwaliteit: proxy.url },
    resilience: { timeoutMs: DEADLINE_MS, retries: 1, retryDelayMs: 10, breakerFailures: 10_000, breakerHalfOpenMs: 1000, maxResponseBytes: 200_000 },
  });
  const patients = await federation.request<{ patients: { edges: { node: { id: string } }[] } }>('{ patients(first: 1) { edges { node { id } } } }');
  patientId = patients.data!.patients.edges[0]!.node.id;
});

afterAll(async () => {
  await gateway?.close();
  await proxy?.close();
  await federation?.close();
});

function expectUnavailable(text: string, errors: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[] | undefined, path: unknown[]) {
  const error = errors?.find((e) => e.extensions?.code === 'SUBGRAPH_UNAVAILABLE' && JSON.stringify(e.path) === JSON.stringify(path));
  expect(error, `SUBGRAPH_UNAVAILABLE at ${JSON.stringify(path)} in ${text}`).toBeDefined();
  expect(error!.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'kwaliteit' });
  expect(error!.message).toContain('kwaliteit');
  // Nothing internal: not the subgraph's answer, address, status text or a stack.
  for (const leak of [INTERNAL_DETAIL, 'Jansen', '127.0.0.1', proxy.url, 'ECONN', '    at ', 'stacktrace', '500:']) expect(text).not.toContain(leak);
}

describe('a failing subgraph yields partial data', () => {
  const faults: Fault[] = ['hang', 'status-500', 'reset', 'html', 'bad-shape', 'oversized'];
  for (const fault of faults) {
    it(`${fault}: root fields of the other subgraphs are delivered, the failed root field is null`, async () => {
      proxy.fault = fault;
      const started = performance.now();
      const { status, body, text } = await post(federation, gateway.url, { query: ROOT_QUERY });
      expect(status).toBe(200);
      expect(body.data?.qualityPillars).toBeNull();
      expect((body.data as any).providers.edges).toHaveLength(2);
      expectUnavailable(text, body.errors, ['qualityPillars']);
      // One retry for a query: at most two deadlines (and the machine's slack), not the subgraph's whim (a hang is forever).
      expect(performance.now() - started).toBeLessThan(2 * DEADLINE_MS + 5000);
    });
  }

  it('nested entity fields of a failed fetch are null with an error at each entity, the rest of the patient is there', async () => {
    proxy.fault = 'status-500';
    const { body, text } = await post<any>(federation, gateway.url, { query: NESTED_QUERY, variables: { id: patientId } });
    const edges = body.data!.patient.trajectories.edges;
    expect(body.data!.patient.id).toBe(patientId);
    expect(edges.length).toBeGreaterThan(0);
    for (const [index, edge] of edges.entries()) {
      expect(edge.node.id).toBeTruthy();
      expect(edge.node.handoverQuality).toBeNull();
      expectUnavailable(text, body.errors, ['patient', 'trajectories', 'edges', index, 'node']);
    }
  });

  it('the whole trajectory query survives the outage with everything but the quality fields', async () => {
    proxy.fault = 'reset';
    const { operation } = await import('./support/operations.js');
    const { status, body, text } = await post<any>(federation, gateway.url, {
      query: operation('PatientTrajectory'),
      variables: { id: patientId },
      operationName: 'PatientTrajectory',
    });
    expect(status, text).toBe(200);
    expect(body.data.patient.id).toBe(patientId);
    expect(body.data.patient.name).toBeTruthy();
    expect(body.errors!.every((e: any) => e.extensions.code === 'SUBGRAPH_UNAVAILABLE')).toBe(true);
  });

  it('retries a query once after a 503 and delivers it whole', async () => {
    proxy.fault = { failTimes: 1, status: 503 };
    const before = proxy.hits;
    const { body } = await post<any>(federation, gateway.url, { query: ROOT_QUERY });
    expect(body.errors).toBeUndefined();
    expect(body.data.qualityPillars.length).toBeGreaterThan(0);
    expect(proxy.hits - before).toBe(2);
  });

  it('never repeats a mutation: one failed attempt, SUBGRAPH_UNAVAILABLE', async () => {
    proxy.fault = { failTimes: 1, status: 503 };
    const before = proxy.hits;
    const { body } = await post<any>(federation, gateway.url, {
      query:
        'mutation { recordHandover(input: { trajectoryId: "t-unknown", patientId: "p-unknown", toProviderId: "p-b", handedOverOn: "2024-01-01", items: [SETTING] }) { id } }',
    });
    expect(proxy.hits - before).toBe(1);
    expect(body.errors?.[0]?.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
    proxy.fault = 'pass';
  });

  it('masks a subgraph error that carries no code as INTERNAL_SERVER_ERROR with the request id; the rest is delivered', async () => {
    proxy.fault = 'codeless-error';
    const lines: string[] = [];
    const restore = redirectLogs(
      new Writable({
        write: (chunk, _encoding, done) => {
          lines.push(...String(chunk).split('\n').filter(Boolean));
          done();
        },
      }) as never,
    );
    const { body, text, headers } = await post<any>(federation, gateway.url, { query: ROOT_QUERY }).finally(restore);
    const requestId = headers.get('x-request-id');
    // The log line the request id leads to says what happened: message (numbers redacted), code, subgraph, path.
    const logged = lines.map((line) => JSON.parse(line)).find((entry) => entry.requestId === requestId && entry.msg === 'internal error');
    expect(logged, lines.join('\n')).toMatchObject({ subgraph: 'kwaliteit', path: ['qualityPillars'], code: 'DOWNSTREAM_SERVICE_ERROR', level: 'error' });
    expect(logged.message).toContain('ECONNREFUSED');
    expect(logged.message).not.toContain('5432');
    expect(body.data.providers.edges).toHaveLength(2);
    expect(body.errors).toEqual([
      { message: `Internal server error (request ${requestId}).`, path: ['qualityPillars'], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } },
    ]);
    expect(text).not.toContain('Jansen');
    proxy.fault = 'pass';
  });

  it('a subgraph refusing the request (400 with GraphQL errors) has answered: its code passes through, nothing is retried', async () => {
    proxy.fault = 'refused';
    const before = proxy.hits;
    const { status, body } = await post<any>(federation, gateway.url, { query: ROOT_QUERY });
    expect(status).toBe(200);
    expect(body.data.providers.edges).toHaveLength(2);
    expect(body.data.qualityPillars).toBeNull();
    expect(body.errors?.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect(proxy.hits - before).toBe(1); // the same request would be refused again
    proxy.fault = 'pass';
  });

  it('counts subgraph failures by reason in /metrics', async () => {
    proxy.fault = 'html';
    const before = await metricValue(gateway.url, 'ketengraph_subgraph_requests_total', { subgraph: 'kwaliteit', outcome: 'malformed' });
    await post(federation, gateway.url, { query: ROOT_QUERY });
    expect(await metricValue(gateway.url, 'ketengraph_subgraph_requests_total', { subgraph: 'kwaliteit', outcome: 'malformed' })).toBeGreaterThan(before);
    proxy.fault = 'pass';
  });
});

describe('circuit breaker', () => {
  let guarded: RunningGateway;
  let breakerProxy: FaultyProxy;

  beforeAll(async () => {
    breakerProxy = await startFaultyProxy(federation.subgraphs.kwaliteit.url);
    guarded = await federation.startGateway({
      subgraphUrls: { kwaliteit: breakerProxy.url },
      resilience: { timeoutMs: DEADLINE_MS, retries: 0, retryDelayMs: 10, breakerFailures: 3, breakerHalfOpenMs: 1500, maxResponseBytes: 1_000_000 },
    });
  });
  afterAll(async () => {
    await guarded?.close();
    await breakerProxy?.close();
  });

  it('refusals are not failures: however many, the circuit stays closed and /ready counts the subgraph up', async () => {
    breakerProxy.fault = 'refused';
    for (let i = 0; i < 6; i++) {
      const { body } = await post<any>(federation, guarded.url, { query: ROOT_QUERY });
      expect(
        body.errors?.map((e: any) => e.extensions.code),
        JSON.stringify(body.errors),
      ).toEqual(['BAD_USER_INPUT']);
    }
    expect(await metricValue(guarded.url, 'ketengraph_subgraph_circuit_state', { subgraph: 'kwaliteit' })).toBe(0);
    expect(((await (await fetch(new URL('/ready', guarded.url))).json()) as any).dependencies.kwaliteit).toBe(true);
  });

  it('opens after consecutive failures: calls then fail at once without reaching the subgraph, and /ready names it', async () => {
    breakerProxy.fault = 'hang';
    for (let i = 0; i < 3; i++) await post(federation, guarded.url, { query: ROOT_QUERY });
    const hits = breakerProxy.hits;
    const { body, text } = await post<any>(federation, guarded.url, { query: ROOT_QUERY });
    expect(breakerProxy.hits).toBe(hits); // failed at once: the hanging subgraph was not even asked (no deadline waited for)
    expect(body.data.providers.edges.length).toBe(2);
    expect(body.data.qualityPillars).toBeNull();
    expect(text).toContain('SUBGRAPH_UNAVAILABLE');
    const ready = await fetch(new URL('/ready', guarded.url));
    // Still ready (the rest is served as partial data), and the subgraph that is down is named.
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as any).dependencies).toMatchObject({ kwaliteit: false, plaatsing: true, indicatiestelling: true, 'forensisch-cv': true });
    expect(await metricValue(guarded.url, 'ketengraph_subgraph_circuit_state', { subgraph: 'kwaliteit' })).toBe(2);
  });

  it('recovers: after the pause one probe goes through, succeeds, and the circuit closes', async () => {
    breakerProxy.fault = 'pass';
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const { body } = await post<any>(federation, guarded.url, { query: ROOT_QUERY });
    expect(body.errors).toBeUndefined();
    expect(body.data.qualityPillars.length).toBeGreaterThan(0);
    const ready = await fetch(new URL('/ready', guarded.url));
    expect(((await ready.json()) as any).dependencies.kwaliteit).toBe(true);
    expect(await metricValue(guarded.url, 'ketengraph_subgraph_circuit_state', { subgraph: 'kwaliteit' })).toBe(0);
  });
});

describe("faults are the subgraph's, errors are the caller's", () => {
  let limited: RunningGateway;
  let spareKwaliteit: RunningSubgraph<unknown>;
  const INSPECTIE: Principal = { subject: 'flooder', organisationId: 'igj', role: 'inspectie', scopes: [], purpose: 'kwaliteitstoezicht' };
  // Each well-behaved caller below is an organisation of its own: the rate limit counts per
  // organisation, and on a fast machine the tests' requests would otherwise share one budget.
  const OTHER: Principal = { subject: 'other-caller', organisationId: 'other-partner', role: 'plaatser', scopes: [], purpose: 'plaatsing' };
  const OUTAGE_PROBE: Principal = { subject: 'outage-probe', organisationId: 'outage-probe', role: 'plaatser', scopes: [], purpose: 'plaatsing' };
  const BAD_DATES = [
    '{ waitingTimes(from: "2024-02-30", to: "2024-03-01") { count } }',
    { query: 'query W($from: Date!) { waitingTimes(from: $from, to: "2024-03-01") { count } }', variables: { from: '2024-02-30' } },
  ];
  const GOOD = '{ waitingTimes(from: "2024-01-01", to: "2024-03-01") { count } providers(first: 1) { edges { node { id } } } qualityPillars { number } }';

  beforeAll(async () => {
    // A kwaliteit of its own, so the outage below can kill it without taking the other tests' subgraph.
    spareKwaliteit = (await startSubgraph(kwaliteit, {
      port: 0,
      dataDir: 'memory://',
      seedPatients: 0,
      gatewayKeys: { source: 'jwks', jwks: federation.keys.gateway.jwks },
    })) as RunningSubgraph<unknown>;
    limited = await federation.startGateway({
      subgraphUrls: { kwaliteit: spareKwaliteit.url },
      resilience: { timeoutMs: 2000, retries: 0, retryDelayMs: 10, breakerFailures: 3, breakerHalfOpenMs: 60_000, maxResponseBytes: 1_000_000 },
      // Low enough that the flood below runs into it, per organisation.
      rateLimit: { perSecond: 5, burst: 20, burstSeconds: 10 },
    });
  });
  afterAll(async () => {
    await limited?.close();
    await spareKwaliteit?.close();
  });

  it('an impossible date is BAD_USER_INPUT at the argument, literal or variable, and never reaches the subgraph', async () => {
    const before = await metricValue(limited.url, 'ketengraph_subgraph_requests_total', { subgraph: 'plaatsing' });
    for (const body of BAD_DATES) {
      const {
        status,
        body: answer,
        text,
      } = await post<any>(federation, limited.url, typeof body === 'string' ? { query: body } : body, { principal: INSPECTIE });
      const errors = answer.errors as any[];
      expect(status, text).toBe(400);
      expect(errors).toHaveLength(1);
      expect(errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(errors[0].message).toContain('does not exist in the calendar');
      expect(errors[0].locations ?? errors[0].extensions.field, text).toBeTruthy();
      expect(text).not.toContain('2024-02-30'); // the value is not echoed (it may be a birth date)
    }
    const mutation = await post<any>(federation, limited.url, { query: 'mutation { admitPatient(placementId: "p-1", admittedOn: "2024-02-30") { id } }' });
    expect(mutation.body.errors?.[0]?.extensions?.code, mutation.text).toBe('BAD_USER_INPUT');
    expect(await metricValue(limited.url, 'ketengraph_subgraph_requests_total', { subgraph: 'plaatsing' })).toBe(before);
  });

  it('an unknown id in a root query is null with NOT_FOUND at its path, naming the kind and not the id; however often, no breaker opens', async () => {
    const unknown = 'kg-unknown-4711';
    const query = `query Unknown($id: ID!) { patient(id: $id) { id } trajectory(id: $id) { id } placement(id: $id) { id } provider(id: $id) { id } qualityReport(id: $id) { id } qualityPillars { number } }`;
    const readyBefore = await (await fetch(new URL('/ready', limited.url))).json();
    // More often than breakerFailures (3): a caller's error must not count as the subgraph's fault.
    for (let i = 0; i < 4; i++) {
      const { status, body, text } = await post<any>(federation, limited.url, { query, variables: { id: unknown } });
      expect(status, text).toBe(200);
      expect(body.data).toMatchObject({ patient: null, trajectory: null, placement: null, provider: null, qualityReport: null });
      expect(body.data.qualityPillars.length).toBeGreaterThan(0);
      const byPath = Object.fromEntries((body.errors as any[]).map((e) => [e.path.join('.'), e]));
      expect(Object.keys(byPath).sort()).toEqual(['patient', 'placement', 'provider', 'qualityReport', 'trajectory']);
      for (const [field, kind] of [
        ['patient', 'patient'],
        ['trajectory', 'trajectory'],
        ['placement', 'placement'],
        ['provider', 'provider'],
        ['qualityReport', 'quality report'],
      ]) {
        expect(byPath[field!].extensions.code).toBe('NOT_FOUND');
        expect(byPath[field!].message).toBe(`No ${kind} has this id.`);
      }
      expect(text).not.toContain(unknown);
    }
    for (const subgraph of ['indicatiestelling', 'plaatsing', 'kwaliteit']) {
      expect(await metricValue(limited.url, 'ketengraph_subgraph_circuit_state', { subgraph }), subgraph).toBe(0);
    }
    expect(await (await fetch(new URL('/ready', limited.url))).json()).toEqual(readyBefore);
  });

  it('one caller flooding bad input is limited as that caller; the others succeed as before and /ready is unchanged', async () => {
    const others = async (count: number) => {
      let ok = 0;
      for (let i = 0; i < count; i++) {
        const { status, body } = await post<any>(federation, limited.url, { query: GOOD }, { principal: OTHER });
        if (status === 200 && !body.errors && body.data.waitingTimes && body.data.qualityPillars) ok++;
      }
      return ok;
    };
    expect(await others(5)).toBe(5);
    const readyBefore = await (await fetch(new URL('/ready', limited.url))).json();
    // 60 bad requests at once from one organisation, while another keeps working.
    const flood = Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        post<any>(federation, limited.url, typeof BAD_DATES[i % 2] === 'string' ? { query: BAD_DATES[0] } : BAD_DATES[1], { principal: INSPECTIE }),
      ),
    );
    const during = others(10);
    const answers = await flood;
    expect(await during).toBe(10);
    const codes = answers.map((a) => a.body.errors?.[0]?.extensions?.code);
    expect(
      codes.every((code) => code === 'BAD_USER_INPUT' || code === 'RATE_LIMITED'),
      JSON.stringify(codes),
    ).toBe(true);
    expect(codes).toContain('RATE_LIMITED'); // the flood is limited as that caller
    expect(answers.every((a) => a.status === 400 || a.status === 429)).toBe(true);
    expect(await others(5)).toBe(5);
    expect(await (await fetch(new URL('/ready', limited.url))).json()).toEqual(readyBefore);
    expect(await metricValue(limited.url, 'ketengraph_subgraph_circuit_state', { subgraph: 'plaatsing' })).toBe(0);
  });

  it('a real outage still opens the breaker: kwaliteit killed', async () => {
    await spareKwaliteit.close();
    for (let i = 0; i < 3; i++) {
      const { body } = await post<any>(federation, limited.url, { query: '{ qualityPillars { number } }' }, { principal: OUTAGE_PROBE });
      expect(body.errors?.[0]?.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
    }
    expect(await metricValue(limited.url, 'ketengraph_subgraph_circuit_state', { subgraph: 'kwaliteit' })).toBe(2);
    const ready = (await (await fetch(new URL('/ready', limited.url))).json()) as any;
    expect(ready.dependencies).toMatchObject({ kwaliteit: false, plaatsing: true });
    const { body } = await post<any>(federation, limited.url, { query: GOOD }, { principal: OUTAGE_PROBE });
    expect(body.data.providers.edges).toHaveLength(1);
    expect(body.errors?.map((e: any) => `${e.extensions.code} ${e.extensions.subgraph}`)).toEqual(['SUBGRAPH_UNAVAILABLE kwaliteit']);
  });
});
