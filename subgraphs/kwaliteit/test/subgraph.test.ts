import { HANDOVER_ITEMS, QUALITY_PILLARS } from '@ketengraph/domain';
import { startSubgraph, type Principal, type RunningSubgraph } from '@ketengraph/service-kit';
import { createTestGateway } from '@ketengraph/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportDueOn } from '../src/domain/quality.js';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import { reads } from '../src/loaders.js';
import { kwaliteit } from '../src/subgraph.js';
import { indicatiestelling } from '@ketengraph/indicatiestelling';
import { createPlaatsing } from '@ketengraph/plaatsing';

// Reads handovers of any patient (indicatiesteller) and may write quality data (kwaliteit:write).
const ACTOR: Principal = {
  subject: 'kwaliteitsmedewerker-1',
  organisationId: 'nifp',
  role: 'indicatiesteller',
  scopes: ['kwaliteit:write'],
  purpose: 'indicatiestelling',
};
const gateway = await createTestGateway();
const CURRENT_YEAR = new Date().getUTCFullYear();
const TODAY = new Date().toISOString().slice(0, 10);

interface GqlResult {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** A care provider acting for itself: it submits its own report and records the handovers it receives (the write rules). */
const asProvider = (organisationId: string): Principal => ({
  subject: 'kwaliteitsmedewerker-1',
  organisationId,
  role: 'zorgaanbieder',
  scopes: ['kwaliteit:write'],
  purpose: 'zorgverlening',
});

let sg: RunningSubgraph<PrismaClient>;
// The trajectory is indicatiestelling's and the receiving provider's placement plaatsing's: a handover is checked against both.
let ind: RunningSubgraph<unknown>;
let pl: RunningSubgraph<any>;

beforeAll(async () => {
  ind = await startSubgraph(indicatiestelling, { port: 0, dataDir: 'memory://', seedPatients: 30, gatewayKeys: gateway.gatewayKeys });
  pl = await startSubgraph(createPlaatsing({ indicatiestellingUrl: ind.url, indicatiestellingTimeoutMs: 3000 }), {
    port: 0,
    dataDir: 'memory://',
    seedPatients: 30,
    gatewayKeys: gateway.gatewayKeys,
  });
  sg = await startSubgraph(kwaliteit, {
    port: 0,
    dataDir: 'memory://',
    seedPatients: 30,
    gatewayKeys: gateway.gatewayKeys,
    relationshipSources: { 'own-patients': pl.url, 'own-supervisees': ind.url },
  });
});

afterAll(async () => {
  await sg?.close();
  await pl?.close();
  await ind?.close();
});

async function gql(query: string, variables: Record<string, unknown> = {}, actor: Principal | null = ACTOR): Promise<GqlResult> {
  const response = await fetch(sg.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(actor ? await gateway.authorization(actor) : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GqlResult;
}

function errorCode(result: GqlResult): unknown {
  return result.errors?.[0]?.extensions?.code;
}

async function statementsFor(query: string, variables: Record<string, unknown>): Promise<{ statements: number; result: GqlResult }> {
  const before = sg.db.statementCount();
  const result = await gql(query, variables);
  expect(result.errors).toBeUndefined();
  return { statements: sg.db.statementCount() - before, result };
}

async function qualityRowCounts() {
  const [reports, scores, indicators] = await Promise.all([
    sg.prisma.qualityReport.count(),
    sg.prisma.pillarScore.count(),
    sg.prisma.performanceIndicator.count(),
  ]);
  return { reports, scores, indicators };
}

const SUBMIT = `mutation($input: SubmitQualityReportInput!) {
  submitQualityReport(input: $input) {
    id provider { id } year submittedOn dueOn submittedOnTime forensicPatientCount djiFundedShare
    pillarScores { pillar { number code } maturity explanation }
    indicators { code name value unit explanation }
  }
}`;

function reportInput(providerId: string, year: number, change: Record<string, unknown> = {}) {
  return {
    providerId,
    year,
    forensicPatientCount: 84,
    djiFundedShare: 0.65,
    pillarScores: QUALITY_PILLARS.map((p) => ({ pillar: p.code, maturity: (p.number + 1) % 5, explanation: `PDCA-cyclus pijler ${p.number}.` })),
    indicators: [
      { code: 'SEPARATIES', name: 'Separaties per 1.000 verpleegdagen', value: 2.4, unit: 'per 1000 dagen', explanation: 'Geregistreerde separaties.' },
      { code: 'RISICOTAXATIE_TIJDIG', name: 'Tijdige risicotaxaties', value: 0.91, unit: 'aandeel', explanation: 'Binnen zes weken na opname.' },
    ],
    ...change,
  };
}

describe('quality pillars', () => {
  it('lists the five pillars of the framework in order', async () => {
    const result = await gql('{ qualityPillars { number code name description } }');
    expect(result.data!.qualityPillars).toEqual(QUALITY_PILLARS.map((p) => ({ number: p.number, code: p.code, name: p.name, description: p.description })));
  });
});

describe('submitQualityReport', () => {
  it('stores a report with its pillar scores and indicators, dated today', async () => {
    const result = await gql(SUBMIT, { input: reportInput('provider-new-1', CURRENT_YEAR) }, asProvider('provider-new-1'));
    expect(result.errors).toBeUndefined();
    const report = result.data!.submitQualityReport;
    expect(report).toMatchObject({
      provider: { id: 'provider-new-1' },
      year: CURRENT_YEAR,
      submittedOn: TODAY,
      dueOn: `${CURRENT_YEAR + 1}-05-31`,
      submittedOnTime: true,
      forensicPatientCount: 84,
      djiFundedShare: 0.65,
    });
    expect(report.pillarScores.map((s: any) => [s.pillar.number, s.maturity])).toEqual([
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 0],
      [5, 1],
    ]);
    expect(report.indicators.map((i: any) => i.code)).toEqual(['RISICOTAXATIE_TIJDIG', 'SEPARATIES']);

    const provider = await gql(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Provider { latestQualityReport { id } qualityReports { totalCount } } } }',
      {
        r: [{ __typename: 'Provider', id: 'provider-new-1' }],
      },
    );
    expect(provider.data!._entities[0]).toEqual({ latestQualityReport: { id: report.id }, qualityReports: { totalCount: 1 } });
  });

  it('marks a report submitted after 31 May of the next year as late', async () => {
    const result = await gql(SUBMIT, { input: reportInput('provider-new-1', 2022) }, asProvider('provider-new-1'));
    expect(result.data!.submitQualityReport).toMatchObject({ year: 2022, dueOn: '2023-05-31', submittedOnTime: false });
  });

  const refusals: [string, Record<string, unknown>, string][] = [
    ['a missing pillar', { pillarScores: reportInput('x', 2024).pillarScores.slice(0, 4) }, 'pillarScores'],
    [
      'a pillar scored twice',
      { pillarScores: [...reportInput('x', 2024).pillarScores.slice(0, 4), { ...reportInput('x', 2024).pillarScores[0]! }] },
      'pillarScores[4].pillar',
    ],
    ['a maturity of 5', { pillarScores: reportInput('x', 2024).pillarScores.map((s, i) => (i === 3 ? { ...s, maturity: 5 } : s)) }, 'pillarScores[3].maturity'],
    [
      'a negative maturity',
      { pillarScores: reportInput('x', 2024).pillarScores.map((s, i) => (i === 0 ? { ...s, maturity: -1 } : s)) },
      'pillarScores[0].maturity',
    ],
    ['a DJI share above 1', { djiFundedShare: 1.5 }, 'djiFundedShare'],
    ['a negative DJI share', { djiFundedShare: -0.01 }, 'djiFundedShare'],
    ['a negative patient count', { forensicPatientCount: -3 }, 'forensicPatientCount'],
    ['a year in the future', { year: CURRENT_YEAR + 1 }, 'year'],
    ['a year before the framework', { year: 2021 }, 'year'],
    ['a repeated indicator code', { indicators: [reportInput('x', 2024).indicators[0], reportInput('x', 2024).indicators[0]] }, 'indicators[1].code'],
  ];

  it.each(refusals)('refuses %s with BAD_USER_INPUT and writes nothing', async (_, change, field) => {
    const before = await qualityRowCounts();
    const result = await gql(SUBMIT, { input: reportInput('provider-refused', 2024, change) }, asProvider('provider-refused'));
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(result.data).toEqual({ submitQualityReport: null });
    expect(await qualityRowCounts()).toEqual(before);
    expect(await sg.prisma.qualityReport.count({ where: { providerId: 'provider-refused' } })).toBe(0);
  });

  it('refuses a change without an actor with UNAUTHENTICATED and writes nothing', async () => {
    const before = await qualityRowCounts();
    const result = await gql(SUBMIT, { input: reportInput('provider-anonymous', 2024) }, null);
    expect(errorCode(result)).toBe('UNAUTHENTICATED');
    expect(await qualityRowCounts()).toEqual(before);
  });

  it('refuses a second report for a seeded provider and year with ALREADY_EXISTS and writes nothing', async () => {
    const seeded = await sg.prisma.qualityReport.findFirstOrThrow({ where: { year: 2024 }, include: { pillarScores: true } });
    const before = await qualityRowCounts();
    const result = await gql(SUBMIT, { input: reportInput(seeded.providerId, 2024) }, asProvider(seeded.providerId));
    expect(errorCode(result)).toBe('ALREADY_EXISTS');
    expect(result.errors![0]!.message).not.toContain(seeded.providerId);
    expect(await qualityRowCounts()).toEqual(before);
    const after = await sg.prisma.qualityReport.findUniqueOrThrow({ where: { id: seeded.id }, include: { pillarScores: true } });
    expect(after).toEqual(seeded);
  });

  it('lets exactly one of two simultaneous submissions for the same provider and year through', async () => {
    const input = reportInput('provider-race', 2025);
    const results = await Promise.all([
      gql(SUBMIT, { input }, asProvider('provider-race')),
      gql(SUBMIT, { input: { ...input, forensicPatientCount: 90 } }, asProvider('provider-race')),
    ]);
    const succeeded = results.filter((r) => r.data?.submitQualityReport);
    const refused = results.filter((r) => r.errors);
    expect(succeeded).toHaveLength(1);
    expect(refused.map(errorCode)).toEqual(['ALREADY_EXISTS']);
    const stored = await sg.prisma.qualityReport.findMany({ where: { providerId: 'provider-race' }, include: { pillarScores: true, indicators: true } });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.id).toBe(succeeded[0]!.data!.submitQualityReport.id);
    expect(stored[0]!.pillarScores).toHaveLength(5);
    expect(stored[0]!.indicators).toHaveLength(2);
  });
});

