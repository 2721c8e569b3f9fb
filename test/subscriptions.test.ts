import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadGatewayConfig, type RunningGateway } from '@ketengraph/gateway';
import { encodeEventCursor } from '@ketengraph/service-kit';
import { createTestKeyPair, mintTestToken } from '@ketengraph/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFaultyProxy } from './support/faulty-proxy.js';
import { placementActor } from './support/actors.js';
import { startFederation, TEST_AUDIENCE, TEST_ISSUER, TEST_PRINCIPAL, type Federation } from './support/federation.js';
import { createDatabases, postgresUrl } from './support/postgres.js';
import { sseSubscribe as sseSubscribeWith, waitFor, wsSubscribe as wsSubscribeWith, type Subscriber as BaseSubscriber } from './support/subscribers.js';
import { principal } from './support/scenario.js';

/**
 * Subscriptions at the gateway, with real clients (graphql-ws over `ws`, graphql-sse over fetch),
 * events caused by real mutations through the gateway, and the selection resolved through the
 * whole federation for each event.
 */

interface Result {
  data?: { placementChanged?: Change | null } | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

interface Change {
  cursor: string;
  sequence: string;
  fromStatus: string | null;
  toStatus: string;
  placement: {
    id: string;
    status: string;
    provider: { name: string } | null;
    trajectory: { trajectoryIndication: { issuer: string } | null; handoverQuality: { handoverCount: number } | null } | null;
    patient: {
      id: string;
      name: { family: string } | null;
      forensicCv: { riskAssessments: { totalCount: number } | null; diagnoses: { totalCount: number } | null };
    } | null;
  } | null;
}

interface Subscriber extends BaseSubscriber<Result> {
  changes(): Change[];
}

const SELECTION = `
  cursor sequence fromStatus toStatus
  placement {
    id status
    provider { name }
    trajectory { trajectoryIndication { issuer } handoverQuality { handoverCount } }
    patient { id name { family } forensicCv { riskAssessments { totalCount } diagnoses { totalCount } } }
  }`;
const SUBSCRIPTION = `subscription PlacementFeed($after: String, $filter: PlacementChangeFilter) { placementChanged(after: $after, filter: $filter) { ${SELECTION} } }`;

/** A subscriber with the changes it received. */
function withChanges(state: BaseSubscriber<Result>): Subscriber {
  return Object.assign(state, { changes: () => state.results.flatMap((r) => (r.data?.placementChanged ? [r.data.placementChanged] : [])) });
}

function wsSubscribe(gatewayUrl: string, token: string, variables: Record<string, unknown> = {}, query = SUBSCRIPTION): Subscriber {
  return withChanges(wsSubscribeWith<Result>(gatewayUrl, token, { query, variables }));
}

function sseSubscribe(gatewayUrl: string, token: string, variables: Record<string, unknown> = {}, query = SUBSCRIPTION): Subscriber {
  return withChanges(sseSubscribeWith<Result>(gatewayUrl, token, { query, variables }));
}

const codes = (result: Result | undefined) => (result?.errors ?? []).map((e) => e.extensions?.code);

describe('placement subscriptions at the gateway', () => {
  let federation: Federation;
  let plaatsing: any;
  /** Placements created as fixtures in REQUESTED; each takes four steps through the gateway. */
  const fixtures: { id: string; patientId: string; providerId: string }[] = [];

  beforeAll(async () => {
    federation = await startFederation({ seedPatients: 20 });
    // Fixture data through the Prisma client (like test/support/scenario.ts); every event in these tests comes from a mutation.
    plaatsing = federation.subgraphs.plaatsing.prisma;
    const placements = await plaatsing.placement.findMany({ distinct: ['patientId'], orderBy: { id: 'asc' }, take: 13 });
    const providers = await plaatsing.provider.findMany({ include: { capacity: true }, orderBy: { id: 'asc' } });
    for (const [index, placement] of placements.entries()) {
      // Each fixture at a provider that has never had the patient, so relationships are known exactly.
      const candidates = [];
      for (const provider of providers) {
        if (!(await plaatsing.placement.findFirst({ where: { patientId: placement.patientId, providerId: provider.id } }))) candidates.push(provider);
      }
      // Clinical offers: DJI is their placing organisation (decide, withdraw); the provider takes its own steps.
      const clinical = candidates.filter((p: { capacity: { careType: string }[] }) => p.capacity.some((c) => c.careType === 'KLINISCH'));
      const provider = clinical[index % clinical.length];
      const offer = provider.capacity.find((c: { careType: string }) => c.careType === 'KLINISCH');
      const id = randomUUID();
      await plaatsing.placement.create({
        data: {
          id,
          patientId: placement.patientId,
          trajectoryId: placement.trajectoryId,
          providerId: provider.id,
          careType: offer.careType,
          securityLevel: offer.securityLevel,
          status: 'REQUESTED',
        },
      });
      fixtures.push({ id, patientId: placement.patientId, providerId: provider.id });
    }
  });
  afterAll(() => federation?.close());

  let nextFixture = 0;
  const steps = [
    'mutation($id: ID!) { startIntake(placementId: $id) { status } }',
    'mutation($id: ID!) { acceptPlacement(placementId: $id) { status } }',
    'mutation($id: ID!) { decidePlacement(placementId: $id) { status } }',
    'mutation($id: ID!) { withdrawPlacement(placementId: $id, reason: "Test") { status } }',
  ];
  /** Takes the next fixture through its four steps (four events); returns it. */
  async function fourChanges(fixture = fixtures[nextFixture++]!) {
    for (const step of steps) {
      const result = await federation.request(step, { id: fixture.id }, { principal: await placementActor(federation, stepName(step), fixture.id) });
      expect(result.errors).toBeUndefined();
    }
    return fixture;
  }
  const stepName = (document: string) => /\{ (\w+)\(/.exec(document)![1]!;
  async function oneChange(fixture: { id: string }, step: number) {
    const result = await federation.request(
      steps[step]!,
      { id: fixture.id },
      { principal: await placementActor(federation, stepName(steps[step]!), fixture.id) },
    );
    expect(result.errors).toBeUndefined();
  }
  const head = async () => encodeEventCursor(await federation.gateway.events!.feed.head());
  const sequences = (changes: Change[]) => changes.map((c) => BigInt(c.sequence));

  it('delivers changes over graphql-ws with a selection that reaches every subgraph, withheld fields null with UNAUTHORIZED_FIELD_OR_TYPE', async () => {
    const subscriber = wsSubscribe(federation.gateway.url, await federation.callerToken(), { after: await head() });
    const fixture = await fourChanges();
    await waitFor(() => subscriber.changes().length === 4, 'four changes');
    subscriber.stop();
    const changes = subscriber.changes();
    expect(changes.map((c) => [c.fromStatus, c.toStatus])).toEqual([
      ['REQUESTED', 'INTAKE'],
      ['INTAKE', 'ACCEPTED'],
      ['ACCEPTED', 'DECIDED'],
      ['DECIDED', 'WITHDRAWN'],
    ]);
    const ordered = sequences(changes);
    expect([...ordered].sort((a, b) => (a < b ? -1 : 1))).toEqual(ordered);
    for (const change of changes) {
      expect(change.placement!.id).toBe(fixture.id);
      expect(change.placement!.patient!.name!.family).toEqual(expect.any(String)); // indicatiestelling
      expect(change.placement!.trajectory!.trajectoryIndication).toBeDefined(); // indicatiestelling
      expect(change.placement!.trajectory!.handoverQuality!.handoverCount).toEqual(expect.any(Number)); // kwaliteit
      expect(change.placement!.patient!.forensicCv.riskAssessments!.totalCount).toEqual(expect.any(Number)); // forensisch-cv
      expect(change.placement!.patient!.forensicCv.diagnoses).toBeNull(); // medical: not for a plaatser
    }
    for (const result of subscriber.results) {
      expect(result.errors).toEqual([
        expect.objectContaining({
          path: ['placementChanged', 'placement', 'patient', 'forensicCv', 'diagnoses'],
          extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
        }),
      ]);
    }
    // The placement itself is now as the last change left it: each event is resolved when it is delivered.
    expect(changes.at(-1)!.placement!.status).toBe('WITHDRAWN');
    const metrics = await (await fetch(new URL('/metrics', federation.gateway.url))).text();
    expect(Number(/^ketengraph_subscription_events_total\{outcome="delivered"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4);
    expect(metrics).toMatch(/^ketengraph_subscriptions_open \d+/m);
  });

  it('writes an audit record for every delivered change, per subscription and under its receiver (also when subscriptions of one organisation and role share a resolution)', async () => {
    const after = await head();
    const token = await federation.callerToken();
    // Three subscriptions of one caller with one selection: each change is resolved once for them, but delivered and audited three times.
    // A colleague (same organisation, role, purpose and scopes): shares the resolution, audited under their own name.
    const colleague = { ...TEST_PRINCIPAL, subject: 'test-colleague' };
    const [subscriber, ...others] = [
      wsSubscribe(federation.gateway.url, token, { after }),
      wsSubscribe(federation.gateway.url, token, { after }),
      sseSubscribe(federation.gateway.url, token, { after }),
    ];
    const theirs = wsSubscribe(federation.gateway.url, await federation.callerToken(colleague), { after });
    const fixture = await fourChanges();
    await waitFor(() => [subscriber!, ...others, theirs].every((s) => s.changes().length === 4), 'four changes for each');
    for (const s of [subscriber!, ...others, theirs]) s.stop();
    expect(sequences(theirs.changes())).toEqual(sequences(subscriber!.changes()));
    // The same changes in the same order (the placement's current data is read at delivery, so it may differ between them).
    for (const other of others) expect(sequences(other.changes())).toEqual(sequences(subscriber!.changes()));
    const officer = principal('privacy_officer', 'ketengraph-privacy');
    const trail = await federation.request<{
      auditTrail: {
        edges: {
          node: { requestId: string; userId: string; operationName: string | null; outcome: string; fieldsWithheld: string[]; fieldsDelivered: string[] };
        }[];
      };
    }>(
      'query($id: ID!, $from: DateTime!, $to: DateTime!) { auditTrail(patientId: $id, from: $from, to: $to, first: 100) { edges { node { requestId userId operationName outcome fieldsWithheld fieldsDelivered } } } }',
      { id: fixture.patientId, from: new Date(Date.now() - 600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() },
      { principal: officer },
    );
    expect(trail.errors).toBeUndefined();
    const all = trail.data!.auditTrail.edges.map((e) => e.node).filter((r) => r.operationName === 'PlacementFeed');
    const records = all.filter((r) => r.userId === TEST_PRINCIPAL.subject);
    for (const change of subscriber!.changes()) {
      expect(
        all.filter((r) => r.userId === colleague.subject && r.requestId.endsWith(`:${change.sequence}`)),
        `the colleague's delivery of ${change.sequence}`,
      ).toHaveLength(1);
      const forChange = records.filter((r) => r.requestId.endsWith(`:${change.sequence}`));
      expect(forChange, `one audit record per subscription for change ${change.sequence}`).toHaveLength(3);
      expect(new Set(forChange.map((r) => r.requestId)).size).toBe(3);
      const record = forChange[0];
      expect(record!.outcome).toBe('PARTIALLY_GRANTED');
      expect(record!.fieldsWithheld).toContain('ForensicCv.diagnoses');
      expect(record!.fieldsDelivered).toEqual(expect.arrayContaining(['PlacementChange.toStatus', 'Patient.name', 'ForensicCv.riskAssessments']));
      // One record per delivery: the patient's, which names the list field the change came through (no patient-less second record).
      const ofDelivery = await federation.gateway.audit.ofRequest(record!.requestId);
      expect(ofDelivery.map((r) => r.patientId)).toEqual([fixture.patientId]);
      expect(ofDelivery[0]!.fieldsDelivered).toContain('Query.placementChanges');
    }
  });

  it('delivers changes over Server-Sent Events with the same payloads', async () => {
    const subscriber = sseSubscribe(federation.gateway.url, await federation.callerToken(), { after: await head() });
    const fixture = await fourChanges();
    await waitFor(() => subscriber.changes().length === 4, 'four changes over SSE');
    subscriber.stop();
    expect(subscriber.changes().map((c) => c.toStatus)).toEqual(['INTAKE', 'ACCEPTED', 'DECIDED', 'WITHDRAWN']);
    expect(subscriber.changes().every((c) => c.placement!.id === fixture.id && c.placement!.patient!.name !== null)).toBe(true);
    expect(codes(subscriber.results[0])).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
  });

  it("never carries another provider's patients to a provider", async () => {
    const [own, other] = [fixtures[nextFixture++]!, fixtures[nextFixture++]!];
    // The other patient must be no patient of the subscribing provider at all.
    expect(await plaatsing.placement.findFirst({ where: { patientId: other.patientId, providerId: own.providerId } })).toBeNull();
    // Events are resolved when delivered, under the relationship as it is then; a second open request keeps the patient the provider's own after the first is withdrawn.
    const keep = await plaatsing.placement.findUniqueOrThrow({ where: { id: own.id } });
    await plaatsing.placement.create({ data: { ...keep, id: randomUUID(), status: 'REQUESTED', requestedAt: new Date() } });
    const provider = principal('zorgaanbieder', own.providerId);
    const ws = wsSubscribe(federation.gateway.url, await federation.callerToken(provider), { after: await head() });
    const sse = sseSubscribe(federation.gateway.url, await federation.callerToken(provider), { after: await head() });
    // The other provider's changes come first in the log, so once the own ones arrived the others were passed over.
    await fourChanges(other);
    await fourChanges(own);
    for (const subscriber of [ws, sse]) {
      await waitFor(() => subscriber.changes().length === 4, 'the own four changes');
      await new Promise((resolve) => setTimeout(resolve, 300));
      subscriber.stop();
      expect(subscriber.results).toHaveLength(4);
      expect(subscriber.changes().every((c) => c.placement!.id === own.id && c.placement!.patient!.id === own.patientId)).toBe(true);
      // A provider reads its own patient's medical data (zorgverlening); nothing is withheld here.
      expect(subscriber.changes()[0]!.placement!.patient!.forensicCv.diagnoses).not.toBeNull();
    }
    // One access record per delivered change and subscriber; none for the other patient, of whom nothing was delivered.
    const officer = principal('privacy_officer', 'ketengraph-privacy');
    const trail = async (patientId: string) => {
      const result = await federation.request<{ auditTrail: { edges: { node: { userId: string; operationName: string | null } }[] } }>(
        'query($id: ID!, $from: DateTime!, $to: DateTime!) { auditTrail(patientId: $id, from: $from, to: $to, first: 100) { edges { node { userId operationName } } } }',
        { id: patientId, from: new Date(Date.now() - 600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() },
        { principal: officer },
      );
      return result.data!.auditTrail.edges.filter((e) => e.node.userId === provider.subject && e.node.operationName === 'PlacementFeed');
    };
    expect(await trail(own.patientId)).toHaveLength(8);
    expect(await trail(other.patientId)).toHaveLength(0);
  });

  it('replays every change after a cursor, then continues live: no gaps, no duplicates, in order', async () => {
    const first = wsSubscribe(federation.gateway.url, await federation.callerToken(), { after: await head() });
    const fixture = fixtures[nextFixture++]!;
    await oneChange(fixture, 0);
    await waitFor(() => first.changes().length === 1, 'the first change');
    first.stop();
    const cursor = first.changes()[0]!.cursor;
    // Missed while offline: two changes.
    await oneChange(fixture, 1);
    await oneChange(fixture, 2);
    const resumed = wsSubscribe(federation.gateway.url, await federation.callerToken(), { after: cursor });
    const resumedSse = sseSubscribe(federation.gateway.url, await federation.callerToken(), { after: cursor });
    await waitFor(() => resumed.changes().length === 2 && resumedSse.changes().length === 2, 'the replayed changes');
    await oneChange(fixture, 3); // live
    await waitFor(() => resumed.changes().length === 3 && resumedSse.changes().length === 3, 'the live change');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const subscriber of [resumed, resumedSse]) {
      subscriber.stop();
      expect(subscriber.changes().map((c) => c.toStatus)).toEqual(['ACCEPTED', 'DECIDED', 'WITHDRAWN']);
      expect(sequences(subscriber.changes())[0]).toBeGreaterThan(BigInt(first.changes()[0]!.sequence));
    }
  });

  it('filters changes on the event before resolving them', async () => {
    const [wanted, unwanted] = [fixtures[nextFixture++]!, fixtures[nextFixture++]!];
    const subscriber = wsSubscribe(federation.gateway.url, await federation.callerToken(), {
      after: await head(),
      filter: { patientId: wanted.patientId, toStatus: ['ACCEPTED', 'WITHDRAWN'] },
    });
    await fourChanges(unwanted);
    await fourChanges(wanted);
    await waitFor(() => subscriber.changes().length === 2, 'the two matching changes');
    await new Promise((resolve) => setTimeout(resolve, 300));
    subscriber.stop();
    expect(subscriber.changes().map((c) => [c.placement!.id, c.toStatus])).toEqual([
      [wanted.id, 'ACCEPTED'],
      [wanted.id, 'WITHDRAWN'],
    ]);
  });

  it('refuses a cursor older than the retention with CURSOR_EXPIRED, and bad input with typed errors', async () => {
    // The oldest event in the log dated beyond the retention (30 days).
    const oldest = await plaatsing.placementEvent.findFirst({ orderBy: { sequence: 'asc' } });
    await plaatsing.placementEvent.update({ where: { sequence: oldest.sequence }, data: { occurredAt: new Date(Date.now() - 40 * 86_400_000) } });
    const expired = encodeEventCursor(oldest.sequence - 1n);
    const ws = wsSubscribe(federation.gateway.url, await federation.callerToken(), { after: expired });
    const sse = sseSubscribe(federation.gateway.url, await federation.callerToken(), { after: expired });
    await waitFor(() => ws.failure !== null && sse.completed, 'the refusals');
    expect((ws.failure as { extensions?: { code?: string } }[])[0]!.extensions?.code).toBe('CURSOR_EXPIRED');
    expect(codes(sse.results[0])).toEqual(['CURSOR_EXPIRED']);
    expect(sse.results[0]!.errors![0]!.message).toMatch(/resynchronise/);

    const cases: [Record<string, unknown>, string, string][] = [
      [{ after: 'not-a-cursor' }, SUBSCRIPTION, 'BAD_USER_INPUT'],
      [{}, 'subscription { placementChanged { nope } }', 'GRAPHQL_VALIDATION_FAILED'],
      [{}, '{ placement(id: "x") { id } }', 'GRAPHQL_VALIDATION_FAILED'],
    ];
    for (const [variables, query, code] of cases) {
      const refused = wsSubscribe(federation.gateway.url, await federation.callerToken(), variables, query);
      await waitFor(() => refused.failure !== null, `refusal ${code}`);
      expect((refused.failure as { extensions?: { code?: string } }[])[0]!.extensions?.code, query).toBe(code);
      refused.stop();
    }
    // A role that may not see placement changes at all is refused up front, not event by event.
    const inspector = wsSubscribe(federation.gateway.url, await federation.callerToken(principal('inspectie', 'igj')), {});
    await waitFor(() => inspector.failure !== null, 'the refusal for inspectie');
    expect((inspector.failure as { extensions?: { code?: string } }[])[0]!.extensions?.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    inspector.stop();
    ws.stop();
    sse.stop();
  });

  it('refuses a subscription sent as a plain HTTP request, naming the transports', async () => {
    const response = await fetch(federation.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await federation.callerToken()}` },
      body: JSON.stringify({ query: SUBSCRIPTION }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as Result;
    expect(body.errors![0]!.extensions!.code).toBe('BAD_REQUEST');
    expect(body.errors![0]!.message).toMatch(/WebSocket.*Server-Sent Events/);
  });

  it('refuses a connection without a valid token and ends subscriptions when the token expires', async () => {
    const anonymous = wsSubscribe(federation.gateway.url, 'not-a-token', {});
    await waitFor(() => anonymous.closeCode !== null, 'the close');
    expect(anonymous.closeCode).toBe(4401);
    const sseResponse = await fetch(federation.gateway.url, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ query: SUBSCRIPTION }),
    });
    expect(sseResponse.status).toBe(401);
    expect(((await sseResponse.json()) as Result).errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');

    const shortLived = await federation.callerToken(TEST_PRINCIPAL, { expiresInSeconds: 3 });
    const ws = wsSubscribe(federation.gateway.url, shortLived, {});
    const sse = sseSubscribe(federation.gateway.url, shortLived, {});
    await waitFor(() => ws.closeCode !== null && sse.completed, 'the end at token expiry', 10_000);
    expect(ws.closeCode).toBe(4401);
    expect(ws.closeReason).toMatch(/expired/i);
    expect(codes(sse.results.at(-1))).toEqual(['UNAUTHENTICATED']);
    ws.stop();
    sse.stop();
  });

  it('admits a new subscription like a request: rate limit per organisation, trusted documents when enforced', async () => {
    const strict = await federation.startGateway({
      port: 0,
      rateLimit: { perSecond: 1, burst: 0, burstSeconds: 10 },
      exposure: { introspection: false, fieldSuggestions: false, trustedDocuments: true, automaticPersistedQueries: false },
    });
    const as = (organisationId: string) => federation.callerToken({ ...TEST_PRINCIPAL, organisationId });
    try {
      const registered = (
        JSON.parse(readFileSync(new URL('../gateway/src/admission/trusted-documents/generated/manifest.json', import.meta.url), 'utf8')) as {
          operations: { name: string; body: string }[];
        }
      ).operations.find((o) => o.name === 'PlacementChanged')!.body;
      const first = wsSubscribe(strict.url, await as('org-a'), {}, registered);
      await waitFor(() => strict.subscriptions!.size === 1, 'the registered subscription');
      // One per second: four more sent at once span at most two seconds (the first one's second
      // may be over by now on a slow machine), so at most two are admitted and at least two refused.
      const orgA = await as('org-a');
      const more = Array.from({ length: 4 }, () => sseSubscribe(strict.url, orgA, {}, registered));
      await waitFor(() => more.filter((attempt) => attempt.completed).length >= 2, 'the rate limit');
      for (const refused of more.filter((attempt) => attempt.completed)) expect(codes(refused.results[0])).toEqual(['RATE_LIMITED']);
      for (const attempt of more) attempt.stop();
      const unregistered = wsSubscribe(strict.url, await as('org-b'), {});
      await waitFor(() => unregistered.failure !== null, 'the refusal of an unregistered document');
      expect((unregistered.failure as { extensions?: { code?: string } }[])[0]!.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      first.stop();
      unregistered.stop();
    } finally {
      await strict.close();
    }
  });

  it('transport parity: HTTP POST, HTTP GET, SSE, WebSocket and webhook registration refuse the same hostile set with the same codes', async () => {
    const defaults = loadGatewayConfig({});
    const limits = { ...defaults.limits, depth: 5, aliases: 2, cost: 200 };
    const rateLimit = { perSecond: 1, burst: 0, burstSeconds: 10 };
    const open = await federation.startGateway({ port: 0, limits, rateLimit, maxBodyBytes: 20_000 });
    const strict = await federation.startGateway({ port: 0, limits, exposure: { ...defaults.exposure, trustedDocuments: true } });
    // Each attempt comes from an organisation of its own: only the over-rate case shares one budget.
    const caller = (overrides: Partial<typeof TEST_PRINCIPAL> = {}) =>
      ({
        ...TEST_PRINCIPAL,
        organisationId: `parity-${randomUUID()}`,
        scopes: [...TEST_PRINCIPAL.scopes, 'webhook:write'],
        ...overrides,
      }) as typeof TEST_PRINCIPAL;
    const forger = await createTestKeyPair();
    const tokens = {
      valid: () => federation.callerToken(caller()),
      expired: () => federation.callerToken(caller(), { expiresInSeconds: -120 }),
      forged: () => mintTestToken(forger, caller(), { issuer: TEST_ISSUER, audience: TEST_AUDIENCE }),
      withoutPurpose: () => federation.callerToken(caller({ purpose: null })),
    };
    const repeat = (field: string, n: number) => Array.from({ length: n }, () => field).join(' ');
    /** The same hostile documents, as each transport carries them: a query over HTTP, a subscription otherwise. */
    const documents = {
      http: {
        benign: 'query Parity($id: ID!) { patient(id: $id) { bsn } }',
        deep: '{ patients(first: 1) { edges { node { trajectories(first: 1) { edges { node { id } } } } } } }',
        aliases: '{ a: patients(first: 1) { totalCount } b: patients(first: 1) { totalCount } c: patients(first: 1) { totalCount } }',
        costly: `{ patients(first: 1) { ${repeat('totalCount', 300)} } }`,
      },
      subscription: {
        benign: 'subscription { placementChanged { cursor patient { id } } }',
        deep: 'subscription { placementChanged { placement { trajectory { placements(first: 1) { edges { node { id } } } } } } }',
        aliases: 'subscription { placementChanged { a: cursor b: cursor c: cursor } }',
        costly: `subscription { placementChanged { ${repeat('cursor', 300)} } }`,
      },
    };
    type Attempt = { gateway?: RunningGateway; token?: string | null; document?: keyof typeof documents.http; raw?: string };
    const codeOfBody = (body: unknown) => (body as Result).errors?.[0]?.extensions?.code ?? 'NONE';
    const bearer = (token: string | null | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

    const post = async ({ gateway = open, token, document = 'benign', raw }: Attempt) => {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(token) },
        body: raw ?? JSON.stringify({ query: documents.http[document], variables: { id: 'P-0' } }),
      });
      return codeOfBody(await response.json());
    };
    const get = async ({ gateway = open, token, document = 'benign', raw }: Attempt) => {
      const search = raw ?? `?query=${encodeURIComponent(documents.http[document])}&variables=${encodeURIComponent('{"id":"P-0"}')}`;
      const response = await fetch(`${gateway.url}${search}`, { headers: { 'apollo-require-preflight': 'true', ...bearer(token) } });
      return codeOfBody(await response.json());
    };
    const sse = async ({ gateway = open, token, document = 'benign', raw }: Attempt) => {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer(token) },
        body: raw ?? JSON.stringify({ query: documents.subscription[document] }),
        signal: AbortSignal.timeout(20_000),
      });
      if (!response.headers.get('content-type')?.includes('text/event-stream')) return codeOfBody(await response.json());
      // A refused subscription is one `next` event with the errors, then `complete`.
      const next = /event: next\ndata: (.*)\n/.exec(await response.text());
      return next ? codeOfBody(JSON.parse(next[1]!)) : 'NONE';
    };
    /** graphql-transport-ws by hand, so a malformed or oversized message can be sent; a close that refuses maps to its code. */
    const WS_CLOSE = { 4401: 'UNAUTHENTICATED', 1009: 'PAYLOAD_TOO_LARGE', 4400: 'BAD_REQUEST' } as Record<number, string>;
    const websocket = ({ gateway = open, token, document = 'benign', raw }: Attempt, subscribes = 1) =>
      new Promise<string>((resolve) => {
        const socket = new WebSocket(gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
        const done = (code: string) => {
          resolve(code);
          socket.close();
        };
        const timer = setTimeout(() => done('NONE'), 20_000);
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} })));
        socket.on('close', (code) => {
          clearTimeout(timer);
          resolve(WS_CLOSE[code] ?? `close ${code}`);
        });
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as { type: string; id?: string; payload?: unknown };
          if (message.type === 'connection_ack') {
            for (let id = 1; id <= subscribes; id++)
              socket.send(raw ?? JSON.stringify({ id: String(id), type: 'subscribe', payload: { query: documents.subscription[document] } }));
          } else if (message.type === 'error' || message.type === 'next') {
            // The last subscription's answer (the earlier ones open and stay quiet).
            if (message.id !== String(subscribes)) return;
            clearTimeout(timer);
            done(codeOfBody(message.type === 'error' ? { errors: message.payload } : message.payload));
          }
        });
      });
    const webhook = async ({ gateway = open, token, document = 'benign', raw }: Attempt) => {
      const query = 'mutation Register($input: RegisterWebhookEndpointInput!) { registerWebhookEndpoint(input: $input) { secret } }';
      const input = { url: 'http://127.0.0.1:9/parity', selection: documents.subscription[document] };
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(token) },
        body: raw ?? JSON.stringify({ query, variables: { input } }),
      });
      return codeOfBody(await response.json());
    };

    const transports = { 'HTTP POST': post, 'HTTP GET': get, SSE: sse, WebSocket: websocket, 'webhook registration': webhook };
    const oversized = JSON.stringify({ query: `{ ${'__typename '.repeat(3000)}}` });
    const hostile: Record<string, { expected: string; attempt: (send: (attempt: Attempt) => Promise<string>, name: string) => Promise<string> }> = {
      'no token': { expected: 'UNAUTHENTICATED', attempt: (send) => send({ token: null }) },
      'expired token': { expected: 'UNAUTHENTICATED', attempt: async (send) => send({ token: await tokens.expired() }) },
      'forged token': { expected: 'UNAUTHENTICATED', attempt: async (send) => send({ token: await tokens.forged() }) },
      'token without purpose': { expected: 'PURPOSE_REQUIRED', attempt: async (send) => send({ token: await tokens.withoutPurpose() }) },
      'over the rate limit': {
        expected: 'RATE_LIMITED',
        attempt: async (send, name) => {
          const token = await tokens.valid();
          // One WebSocket connection carries both subscriptions; the other transports send two requests.
          if (name === 'WebSocket') return websocket({ token }, 2);
          await send({ token, document: 'aliases' });
          return send({ token });
        },
      },
      'untrusted document (enforced)': {
        expected: 'PERSISTED_QUERY_NOT_IN_LIST',
        attempt: async (send) => send({ gateway: strict, token: await tokens.valid() }),
      },
      'too deep': { expected: 'QUERY_TOO_DEEP', attempt: async (send) => send({ token: await tokens.valid(), document: 'deep' }) },
      'too many aliases': { expected: 'TOO_MANY_ALIASES', attempt: async (send) => send({ token: await tokens.valid(), document: 'aliases' }) },
      'too costly': { expected: 'QUERY_TOO_COSTLY', attempt: async (send) => send({ token: await tokens.valid(), document: 'costly' }) },
      'oversized body': { expected: 'PAYLOAD_TOO_LARGE', attempt: async (send) => send({ token: await tokens.valid(), raw: oversized }) },
      'malformed JSON': {
        expected: 'BAD_REQUEST',
        attempt: async (send, name) =>
          send({ token: await tokens.valid(), raw: name === 'HTTP GET' ? '?query={__typename}&variables={not-json' : '{"query": ' }),
      },
    };
    // A GET request has no body to be too large.
    const notApplicable = new Set(['HTTP GET|oversized body']);
    try {
      const found: Record<string, Record<string, string>> = {};
      const expected: Record<string, Record<string, string>> = {};
      for (const [name, send] of Object.entries(transports)) {
        found[name] = {};
        expected[name] = {};
        for (const [label, { expected: code, attempt }] of Object.entries(hostile)) {
          if (notApplicable.has(`${name}|${label}`)) continue;
          expected[name][label] = code;
          found[name][label] = await attempt(send, name);
        }
      }
      expect(found).toEqual(expected);
    } finally {
      await open.close();
      await strict.close();
    }
  });

  it('ends with SUBGRAPH_UNAVAILABLE when a change cannot be resolved (plaatsing not answering), rather than skip it; resubscribing with the cursor delivers it', async () => {
    const proxy = await startFaultyProxy(federation.subgraphs.plaatsing.url);
    const gateway = await federation.startGateway({
      port: 0,
      subgraphUrls: { plaatsing: proxy.url },
      resilience: { ...loadGatewayConfig({}).resilience, retries: 0, timeoutMs: 2000 },
    });
    try {
      const token = await federation.callerToken();
      const before = await head();
      const ws = wsSubscribe(gateway.url, token, { after: before });
      const sse = sseSubscribe(gateway.url, token, { after: before });
      await waitFor(() => gateway.subscriptions!.size === 2, 'both subscribed');
      // The feed (plaatsing's event log) still answers; resolving the change's selection does not.
      proxy.fault = { bodyIncludes: 'placementChanges(', status: 503 };
      const fixture = fixtures[nextFixture++]!;
      await oneChange(fixture, 0);
      await waitFor(() => ws.failure !== null && sse.completed, 'the end of both streams');
      expect((ws.failure as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
      expect(codes(sse.results.at(-1))).toEqual(['SUBGRAPH_UNAVAILABLE']);
      expect(ws.changes()).toEqual([]);
      proxy.fault = 'pass';
      const again = wsSubscribe(gateway.url, token, { after: before });
      await waitFor(() => again.changes().length === 1, 'the change after resubscribing');
      expect(again.changes()[0]).toMatchObject({ toStatus: 'INTAKE', placement: { id: fixture.id } });
      again.stop();
    } finally {
      await gateway.close();
      await proxy.close();
    }
  });

  it('survives a gateway restart: the client resubscribes with its last cursor and gets every change exactly once, in order', async () => {
    let second: RunningGateway = await federation.startGateway({ port: 0 });
    const port = second.port;
    const token = await federation.callerToken();
    const received: Change[] = [];
    const before = await head();
    const fixture = fixtures[nextFixture++]!;
    const other = fixtures[nextFixture++]!;

    const subscriber = wsSubscribe(second.url, token, { after: before });
    const sse = sseSubscribe(second.url, token, { after: before });
    await oneChange(fixture, 0);
    await oneChange(fixture, 1);
    await waitFor(() => subscriber.changes().length === 2 && sse.changes().length === 2, 'two changes before the restart');
    // Changes keep happening (through the first gateway) while the second one restarts.
    const closing = second.close();
    await waitFor(() => subscriber.closeCode !== null, 'the restart close');
    expect(subscriber.closeCode).toBe(1012);
    // An SSE stream cannot carry a close code: its last event says why it ends.
    await waitFor(() => sse.completed, 'the end of the SSE stream');
    expect(codes(sse.results.at(-1))).toEqual(['SHUTTING_DOWN']);
    expect(sse.changes().map((c) => c.sequence)).toEqual(subscriber.changes().map((c) => c.sequence));
    received.push(...subscriber.changes());
    await oneChange(fixture, 2);
    await oneChange(other, 0);
    await closing;
    second = await federation.startGateway({ port });
    try {
      const resumed = wsSubscribe(second.url, token, { after: received.at(-1)!.cursor });
      await oneChange(fixture, 3);
      await oneChange(other, 1);
      await waitFor(() => resumed.changes().length === 4, 'the rest after the restart');
      await new Promise((resolve) => setTimeout(resolve, 300));
      resumed.stop();
      received.push(...resumed.changes());
    } finally {
      await second.close();
    }
    const expected = (
      await plaatsing.placementEvent.findMany({
        where: { sequence: { gt: BigInt(Buffer.from(before, 'base64url').toString().split(':')[1]!) } },
        orderBy: { sequence: 'asc' },
      })
    ).map((e: { sequence: bigint }) => e.sequence);
    expect(sequences(received)).toEqual(expected);
    expect(received.map((c) => `${c.placement!.id === fixture.id ? 'a' : 'b'}:${c.toStatus}`)).toEqual([
      'a:INTAKE',
      'a:ACCEPTED',
      'a:DECIDED',
      'b:INTAKE',
      'a:WITHDRAWN',
      'b:ACCEPTED',
    ]);
  });
});

/**
 * Two gateway instances on the same PostgreSQL-backed subgraphs, as on two machines: a change
 * caused through one reaches a subscriber on the other (both poll plaatsing's event log).
 */
describe.skipIf(!postgresUrl)('placement subscriptions across gateway instances on PostgreSQL', () => {
  let federation: Federation;
  let drop: () => Promise<void>;
  let other: RunningGateway;
  beforeAll(async () => {
    const databases = await createDatabases(['indicatiestelling', 'plaatsing', 'forensisch-cv', 'kwaliteit'] as const);
    drop = databases.drop;
    federation = await startFederation({ seedPatients: 10, databaseUrls: databases.urls });
    other = await federation.startGateway({ port: 0 });
  });
  afterAll(async () => {
    await other?.close();
    await federation?.close();
    await drop?.();
  });

  it('delivers to a subscriber on one instance the changes caused through the other', async () => {
    const plaatsing = federation.subgraphs.plaatsing.prisma as any;
    const placement = await plaatsing.placement.findFirst({ orderBy: { id: 'asc' } });
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
    const after = encodeEventCursor(await other.events!.feed.head());
    const ws = wsSubscribe(other.url, await federation.callerToken(), { after });
    const sse = sseSubscribe(other.url, await federation.callerToken(), { after });
    for (const step of ['startIntake', 'acceptPlacement']) {
      const result = await federation.request(
        `mutation($id: ID!) { ${step}(placementId: $id) { status } }`,
        { id },
        { principal: await placementActor(federation, step, id) },
      ); // through the first instance
      expect(result.errors).toBeUndefined();
    }
    await waitFor(() => ws.changes().length === 2 && sse.changes().length === 2, 'the changes on the other instance');
    ws.stop();
    sse.stop();
    for (const subscriber of [ws, sse])
      expect(subscriber.changes().map((c) => [c.placement!.id, c.toStatus])).toEqual([
        [id, 'INTAKE'],
        [id, 'ACCEPTED'],
      ]);
  });

  it('makes sequence numbers visible in commit order, so a reader never skips an event', async () => {
    // plaatsing's own event writer, in two concurrent transactions: A takes a sequence number and stays open, B starts after it.
    const { recordEvent } = await import('../subgraphs/plaatsing/src/placements.js');
    const plaatsing = federation.subgraphs.plaatsing.prisma as any;
    const placement = await plaatsing.placement.findFirst({ orderBy: { id: 'desc' } });
    const actor = { userId: 'test-user', organisationId: 'dji-forzo', role: 'plaatser' };
    const { feed } = other.events!;
    const before = await feed.head();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const a = plaatsing.$transaction(
      async (tx: any) => {
        await recordEvent(tx, placement, placement.status, 'first', actor);
        await held;
      },
      { timeout: 20_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const b = plaatsing.$transaction((tx: any) => recordEvent(tx, placement, placement.status, 'second', actor), { timeout: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 700));
    // Without ordering, B's later sequence would be readable now, and a reader past it would never see A's.
    expect(await feed.read(before, 10)).toEqual([]);
    release();
    await Promise.all([a, b]);
    const events = await feed.read(before, 10);
    expect(events).toHaveLength(2);
    const rows = await plaatsing.placementEvent.findMany({ where: { sequence: { in: events.map((e) => e.sequence) } }, orderBy: { sequence: 'asc' } });
    expect(rows.map((row: { reason: string }) => row.reason)).toEqual(['first', 'second']);
  });
});
