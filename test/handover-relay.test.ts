import type { RunningGateway } from '@ketengraph/gateway';
import { kwaliteit } from '@ketengraph/kwaliteit';
import { startSubgraph, type RunningSubgraph } from '@ketengraph/service-kit';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startFederation, type Federation } from './support/federation.js';
import { createWriteFixture, pickProviders, principalFor, requestAs, today, type Providers } from './support/write-scenario.js';

/**
 * A transfer records its handover in kwaliteit exactly once (issue 10): the gateway's handover
 * relay follows plaatsing's event feed. Real subgraphs; the relaying gateway talks to a kwaliteit
 * of its own, on a database directory that survives a stop, so kwaliteit can be down at the
 * transfer and come back. The shared harness gateway (relay off) takes the transfers.
 */
describe('handover relay: every transfer gets its handover in kwaliteit, exactly once', () => {
  let federation: Federation;
  let providers: Providers;
  let dataDir: string;
  let port: number;
  let own: RunningSubgraph<unknown> | null = null;
  let relaying: RunningGateway | null = null;
  const RELAY = { enabled: true, intervalMs: 50, maxBackoffMs: 200 };

  const startKwaliteit = async () => {
    const relationshipSources = { 'own-patients': federation.subgraphs.plaatsing.url, 'own-supervisees': federation.subgraphs.indicatiestelling.url };
    own = (await startSubgraph(kwaliteit, {
      port,
      dataDir,
      seedPatients: 0,
      gatewayKeys: { source: 'jwks', jwks: federation.keys.gateway.jwks },
      relationshipSources,
    })) as RunningSubgraph<unknown>;
  };
  const startRelay = async () => {
    relaying = await federation.startGateway({ subgraphUrls: { kwaliteit: `http://127.0.0.1:${port}/graphql` }, handoverRelay: RELAY });
  };
  const db = () => own!.prisma as any;
  const relayed = (patientId: string) => db().handover.findMany({ where: { patientId, sourceSequence: { not: null } } });
  const caughtUp = () => relaying!.handoverRelay!.caughtUp();

  /** A CV entry of this kind for the patient, straight into forensisch-cv's database (only its kind matters here). */
  const entry = (patientId: string, kind: string, recordedAt?: Date) => {
    const id = randomUUID();
    return (federation.subgraphs['forensisch-cv'].prisma as any).cvEntry.create({
      data: {
        id,
        patientId,
        entryId: id,
        version: 1,
        kind,
        occurredOn: new Date(`${today()}T00:00:00Z`),
        authorId: 'test',
        authorOrganisationId: providers.addressed,
        details: {},
        ...(recordedAt ? { recordedAt } : {}),
      },
    });
  };

  async function transfer(
    beforeTransfer?: (patientId: string) => Promise<void>,
  ): Promise<{ patientId: string; trajectoryId: string; from: string; to: string }> {
    const fixture = await createWriteFixture(federation, { KLINISCH: providers, AMBULANT: providers }, 'KLINISCH', 'ADMITTED');
    await beforeTransfer?.(fixture.patientId);
    const { response } = await requestAs(
      federation,
      principalFor('zorgaanbieder', providers.addressed),
      'mutation($id: ID!, $to: ID!, $on: Date!) { transferPlacement(placementId: $id, toProviderId: $to, transferredOn: $on) { id } }',
      {
        id: fixture.placementId,
        to: providers.none,
        on: today(),
      },
    );
    expect(response.errors).toBeUndefined();
    return { patientId: fixture.patientId, trajectoryId: fixture.trajectoryId, from: providers.addressed, to: providers.none };
  }

  beforeAll(async () => {
    federation = await startFederation({ seedPatients: 4 });
    providers = (await pickProviders(federation)).KLINISCH;
    dataDir = join(mkdtempSync(join(tmpdir(), 'ketengraph-relay-')), 'kwaliteit');
    port = await freePort();
    await startKwaliteit();
    await startRelay();
    await caughtUp();
  });
  afterAll(async () => {
    await relaying?.close();
    await own?.close();
    await federation?.close();
    if (dataDir) rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('starts at the head of the feed: the transfers before it existed are not relayed', async () => {
    expect(await db().handover.count({ where: { sourceSequence: { not: null } } })).toBe(0);
    expect(await db().handoverRelayPosition.findUnique({ where: { id: 1 } })).toMatchObject({ sequence: expect.any(BigInt) });
  });

  it('a transfer gives one handover for the receiving provider, scored against the minimum content, and its access-log record', async () => {
    const t = await transfer();
    await caughtUp();
    const rows = await relayed(t.patientId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ trajectoryId: t.trajectoryId, fromProviderId: t.from, toProviderId: t.to, items: ['SETTING'], recordedBy: null });
    expect(rows[0].handedOverOn.toISOString().slice(0, 10)).toBe(today());
    // Read back through the graph as the receiving provider: the completeness kwaliteit scores.
    const response = await fetch(relaying!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await federation.callerToken(principalFor('zorgaanbieder', t.to))}` },
      body: JSON.stringify({
        query:
          'query($id: ID!) { trajectory(id: $id) { handovers { edges { node { fromProvider { id } toProvider { id } items missingItems completeness } } } } }',
        variables: { id: t.trajectoryId },
      }),
    });
    const body = (await response.json()) as any;
    expect(body.errors).toBeUndefined();
    const [node] = body.data.trajectory.handovers.edges.map((e: any) => e.node);
    expect(node).toMatchObject({ fromProvider: { id: t.from }, toProvider: { id: t.to }, items: ['SETTING'], completeness: 1 / 12 });
    expect(node.missingItems).toHaveLength(11);
    // The relay took the step: one create record for the patient, as the relay's system identity.
    let records: any[] = [];
    for (let i = 0; i < 50 && records.length === 0; i++) {
      records = (await relaying!.audit.trail(t.patientId, new Date(Date.now() - 3_600_000), new Date(Date.now() + 3_600_000), 100)).edges
        .map((e: any) => e.node)
        .filter((r: any) => r.userId === 'urn:ketengraph:gateway:handover-relay');
      if (records.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(records.map((r) => [r.action, r.outcome, r.fieldsDelivered])).toEqual([['create', 'granted', ['Mutation.recordTransferHandovers']]]);
  });

  it("the handover's items are those the patient's forensic CV held at the transfer, scored through the graph", async () => {
    const t = await transfer(async (patientId) => {
      for (const kind of ['OFFENCE', 'DIAGNOSIS', 'LEAVE', 'INCIDENT']) await entry(patientId, kind);
      // Recorded after the transfer: not what the CV held then.
      await entry(patientId, 'TREATMENT', new Date(Date.now() + 3_600_000));
    });
    await caughtUp();
    const rows = await relayed(t.patientId);
    expect(rows.map((r: any) => r.items)).toEqual([['SETTING', 'OFFENCE_INFORMATION', 'COURSE_OF_STAY', 'DIAGNOSTIC_DATA']]);
    const response = await fetch(relaying!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await federation.callerToken(principalFor('zorgaanbieder', t.to))}` },
      body: JSON.stringify({
        query: 'query($id: ID!) { trajectory(id: $id) { handovers { edges { node { items completeness } } } } }',
        variables: { id: t.trajectoryId },
      }),
    });
    const body = (await response.json()) as any;
    expect(body.errors).toBeUndefined();
    expect(body.data.trajectory.handovers.edges.map((e: any) => e.node)).toEqual([
      { items: ['SETTING', 'OFFENCE_INFORMATION', 'COURSE_OF_STAY', 'DIAGNOSTIC_DATA'], completeness: 4 / 12 },
    ]);
  });

  it('with kwaliteit down at the transfer, the handover appears once kwaliteit is back, exactly once', async () => {
    await own!.close();
    const t = await transfer();
    // The relay tries (and fails) meanwhile; nothing is lost.
    await new Promise((r) => setTimeout(r, 400));
    await startKwaliteit();
    await caughtUp();
    expect(await relayed(t.patientId)).toHaveLength(1);
  });

  it('a restarted gateway and a second one relaying at the same time record nothing twice', async () => {
    const before = await db().handover.count({ where: { sourceSequence: { not: null } } });
    const t = await transfer();
    await relaying!.close();
    const second = await federation.startGateway({ subgraphUrls: { kwaliteit: `http://127.0.0.1:${port}/graphql` }, handoverRelay: RELAY });
    await startRelay();
    try {
      await Promise.all([caughtUp(), second.handoverRelay!.caughtUp()]);
      expect(await relayed(t.patientId)).toHaveLength(1);
      expect(await db().handover.count({ where: { sourceSequence: { not: null } } })).toBe(before + 1);
    } finally {
      await second.close();
    }
  });

  it('while forensisch-cv cannot answer the relay waits, and then records the handover with the CV kinds', async () => {
    await relaying!.close();
    relaying = await federation.startGateway({
      subgraphUrls: { kwaliteit: `http://127.0.0.1:${port}/graphql`, 'forensisch-cv': `http://127.0.0.1:${await freePort()}/graphql` },
      handoverRelay: RELAY,
    });
    const t = await transfer((patientId) => entry(patientId, 'RISK_ASSESSMENT'));
    await new Promise((r) => setTimeout(r, 400));
    expect(await relayed(t.patientId)).toHaveLength(0);
    await relaying!.close();
    await startRelay();
    await caughtUp();
    expect((await relayed(t.patientId)).map((r: any) => r.items)).toEqual([['SETTING', 'RISK_AND_PROTECTIVE_FACTORS']]);
  });

  it('the relay fields are internal: refused without the relay scope and not in the public graph', async () => {
    const direct = await fetch(own!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await federation.gatewayToken()}` },
      body: JSON.stringify({ query: 'mutation { recordTransferHandovers(upTo: "999999", transfers: []) { position } }' }),
    });
    expect(((await direct.json()) as any).errors?.map((e: any) => e.extensions?.code)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
    const viaGateway = await federation.request('{ transferHandoverPosition }');
    expect(viaGateway.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // forensisch-cv's kinds are the relay's too: an ordinary gateway token is refused, and the public graph has no such field.
    const cvDirect = await fetch(federation.subgraphs['forensisch-cv'].url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await federation.gatewayToken()}` },
      body: JSON.stringify({ query: '{ cvContentKinds(patientIds: []) { patientId kinds } }' }),
    });
    expect(((await cvDirect.json()) as any).errors?.map((e: any) => e.extensions?.code)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
    const cvViaGateway = await federation.request('{ cvContentKinds(patientIds: []) { patientId kinds } }');
    expect(cvViaGateway.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