describe('qualityOverview', () => {
  const OVERVIEW = `query($year: Int!) { qualityOverview(year: $year) {
    year reportCount onTimeShare pillars { pillar { number } averageMaturity distribution { maturity count } }
  } }`;

  it('matches the aggregates computed from the seeded rows', async () => {
    const reports = await sg.prisma.qualityReport.findMany({ where: { year: 2024 }, include: { pillarScores: true } });
    expect(reports.length).toBeGreaterThan(100);
    const { data } = await gql(OVERVIEW, { year: 2024 });
    const overview = data!.qualityOverview;
    expect(overview.reportCount).toBe(reports.length);
    const onTime = reports.filter((r) => r.submittedOn.getTime() <= reportDueOn(2024).getTime()).length;
    expect(overview.onTimeShare).toBeCloseTo(onTime / reports.length, 10);
    for (const pillar of QUALITY_PILLARS) {
      const scores = reports
        .flatMap((r) => r.pillarScores)
        .filter((s) => s.pillar === pillar.number)
        .map((s) => s.maturity);
      const row = overview.pillars.find((p: any) => p.pillar.number === pillar.number);
      expect(row.averageMaturity).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / scores.length, 10);
      expect(row.distribution).toEqual([0, 1, 2, 3, 4].map((maturity) => ({ maturity, count: scores.filter((m) => m === maturity).length })));
    }
  });

  it('counts a late report against the on-time share', async () => {
    const reports = await sg.prisma.qualityReport.findMany({ where: { year: 2022 } });
    const { data } = await gql(OVERVIEW, { year: 2022 });
    const onTime = reports.filter((r) => r.submittedOn.getTime() <= reportDueOn(2022).getTime()).length;
    expect(data!.qualityOverview.reportCount).toBe(reports.length);
    expect(data!.qualityOverview.onTimeShare).toBeCloseTo(onTime / reports.length, 10);
    expect(onTime).toBeLessThan(reports.length);
  });

  it('has no averages for a year without reports, and its statement count does not depend on the number of reports', async () => {
    const full = await statementsFor(OVERVIEW, { year: 2024 });
    const empty = await statementsFor(OVERVIEW, { year: 2030 });
    expect(empty.result.data!.qualityOverview).toMatchObject({ year: 2030, reportCount: 0, onTimeShare: null });
    expect(empty.result.data!.qualityOverview.pillars.every((p: any) => p.averageMaturity === null && p.distribution.every((d: any) => d.count === 0))).toBe(
      true,
    );
    expect(full.statements).toBe(empty.statements);
  });
});

