import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { indicatiestelling } from '@ketengraph/indicatiestelling';
import type { CareType } from '@ketengraph/domain';
import { DEFAULT_SEED, generatePatients, generateProviders } from '@ketengraph/seed-data';
import { startSubgraph, type RunningSubgraph } from '@ketengraph/service-kit';
import { createTestGateway } from '@ketengraph/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import { reads } from '../src/loaders.js';
import { createPlaatsing } from '../src/subgraph.js';

// Enough patients that, with nothing dated after today, some offers are full.
const SEED_PATIENTS = 60;
const planner = { userId: 'user-dji-1', organisationId: 'dji', role: 'plaatser' };
const gateway = await createTestGateway();
const today = new Date().toISOString().slice(0, 10);

interface GraphQLResult<T = any> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string; [key: string]: unknown } }[];
}

async function post<T = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  actor: typeof planner | null = planner,
): Promise<GraphQLResult<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(actor ? await gateway.authorization(actor) : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResult<T>;
}

const providers = generateProviders(DEFAULT_SEED);
const patients = [...generatePatients(DEFAULT_SEED, SEED_PATIENTS, providers)];
const offering = (careType: CareType, level: number) => providers.filter((p) => p.capacity.some((c) => c.careType === careType && c.securityLevel === level));

/** An active trajectory with a trajectory indication, and a care type and level in its current phase that at least three providers offer. */
function fittingCase() {
  for (const patient of patients) {
    for (const t of patient.trajectories) {
      if (t.status !== 'ACTIVE' || !t.trajectoryIndication) continue;
      const phase = t.trajectoryIndication.phases[t.currentPhase - 1]!;
      // Clinical care: DJI (the planner) is its placing organisation.
      for (const careType of phase.careTypes.filter((c) => c === 'KLINISCH')) {
        for (let level = phase.minSecurityLevel; level <= phase.maxSecurityLevel; level++) {
          const candidates = offering(careType, level);
          if (candidates.length >= 3) {
            const misfit = (['KLINISCH', 'VERBLIJF', 'AMBULANT'] as const).find((c) => !phase.careTypes.includes(c))!;
            return { patientId: patient.id, trajectoryId: t.id, careType, securityLevel: level, providerIds: candidates.map((p) => p.id), misfit, phase };
          }
        }
      }
    }
  }
  throw new Error('seed has no fitting case');
}

const PLACEMENT_FIELDS = `id status careType securityLevel requestedAt admittedAt endedAt declineReason waitingDays
  provider { id } patient { id } trajectory { id } transferredFrom { id status } transferredTo { id status }
  history { sequence fromStatus toStatus at reason actorId actorOrganisationId }`;

const REQUEST = `mutation($input: RequestPlacementInput!) { requestPlacement(input: $input) { ${PLACEMENT_FIELDS} } }`;