describe('handovers', () => {
  const RECORD = `mutation($input: RecordHandoverInput!) {
    recordHandover(input: $input) { id trajectory { id } fromProvider { id } toProvider { id } handedOverOn items missingItems completeness }
  }`;
  const TRAJECTORY = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Trajectory {
    id handovers { totalCount edges { node { id completeness missingItems } } }
    handoverQuality { handoverCount averageCompleteness lowestCompleteness mostOftenMissing }
  } } }`;

  /** A seeded trajectory with a handover and the provider admitted there now: the receiving side of a next handover. */
  async function receivingCase() {
    const admitted = await pl.prisma.placement.findMany({ where: { status: 'ADMITTED' }, orderBy: { id: 'asc' } });
    for (const placement of admitted) {
      const seeded = await sg.prisma.handover.findFirst({ where: { trajectoryId: placement.trajectoryId, toProviderId: { not: placement.providerId } } });
      if (seeded) return { seeded, receiver: placement.providerId as string };
    }
    throw new Error('the seed has no admitted placement after a handover');
  }

  it('records a handover with its completeness and shows it on the trajectory', async () => {
    const { seeded, receiver } = await receivingCase();
    const items = ['SETTING', 'RISK_AND_PROTECTIVE_FACTORS', 'EARLY_WARNING_SIGNS'];
    const result = await gql(
      RECORD,
      {
        input: {
          trajectoryId: seeded.trajectoryId,
          patientId: seeded.patientId,
          fromProviderId: seeded.toProviderId,
          toProviderId: receiver,
          handedOverOn: TODAY,
          items,
        },
      },
      asProvider(receiver),
    );
    expect(result.errors).toBeUndefined();
    const handover = result.data!.recordHandover;
    expect(handover).toMatchObject({
      trajectory: { id: seeded.trajectoryId },
      fromProvider: { id: seeded.toProviderId },
      toProvider: { id: receiver },
      handedOverOn: TODAY,
      items: ['SETTING', 'EARLY_WARNING_SIGNS', 'RISK_AND_PROTECTIVE_FACTORS'],
    });
    expect(handover.completeness).toBeCloseTo(3 / 12);
    expect(handover.missingItems).toHaveLength(9);
    const stored = await sg.prisma.handover.findUniqueOrThrow({ where: { id: handover.id } });
    expect(stored).toMatchObject({ patientId: seeded.patientId, recordedBy: 'kwaliteitsmedewerker-1', recordedByOrganisation: receiver });

    const all = await sg.prisma.handover.findMany({ where: { trajectoryId: seeded.trajectoryId } });
    const { data } = await gql(TRAJECTORY, { r: [{ __typename: 'Trajectory', id: seeded.trajectoryId }] });
    const trajectory = data!._entities[0];
    expect(trajectory.handovers.totalCount).toBe(all.length);
    expect(trajectory.handovers.edges[0].node.id).toBe(handover.id);
    const completeness = all.map((h) => h.items.length / HANDOVER_ITEMS.length);
    expect(trajectory.handoverQuality.handoverCount).toBe(all.length);
    expect(trajectory.handoverQuality.averageCompleteness).toBeCloseTo(completeness.reduce((a, b) => a + b, 0) / all.length, 10);
    expect(trajectory.handoverQuality.lowestCompleteness).toBeCloseTo(Math.min(...completeness), 10);
  });

  it('starts care without a handing-over provider', async () => {
    const { seeded, receiver } = await receivingCase();
    const result = await gql(
      RECORD,
      {
        input: {
          trajectoryId: seeded.trajectoryId,
          patientId: seeded.patientId,
          toProviderId: receiver,
          handedOverOn: '2025-03-01',
          items: [...HANDOVER_ITEMS],
        },
      },
      asProvider(receiver),
    );
    expect(result.data!.recordHandover).toMatchObject({ fromProvider: null, completeness: 1, missingItems: [] });
  });

  it('refuses a handover for a trajectory indicatiestelling does not know (NOT_FOUND), and one to a provider without the patient (FORBIDDEN)', async () => {
    const before = await sg.prisma.handover.count();
    const unknown = await gql(
      RECORD,
      { input: { trajectoryId: 'trajectory-new', patientId: 'patient-new', toProviderId: 'provider-a', handedOverOn: '2025-03-01', items: ['SETTING'] } },
      asProvider('provider-a'),
    );
    expect(errorCode(unknown)).toBe('NOT_FOUND');
    const { seeded } = await receivingCase();
    const stranger = await gql(
      RECORD,
      { input: { trajectoryId: seeded.trajectoryId, patientId: seeded.patientId, toProviderId: 'provider-a', handedOverOn: '2025-03-01', items: ['SETTING'] } },
      asProvider('provider-a'),
    );
    expect(errorCode(stranger)).toBe('FORBIDDEN');
    expect(await sg.prisma.handover.count()).toBe(before);
  });

  it('gives an unknown trajectory an empty handover quality', async () => {
    const { data } = await gql(TRAJECTORY, { r: [{ __typename: 'Trajectory', id: 'trajectory-without-handovers' }] });
    expect(data!._entities[0]).toEqual({
      id: 'trajectory-without-handovers',
      handovers: { totalCount: 0, edges: [] },
      handoverQuality: { handoverCount: 0, averageCompleteness: null, lowestCompleteness: null, mostOftenMissing: [] },
    });
  });

  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const base = {
    trajectoryId: 'trajectory-refused',
    patientId: 'patient-refused',
    fromProviderId: 'provider-a',
    toProviderId: 'provider-b',
    handedOverOn: '2025-06-01',
    items: ['SETTING'],
  };
  it.each<[string, Record<string, unknown>, string]>([
    ['duplicate items', { items: ['SETTING', 'POPULATION', 'SETTING'] }, 'items'],
    ['a date in the future', { handedOverOn: tomorrow }, 'handedOverOn'],
    ['the same provider on both sides', { toProviderId: 'provider-a' }, 'toProviderId'],
  ])('refuses %s with BAD_USER_INPUT and writes nothing', async (_, change, field) => {
    const before = await sg.prisma.handover.count();
    const result = await gql(RECORD, { input: { ...base, ...change } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await sg.prisma.handover.count()).toBe(before);
  });

  it('refuses a patient that does not match the trajectory and writes nothing', async () => {
    const { seeded, receiver } = await receivingCase();
    const before = await sg.prisma.handover.count();
    const result = await gql(
      RECORD,
      { input: { ...base, trajectoryId: seeded.trajectoryId, patientId: 'someone-else', toProviderId: receiver } },
      asProvider(receiver),
    );
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'patientId' });
    expect(await sg.prisma.handover.count()).toBe(before);
  });

  it('refuses a handover without an actor with UNAUTHENTICATED and writes nothing', async () => {
    const before = await sg.prisma.handover.count();
    const result = await gql(RECORD, { input: base }, null);
    expect(errorCode(result)).toBe('UNAUTHENTICATED');
    expect(await sg.prisma.handover.count()).toBe(before);
  });
});

describe('batching', () => {
  it('resolves the handovers of 20 trajectories in as many statements as of 2', async () => {
    const rows = await sg.prisma.handover.findMany({ distinct: ['trajectoryId'], select: { trajectoryId: true }, orderBy: { trajectoryId: 'asc' }, take: 20 });
    expect(rows).toHaveLength(20);
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Trajectory {
      handovers { edges { node { completeness missingItems } } } handoverQuality { averageCompleteness }
    } } }`;
    const represent = (n: number) => rows.slice(0, n).map((row) => ({ __typename: 'Trajectory', id: row.trajectoryId }));
    const two = await statementsFor(query, { r: represent(2) });
    const twenty = await statementsFor(query, { r: represent(20) });
    expect(twenty.result.data!._entities).toHaveLength(20);
    expect(twenty.result.data!._entities.every((t: any) => t.handovers.edges.length > 0 && t.handoverQuality.averageCompleteness !== null)).toBe(true);
    expect(twenty.statements).toBe(two.statements);
    expect(two.statements).toBe(1); // handovers and handoverQuality share one batched load
  });

  it('resolves the quality reports of 20 providers in as many statements as of 2', async () => {
    const rows = await sg.prisma.qualityReport.findMany({ distinct: ['providerId'], select: { providerId: true }, orderBy: { providerId: 'asc' }, take: 20 });
    expect(rows).toHaveLength(20);
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Provider {
      qualityReports { edges { node { pillarScores { pillar { number } maturity } indicators { code } } } }
    } } }`;
    const represent = (n: number) => rows.slice(0, n).map((row) => ({ __typename: 'Provider', id: row.providerId }));
    const two = await statementsFor(query, { r: represent(2) });
    const twenty = await statementsFor(query, { r: represent(20) });
    const reports = twenty.result.data!._entities.flatMap((p: any) => p.qualityReports.edges.map((e: any) => e.node));
    expect(reports.length).toBeGreaterThanOrEqual(60);
    expect(reports.every((r: any) => r.pillarScores.length === 5 && r.indicators.length > 0)).toBe(true);
    expect(twenty.statements).toBe(two.statements);
    expect(two.statements).toBe(2); // reports with their pillar scores, indicators
  });

  it("pages through a provider's reports, newest year first", async () => {
    const { providerId } = await sg.prisma.qualityReport.findFirstOrThrow({ where: { year: 2023 }, orderBy: { providerId: 'asc' } });
    const query = `query($r: [_Any!]!, $after: String) { _entities(representations: $r) { ... on Provider {
      qualityReports(first: 2, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { year } } }
    } } }`;
    const first = (await gql(query, { r: [{ __typename: 'Provider', id: providerId }] })).data!._entities[0].qualityReports;
    expect(first.edges.map((e: any) => e.node.year)).toEqual([2025, 2024]);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = (await gql(query, { r: [{ __typename: 'Provider', id: providerId }], after: first.pageInfo.endCursor })).data!._entities[0].qualityReports;
    expect(second.edges.map((e: any) => e.node.year)).toEqual([2023]);
    expect(second.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });
});

describe('the hot reads in SQL (loaders.ts) return the rows Prisma does', () => {
  it('handovers of trajectories, quality reports of providers with their pillar scores', async () => {
    const handovers = await sg.prisma.handover.findMany({ orderBy: { id: 'asc' }, take: 10 });
    const trajectoryIds = [...new Set(handovers.map((h) => h.trajectoryId))];
    expect(trajectoryIds.length).toBeGreaterThan(0);
    expect(await reads.handoversByTrajectory(sg.db, trajectoryIds)).toEqual(
      await sg.prisma.handover.findMany({ where: { trajectoryId: { in: trajectoryIds } }, orderBy: [{ handedOverOn: 'desc' }, { id: 'asc' }] }),
    );
    const providerIds = [...new Set((await sg.prisma.qualityReport.findMany({ take: 5, orderBy: { id: 'asc' } })).map((r) => r.providerId))];
    const expected = await sg.prisma.qualityReport.findMany({
      where: { providerId: { in: providerIds } },
      orderBy: [{ year: 'desc' }, { id: 'asc' }],
      include: { pillarScores: { orderBy: { pillar: 'asc' } } },
    });
    expect(expected.some((r) => r.pillarScores.length > 1)).toBe(true);
    expect(await reads.qualityReportsByProvider(sg.db, providerIds)).toEqual(expected);
  });
});