describe('plaatsing subgraph', () => {
  let ind: RunningSubgraph<unknown>;
  let sg: RunningSubgraph<PrismaClient>;
  let url: string;
  const fit = fittingCase();

  beforeAll(async () => {
    ind = await startSubgraph(indicatiestelling, { port: 0, dataDir: 'memory://', seedPatients: SEED_PATIENTS, gatewayKeys: gateway.gatewayKeys });
    sg = await startSubgraph(createPlaatsing({ indicatiestellingUrl: ind.url, indicatiestellingTimeoutMs: 3000 }), {
      port: 0,
      dataDir: 'memory://',
      seedPatients: SEED_PATIENTS,
      gatewayKeys: gateway.gatewayKeys,
    });
    url = sg.url;
  });

  afterAll(async () => {
    await sg?.close();
    await ind?.close();
  });

  it('the hot reads in SQL (loaders.ts) return the rows Prisma does: placements of trajectories with their providers, providers with their capacity', async () => {
    const placements = await sg.prisma.placement.findMany({ where: { admittedAt: { not: null } }, orderBy: { id: 'asc' }, take: 10 });
    const trajectoryIds = [...new Set(placements.map((p) => p.trajectoryId))];
    expect(await reads.placementsByTrajectory(sg.db, trajectoryIds)).toEqual(
      await sg.prisma.placement.findMany({
        where: { trajectoryId: { in: trajectoryIds } },
        orderBy: [{ requestedAt: 'desc' }, { id: 'asc' }],
        include: { provider: { include: { capacity: { orderBy: [{ careType: 'asc' }, { securityLevel: 'asc' }] } } } },
      }),
    );
    const providerIds = [...new Set(placements.map((p) => p.providerId))];
    const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));
    const expected = await sg.prisma.provider.findMany({
      where: { id: { in: providerIds } },
      include: { capacity: { orderBy: [{ careType: 'asc' }, { securityLevel: 'asc' }] } },
    });
    expect(expected.some((p) => p.capacity.length > 1)).toBe(true);
    expect(byId(await reads.providersWithCapacity(sg.db, providerIds))).toEqual(byId(expected));
  });

  const gql = <T = any>(query: string, variables?: Record<string, unknown>, actor?: typeof planner | null) => post<T>(url, query, variables, actor);
  const codeOf = (result: GraphQLResult) => result.errors?.[0]?.extensions?.code;
  const capacity = (providerId: string, careType: CareType, securityLevel: number) =>
    sg.prisma.providerCapacity.findUniqueOrThrow({ where: { providerId_careType_securityLevel: { providerId, careType, securityLevel } } });
  /** Makes sure the offer has `free` free places, whatever the seed left there. */
  const setFree = async (providerId: string, careType: CareType, securityLevel: number, free: number) => {
    const row = await capacity(providerId, careType, securityLevel);
    await sg.prisma.providerCapacity.update({
      where: { providerId_careType_securityLevel: { providerId, careType, securityLevel } },
      data: { totalPlaces: row.occupiedPlaces + free },
    });
  };
  const counts = async () => ({ placements: await sg.prisma.placement.count(), events: await sg.prisma.placementEvent.count() });

  async function request(providerId = fit.providerIds[0]!) {
    const result = await gql(REQUEST, {
      input: { trajectoryId: fit.trajectoryId, patientId: fit.patientId, providerId, careType: fit.careType, securityLevel: fit.securityLevel },
    });
    expect(result.errors).toBeUndefined();
    return result.data.requestPlacement as { id: string; status: string; history: { sequence: string }[] };
  }

  /** The steps the provider the placement is addressed to takes (the write rules); the planner takes the others. */
  const PROVIDER_STEPS = new Set(['startIntake', 'acceptPlacement', 'declinePlacement', 'admitPatient', 'endPlacement']);
  async function step(mutation: string, args: Record<string, unknown>, actor?: typeof planner) {
    let who = actor ?? planner;
    if (!actor && PROVIDER_STEPS.has(mutation)) {
      const placement = await sg.prisma.placement.findUnique({ where: { id: String(args.placementId) } });
      if (placement) who = { userId: 'user-provider', organisationId: placement.providerId, role: 'zorgaanbieder' };
    }
    const params = Object.keys(args)
      .map((k) => `${k}: $${k}`)
      .join(', ');
    const types: Record<string, string> = {
      placementId: 'ID!',
      reason: 'String!',
      admittedOn: 'Date!',
      endedOn: 'Date!',
      transferredOn: 'Date!',
      toProviderId: 'ID!',
    };
    const decl = Object.keys(args)
      .map((k) => `$${k}: ${types[k]}`)
      .join(', ');
    return gql(`mutation(${decl}) { ${mutation}(${params}) { ${PLACEMENT_FIELDS} } }`, args, who);
  }

  async function decided(providerId = fit.providerIds[0]!) {
    const placement = await request(providerId);
    for (const m of ['startIntake', 'acceptPlacement', 'decidePlacement']) expect((await step(m, { placementId: placement.id })).errors).toBeUndefined();
    return placement.id;
  }

  describe('seed', () => {
    it('holds the 190 providers with capacity that matches the admitted placements', async () => {
      expect(await sg.prisma.provider.count()).toBe(190);
      const rows = await sg.prisma.providerCapacity.findMany();
      const admitted = await sg.prisma.placement.groupBy({
        by: ['providerId', 'careType', 'securityLevel'],
        where: { status: 'ADMITTED' },
        _count: { _all: true },
      });
      const occupied = new Map(admitted.map((g) => [`${g.providerId}:${g.careType}:${g.securityLevel}`, g._count._all]));
      for (const row of rows) {
        expect(row.occupiedPlaces).toBe(occupied.get(`${row.providerId}:${row.careType}:${row.securityLevel}`) ?? 0);
        expect(row.totalPlaces - row.occupiedPlaces).toBeGreaterThanOrEqual(0);
        expect(row.totalPlaces - row.occupiedPlaces).toBeLessThanOrEqual(6);
      }
      expect(rows.some((row) => row.occupiedPlaces > 0 && row.occupiedPlaces === row.totalPlaces)).toBe(true);
    });

    it('numbers the seeded events in chronological order', async () => {
      const events = await sg.prisma.placementEvent.findMany({ orderBy: { sequence: 'asc' } });
      expect(events.length).toBeGreaterThan(50);
      for (let i = 1; i < events.length; i++) expect(events[i]!.occurredAt.getTime()).toBeGreaterThanOrEqual(events[i - 1]!.occurredAt.getTime());
      const seeded = patients.flatMap((p) => p.trajectories.flatMap((t) => t.placements.map((pl) => pl.id)));
      expect(await sg.prisma.placement.count()).toBe(seeded.length);
    });
  });

  describe('placement lifecycle', () => {
    it('runs a placement from request to admission and end, with history and capacity', async () => {
      const providerId = fit.providerIds[0]!;
      await setFree(providerId, fit.careType, fit.securityLevel, 1);
      const before = await capacity(providerId, fit.careType, fit.securityLevel);

      const requested = await request(providerId);
      expect(requested).toMatchObject({
        status: 'REQUESTED',
        patient: { id: fit.patientId },
        trajectory: { id: fit.trajectoryId },
        provider: { id: providerId },
        waitingDays: 0,
      });
      expect(requested.history).toEqual([
        expect.objectContaining({ fromStatus: null, toStatus: 'REQUESTED', actorId: planner.userId, actorOrganisationId: 'dji' }),
      ]);

      for (const [m, status] of [
        ['startIntake', 'INTAKE'],
        ['acceptPlacement', 'ACCEPTED'],
        ['decidePlacement', 'DECIDED'],
      ] as const) {
        const result = await step(m, { placementId: requested.id });
        expect(result.errors).toBeUndefined();
        expect(result.data[m].status).toBe(status);
      }
      const admitted = await step('admitPatient', { placementId: requested.id, admittedOn: today });
      expect(admitted.errors).toBeUndefined();
      expect(admitted.data.admitPatient).toMatchObject({ status: 'ADMITTED', admittedAt: `${today}T00:00:00.000Z`, waitingDays: 0 });
      expect((await capacity(providerId, fit.careType, fit.securityLevel)).occupiedPlaces).toBe(before.occupiedPlaces + 1);

      const ended = await step('endPlacement', { placementId: requested.id, endedOn: today, reason: 'Einde titel' });
      expect(ended.errors).toBeUndefined();
      const history = ended.data.endPlacement.history as { sequence: string; fromStatus: string | null; toStatus: string; reason: string | null }[];
      expect(history.map((e) => `${e.fromStatus}>${e.toStatus}`)).toEqual([
        'null>REQUESTED',
        'REQUESTED>INTAKE',
        'INTAKE>ACCEPTED',
        'ACCEPTED>DECIDED',
        'DECIDED>ADMITTED',
        'ADMITTED>ENDED',
      ]);
      expect(history[5]!.reason).toBe('Einde titel');
      const sequences = history.map((e) => BigInt(e.sequence));
      for (let i = 1; i < sequences.length; i++) expect(sequences[i]! > sequences[i - 1]!).toBe(true);
      expect(ended.data.endPlacement).toMatchObject({ status: 'ENDED', endedAt: `${today}T00:00:00.000Z` });
      expect((await capacity(providerId, fit.careType, fit.securityLevel)).occupiedPlaces).toBe(before.occupiedPlaces);
    });

    it('declines after intake with a reason, and withdraws before admission', async () => {
      const a = await request();
      await step('startIntake', { placementId: a.id });
      const declined = await step('declinePlacement', { placementId: a.id, reason: 'Geen passend aanbod' });
      expect(declined.data.declinePlacement).toMatchObject({ status: 'DECLINED', declineReason: 'Geen passend aanbod', waitingDays: null });

      const b = await decided();
      const withdrawn = await step('withdrawPlacement', { placementId: b, reason: 'Andere plek gevonden' });
      expect(withdrawn.data.withdrawPlacement.status).toBe('WITHDRAWN');
      expect(withdrawn.data.withdrawPlacement.history.at(-1)).toMatchObject({ fromStatus: 'DECIDED', toStatus: 'WITHDRAWN', reason: 'Andere plek gevonden' });
    });

    it('transfers an admitted placement: the old one becomes TRANSFERRED, a new one starts ADMITTED at the target', async () => {
      const [from, to] = [fit.providerIds[1]!, fit.providerIds[2]!];
      await setFree(from, fit.careType, fit.securityLevel, 1);
      const id = await decided(from);
      expect((await step('admitPatient', { placementId: id, admittedOn: today })).errors).toBeUndefined();

      expect(codeOf(await step('transferPlacement', { placementId: id, toProviderId: from, transferredOn: today }))).toBe('BAD_USER_INPUT');
      await setFree(to, fit.careType, fit.securityLevel, 0);
      const full = await counts();
      expect(codeOf(await step('transferPlacement', { placementId: id, toProviderId: to, transferredOn: today }))).toBe('NO_CAPACITY');
      expect(await counts()).toEqual(full);
      expect((await sg.prisma.placement.findUniqueOrThrow({ where: { id } })).status).toBe('ADMITTED');

      await setFree(to, fit.careType, fit.securityLevel, 1);
      const [fromBefore, toBefore] = [await capacity(from, fit.careType, fit.securityLevel), await capacity(to, fit.careType, fit.securityLevel)];
      const result = await step('transferPlacement', { placementId: id, toProviderId: to, transferredOn: today });
      expect(result.errors).toBeUndefined();
      const next = result.data.transferPlacement;
      expect(next).toMatchObject({ status: 'ADMITTED', provider: { id: to }, transferredFrom: { id, status: 'TRANSFERRED' }, transferredTo: null });
      expect(next.history).toEqual([expect.objectContaining({ fromStatus: null, toStatus: 'ADMITTED' })]);
      const old = await gql(`query($id: ID!) { placement(id: $id) { status endedAt transferredTo { id } history { toStatus } } }`, { id });
      expect(old.data.placement).toMatchObject({ status: 'TRANSFERRED', endedAt: `${today}T00:00:00.000Z`, transferredTo: { id: next.id } });
      expect((await capacity(from, fit.careType, fit.securityLevel)).occupiedPlaces).toBe(fromBefore.occupiedPlaces - 1);
      expect((await capacity(to, fit.careType, fit.securityLevel)).occupiedPlaces).toBe(toBefore.occupiedPlaces + 1);
    });

    it('refuses illegal steps with INVALID_TRANSITION naming the status and the step, changing nothing', async () => {
      const placement = await request();
      const before = await counts();
      const accept = await step('acceptPlacement', { placementId: placement.id });
      expect(codeOf(accept)).toBe('INVALID_TRANSITION');
      expect(accept.errors![0]!.message).toContain('REQUESTED');
      expect(accept.errors![0]!.message).toContain('accept');
      expect(codeOf(await step('admitPatient', { placementId: placement.id, admittedOn: today }))).toBe('INVALID_TRANSITION');
      expect(codeOf(await step('endPlacement', { placementId: placement.id, endedOn: today, reason: 'x' }))).toBe('INVALID_TRANSITION');
      expect(await counts()).toEqual(before);
      expect((await sg.prisma.placement.findUniqueOrThrow({ where: { id: placement.id } })).status).toBe('REQUESTED');
    });

    it('refuses bad input: unknown placement, blank reason, admission date in the future, no actor', async () => {
      expect(codeOf(await step('startIntake', { placementId: 'does-not-exist' }))).toBe('NOT_FOUND');
      const id = await decided();
      const before = await counts();
      expect(codeOf(await step('withdrawPlacement', { placementId: id, reason: '   ' }))).toBe('BAD_USER_INPUT');
      expect(codeOf(await step('admitPatient', { placementId: id, admittedOn: '2999-01-01' }))).toBe('BAD_USER_INPUT');
      expect(codeOf(await step('admitPatient', { placementId: id, admittedOn: '2000-01-01' }))).toBe('BAD_USER_INPUT');
      const anonymous = await gql(`mutation($id: ID!) { admitPatient(placementId: $id, admittedOn: "${today}") { id } }`, { id }, null);
      expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');
      const anonymousRequest = await gql(
        REQUEST,
        {
          input: {
            trajectoryId: fit.trajectoryId,
            patientId: fit.patientId,
            providerId: fit.providerIds[0],
            careType: fit.careType,
            securityLevel: fit.securityLevel,
          },
        },
        null,
      );
      expect(codeOf(anonymousRequest)).toBe('UNAUTHENTICATED');
      expect(await counts()).toEqual(before);
    });
  });

  describe('capacity', () => {
    it('lets exactly one of two concurrent admissions take the last place', async () => {
      const providerId = fit.providerIds[0]!;
      const [a, b] = [await decided(providerId), await decided(providerId)];
      await setFree(providerId, fit.careType, fit.securityLevel, 1);
      const before = await capacity(providerId, fit.careType, fit.securityLevel);
      const results = await Promise.all([a, b].map((id) => step('admitPatient', { placementId: id, admittedOn: today })));
      const codes = results.map((r) => codeOf(r) ?? 'OK').sort();
      expect(codes).toEqual(['NO_CAPACITY', 'OK']);
      const after = await capacity(providerId, fit.careType, fit.securityLevel);
      expect(after.occupiedPlaces).toBe(before.totalPlaces);
      const statuses = (await sg.prisma.placement.findMany({ where: { id: { in: [a, b] } } })).map((p) => p.status).sort();
      expect(statuses).toEqual(['ADMITTED', 'DECIDED']);
    });

    it('rolls back a refused admission: no status change, no event, no place taken', async () => {
      const providerId = fit.providerIds[0]!;
      const id = await decided(providerId);
      await setFree(providerId, fit.careType, fit.securityLevel, 0);
      const before = {
        ...(await counts()),
        capacity: await capacity(providerId, fit.careType, fit.securityLevel),
        history: await sg.prisma.placementEvent.count({ where: { placementId: id } }),
      };
      const refused = await step('admitPatient', { placementId: id, admittedOn: today });
      expect(codeOf(refused)).toBe('NO_CAPACITY');
      expect(refused.errors![0]!.extensions).toMatchObject({ careType: fit.careType, securityLevel: fit.securityLevel });
      expect({
        ...(await counts()),
        capacity: await capacity(providerId, fit.careType, fit.securityLevel),
        history: await sg.prisma.placementEvent.count({ where: { placementId: id } }),
      }).toEqual(before);
      expect((await sg.prisma.placement.findUniqueOrThrow({ where: { id } })).status).toBe('DECIDED');
    });

    it('sums free capacity per care type, level and region in SQL', async () => {
      const result = await gql(
        `{ freeCapacity(careType: ${fit.careType}, securityLevel: ${fit.securityLevel}) { careType securityLevel region providerCount totalPlaces occupiedPlaces freePlaces } }`,
      );
      expect(result.errors).toBeUndefined();
      const rows = await sg.prisma.providerCapacity.findMany({
        where: { careType: fit.careType, securityLevel: fit.securityLevel },
        include: { provider: true },
      });
      for (const summary of result.data.freeCapacity) {
        const inRegion = rows.filter((r) => r.provider.region === summary.region);
        expect(summary).toEqual({
          careType: fit.careType,
          securityLevel: fit.securityLevel,
          region: summary.region,
          providerCount: inRegion.length,
          totalPlaces: inRegion.reduce((s, r) => s + r.totalPlaces, 0),
          occupiedPlaces: inRegion.reduce((s, r) => s + r.occupiedPlaces, 0),
          freePlaces: inRegion.reduce((s, r) => s + r.totalPlaces - r.occupiedPlaces, 0),
        });
      }
      expect(new Set(result.data.freeCapacity.map((s: { region: string }) => s.region)).size).toBe(new Set(rows.map((r) => r.provider.region)).size);
    });

    it('filters providers in SQL by region, type, offer and free places', async () => {
      const free = await gql(
        `{ providers(first: 100, filter: { careType: ${fit.careType}, securityLevel: ${fit.securityLevel}, hasFreePlaces: true }) { totalCount edges { node { id capacity { careType securityLevel freePlaces } } } } }`,
      );
      const full = await gql(
        `{ providers(first: 100, filter: { careType: ${fit.careType}, securityLevel: ${fit.securityLevel}, hasFreePlaces: false }) { totalCount edges { node { id capacity { careType securityLevel freePlaces } } } } }`,
      );
      const offer = (node: { capacity: { careType: string; securityLevel: number; freePlaces: number }[] }) =>
        node.capacity.find((c) => c.careType === fit.careType && c.securityLevel === fit.securityLevel)!;
      for (const edge of free.data.providers.edges) expect(offer(edge.node).freePlaces).toBeGreaterThan(0);
      for (const edge of full.data.providers.edges) expect(offer(edge.node).freePlaces).toBe(0);
      const offering = await sg.prisma.providerCapacity.count({ where: { careType: fit.careType, securityLevel: fit.securityLevel } });
      expect(free.data.providers.totalCount + full.data.providers.totalCount).toBe(offering);

      const region = await gql(
        `{ providers(first: 5, filter: { region: MIDDEN, type: FPC }) { totalCount pageInfo { hasNextPage endCursor } edges { node { region type } } } }`,
      );
      expect(region.data.providers.totalCount).toBe(providers.filter((p) => p.region === 'MIDDEN' && p.type === 'FPC').length);
      for (const edge of region.data.providers.edges) expect(edge.node).toEqual({ region: 'MIDDEN', type: 'FPC' });
    });

    it('pages providers by id', async () => {
      const first = await gql(`{ providers(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`);
      const next = await gql(`query($after: String) { providers(first: 3, after: $after) { pageInfo { hasPreviousPage } edges { node { id } } } }`, {
        after: first.data.providers.pageInfo.endCursor,
      });
      const ids = [...first.data.providers.edges, ...next.data.providers.edges].map((e: { node: { id: string } }) => e.node.id);
      expect(ids).toEqual([...providers.map((p) => p.id)].sort().slice(0, 6));
      expect(first.data.providers).toMatchObject({ totalCount: 190, pageInfo: { hasNextPage: true } });
      expect(next.data.providers.pageInfo.hasPreviousPage).toBe(true);
    });

    it('reports waiting times of the admissions in a window', async () => {
      const result = await gql(`{ waitingTimes(from: "2000-01-01", to: "${today}") { count averageDays medianDays p90Days } }`);
      const admitted = await sg.prisma.placement.findMany({
        where: { admittedAt: { not: null, lte: new Date(`${today}T23:59:59.999Z`) }, transferredFromId: null },
      });
      const days = admitted
        .map((p) => Math.floor(p.admittedAt!.getTime() / 86_400_000) - Math.floor(p.requestedAt.getTime() / 86_400_000))
        .sort((x, y) => x - y);
      expect(result.data.waitingTimes.count).toBe(days.length);
      expect(result.data.waitingTimes.p90Days).toBe(days[Math.ceil(0.9 * days.length) - 1]);
      const empty = await gql(`{ waitingTimes(careType: KLINISCH, from: "1990-01-01", to: "1990-12-31") { count averageDays medianDays p90Days } }`);
      expect(empty.data.waitingTimes).toEqual({ count: 0, averageDays: null, medianDays: null, p90Days: null });
      expect(codeOf(await gql(`{ waitingTimes(from: "2026-02-01", to: "2026-01-01") { count } }`))).toBe('BAD_USER_INPUT');
    });
  });

  describe('fit with the indication', () => {
    const input = (overrides: Record<string, unknown>) => ({
      input: {
        trajectoryId: fit.trajectoryId,
        patientId: fit.patientId,
        providerId: fit.providerIds[0],
        careType: fit.careType,
        securityLevel: fit.securityLevel,
        ...overrides,
      },
    });

    it('refuses a care type or level outside the indication with INDICATION_MISMATCH and writes nothing', async () => {
      const before = await counts();
      // DJI is not the placing organisation for non-clinical care: refused before the indication is looked at.
      expect(codeOf(await gql(REQUEST, input({ careType: fit.misfit })))).toBe('FORBIDDEN');
      const outside = fit.phase.maxSecurityLevel < 5 ? fit.phase.maxSecurityLevel + 1 : fit.phase.minSecurityLevel - 1;
      const outOfBounds = await gql(REQUEST, input({ securityLevel: outside }));
      expect(codeOf(outOfBounds)).toBe('INDICATION_MISMATCH');
      expect(outOfBounds.errors![0]!.extensions!.allowed).toMatchObject({ careTypes: fit.phase.careTypes, minSecurityLevel: fit.phase.minSecurityLevel });
      expect(await counts()).toEqual(before);
    });

    it('refuses an unknown trajectory, a wrong patient, a closed trajectory and a provider without the offer', async () => {
      const before = await counts();
      expect(codeOf(await gql(REQUEST, input({ trajectoryId: 'no-such-trajectory' })))).toBe('NOT_FOUND');
      expect(codeOf(await gql(REQUEST, input({ patientId: patients.find((p) => p.id !== fit.patientId)!.id })))).toBe('BAD_USER_INPUT');
      const closed = patients.flatMap((p) => p.trajectories.map((t) => ({ p, t }))).find(({ t }) => t.status === 'CLOSED')!;
      expect(codeOf(await gql(REQUEST, input({ trajectoryId: closed.t.id, patientId: closed.p.id })))).toBe('INVALID_TRANSITION');
      const notOffering = providers.find(
        (p) => !p.capacity.some((c) => c.careType === fit.careType && c.securityLevel === fit.securityLevel) && p.type === 'AMBULANT',
      )!;
      expect(codeOf(await gql(REQUEST, input({ providerId: notOffering.id })))).toBe('BAD_USER_INPUT');
      expect(codeOf(await gql(REQUEST, input({ providerId: 'no-such-provider' })))).toBe('NOT_FOUND');
      expect(codeOf(await gql(REQUEST, input({ securityLevel: 9 })))).toBe('BAD_USER_INPUT');
      expect(await counts()).toEqual(before);
    });
  });

  describe('batching and federation', () => {
    const PROVIDERS = (
      n: number,
    ) => `{ providers(first: ${n}) { edges { node { id name capacity { careType securityLevel totalPlaces occupiedPlaces freePlaces }
      placements(first: 5) { totalCount pageInfo { hasNextPage } edges { node { id status waitingDays provider { id } patient { id } history { sequence toStatus } } } } } } } }`;

    it('uses the same number of statements for 2 providers as for 20', async () => {
      const measure = async (n: number) => {
        const start = sg.db.statementCount();
        const result = await gql(PROVIDERS(n));
        expect(result.errors).toBeUndefined();
        expect(result.data.providers.edges).toHaveLength(n);
        return sg.db.statementCount() - start;
      };
      const two = await measure(2);
      const twenty = await measure(20);
      expect(twenty).toBe(two);
    });

    it("pages and filters a provider's placements", async () => {
      const all = await gql(`{ providers(first: 100) { edges { node { id placements(first: 100) { totalCount edges { node { id status } } } } } } }`);
      const busiest = all.data.providers.edges.map((e: any) => e.node).sort((x: any, y: any) => y.placements.totalCount - x.placements.totalCount)[0];
      const firstPage = await gql(
        `query($id: ID!) { provider(id: $id) { placements(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }`,
        { id: busiest.id },
      );
      const page = firstPage.data.provider.placements;
      expect(page.totalCount).toBe(busiest.placements.totalCount);
      const second = await gql(`query($id: ID!, $after: String) { provider(id: $id) { placements(first: 1, after: $after) { edges { node { id } } } } }`, {
        id: busiest.id,
        after: page.pageInfo.endCursor,
      });
      expect([page.edges[0].node.id, second.data.provider.placements.edges[0].node.id]).toEqual(
        busiest.placements.edges
          .map((e: any) => e.node.id)
          .sort()
          .slice(0, 2),
      );
      const status = busiest.placements.edges[0].node.status;
      const filtered = await gql(`query($id: ID!) { provider(id: $id) { placements(status: ${status}) { totalCount edges { node { status } } } } }`, {
        id: busiest.id,
      });
      expect(filtered.data.provider.placements.totalCount).toBe(busiest.placements.edges.filter((e: any) => e.node.status === status).length);
    });

    it('resolves entity references: placements of a patient and a trajectory, placements and providers', async () => {
      const patient = patients[0]!;
      const trajectory = patient.trajectories[0]!;
      const placement = trajectory.placements[0]!;
      const result = await gql(
        `query($r: [_Any!]!) { _entities(representations: $r) {
          ... on Patient { id placements { totalCount edges { node { id } } } }
          ... on Trajectory { id placements { totalCount } }
          ... on Placement { id status provider { id } }
          ... on Provider { id name }
        } }`,
        {
          r: [
            { __typename: 'Patient', id: patient.id },
            { __typename: 'Trajectory', id: trajectory.id },
            { __typename: 'Placement', id: placement.id },
            { __typename: 'Provider', id: placement.providerId },
          ],
        },
      );
      expect(result.errors).toBeUndefined();
      const [p, t, pl, pr] = result.data._entities;
      const own = await sg.prisma.placement.findMany({ where: { patientId: patient.id }, orderBy: [{ requestedAt: 'desc' }, { id: 'asc' }] });
      expect(own.length).toBeGreaterThanOrEqual(patient.trajectories.reduce((sum, x) => sum + x.placements.length, 0));
      expect(p.placements.totalCount).toBe(own.length);
      expect(p.placements.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(own.map((x) => x.id));
      expect(t.placements.totalCount).toBe(await sg.prisma.placement.count({ where: { trajectoryId: trajectory.id } }));
      expect(pl).toMatchObject({ id: placement.id, status: placement.status, provider: { id: placement.providerId } });
      expect(pr.id).toBe(placement.providerId);
    });
  });
});

describe('plaatsing without indicatiestelling', () => {
  let closedPort: number;
  let hanging: Server;
  const subgraphs: RunningSubgraph<PrismaClient>[] = [];

  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    // Accepts the connection and never answers.
    hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const sg of subgraphs) await sg.close();
    hanging.closeAllConnections();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
  });

  const fit = fittingCase();
  const input = {
    trajectoryId: fit.trajectoryId,
    patientId: fit.patientId,
    providerId: fit.providerIds[0],
    careType: fit.careType,
    securityLevel: fit.securityLevel,
  };

  it.each([
    ['closed port', () => `http://127.0.0.1:${closedPort}/graphql`],
    ['server that never answers', () => `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/graphql`],
  ])('refuses requestPlacement with DEPENDENCY_UNAVAILABLE when indicatiestelling is a %s', async (_, target) => {
    const sg = await startSubgraph(createPlaatsing({ indicatiestellingUrl: target(), indicatiestellingTimeoutMs: 300 }), {
      port: 0,
      dataDir: 'memory://',
      seedPatients: 5,
      gatewayKeys: gateway.gatewayKeys,
    });
    subgraphs.push(sg);
    const before = await sg.prisma.placement.count();
    const started = Date.now();
    const result = await post(sg.url, REQUEST, { input });
    expect(result.errors?.[0]?.extensions?.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await sg.prisma.placement.count()).toBe(before);
    // The subgraph keeps serving.
    expect((await post(sg.url, '{ providers(first: 1) { totalCount } }')).data.providers.totalCount).toBe(190);
  });
});
