import { syntheticBsn } from '@ketengraph/seed-data';
import { startSubgraph, type Actor, type RunningSubgraph } from '@ketengraph/service-kit';
import { createTestGateway } from '@ketengraph/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import { reads } from '../src/loaders.js';
import { indicatiestelling } from '../src/subgraph.js';

interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const NIFP: Actor = { userId: 'user-nifp-7', organisationId: 'nifp', role: 'indicatiesteller' };
/** The probation organisation the test trajectories are assigned to: it may scale within the bounds (the write rules). */
const PROBATION: Actor = { userId: 'user-rn-3', organisationId: 'RECLASSERING_NEDERLAND', role: 'reclassering' };

let sg: RunningSubgraph<PrismaClient>;
const gateway = await createTestGateway();

beforeAll(async () => {
  sg = await startSubgraph(indicatiestelling, { port: 0, dataDir: 'memory://', seedPatients: 30, gatewayKeys: gateway.gatewayKeys });
});

afterAll(async () => {
  await sg?.close();
});

async function gql<T = any>(query: string, variables: Record<string, unknown> = {}, actor: Actor | null = NIFP): Promise<GraphQLResponse<T>> {
  const response = await fetch(sg.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(actor ? await gateway.authorization(actor) : {}) },
    body: JSON.stringify({ query, variables }),
  });
  expect(response.headers.get('content-type')).toMatch(/json/);
  return (await response.json()) as GraphQLResponse<T>;
}

/** Data of a request that must succeed. */
async function ok<T = any>(query: string, variables: Record<string, unknown> = {}, actor: Actor | null = NIFP): Promise<T> {
  const result = await gql<T>(query, variables, actor);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

/** The error code of a request that must be refused. */
async function refusedWith(query: string, variables: Record<string, unknown> = {}, actor: Actor | null = NIFP): Promise<string> {
  const result = await gql(query, variables, actor);
  expect(result.errors, 'expected a refusal').toHaveLength(1);
  return String(result.errors![0]!.extensions?.code);
}

// Fresh BSNs from the synthetic range, far above the 30 seeded patients.
let nextBsn = 80_000;
const freshBsn = () => syntheticBsn(nextBsn++);

const REGISTER = `mutation ($input: RegisterPatientInput!) {
  registerPatient(input: $input) { id bsn birthDate name { given prefix family full } trajectories { totalCount } }
}`;
const OPEN = `mutation ($input: OpenTrajectoryInput!) {
  openTrajectory(input: $input) { id status currentCareType currentSecurityLevel currentPhase { ordinal } patient { id } legalTitle { kind startsOn endsOn } }
}`;
const ISSUE = `mutation ($input: IssueIndicationInput!) {
  issueIndication(input: $input) { id status careType securityLevel trajectory { id currentCareType currentSecurityLevel } }
}`;
const WITHDRAW = `mutation ($id: ID!, $reason: String!) { withdrawIndication(indicationId: $id, reason: $reason) { id status } }`;
const ISSUE_TI = `mutation ($input: IssueTrajectoryIndicationInput!) {
  issueTrajectoryIndication(input: $input) {
    id currentPhase { ordinal name }
    trajectoryIndication { issuer issuedOn phases { ordinal name minSecurityLevel maxSecurityLevel careTypes } }
  }
}`;
const SCALE = `mutation ($input: RecordScalingDecisionInput!) {
  recordScalingDecision(input: $input) {
    id phase fromCareType fromSecurityLevel toCareType toSecurityLevel reason decidedBy decidedByOrganisation decidedAt
  }
}`;
const ADVANCE = `mutation ($id: ID!) { advanceTrajectoryPhase(trajectoryId: $id) { id currentPhase { ordinal } currentCareType currentSecurityLevel } }`;
const CLOSE = `mutation ($id: ID!, $endsOn: Date!) { closeTrajectory(trajectoryId: $id, endsOn: $endsOn) { id status legalTitle { endsOn } } }`;
const TRAJECTORY = `query ($id: ID!) {
  trajectory(id: $id) {
    id status currentCareType currentSecurityLevel currentPhase { ordinal }
    indications { totalCount edges { node { id status } } }
    scalingDecisions { totalCount edges { node { id toCareType toSecurityLevel } } }
  }
}`;

/** Three phases as a TBS trajectory indication has them: clinical, resocialisation, transmural. */
const TBS_PHASES = [
  { name: 'Klinische behandeling', minSecurityLevel: 4, maxSecurityLevel: 5, careTypes: ['KLINISCH'] },
  { name: 'Resocialisatie', minSecurityLevel: 2, maxSecurityLevel: 4, careTypes: ['KLINISCH', 'VERBLIJF'] },
  { name: 'Transmuraal verlof', minSecurityLevel: 1, maxSecurityLevel: 2, careTypes: ['VERBLIJF', 'AMBULANT'] },
];

async function registerPatient(): Promise<string> {
  const data = await ok(REGISTER, { input: { bsn: freshBsn(), givenName: 'Test', familyName: 'Persoon', birthDate: '1990-05-17' } });
  return data.registerPatient.id;
}

async function openTrajectory(careType = 'KLINISCH', securityLevel = 4): Promise<string> {
  const patientId = await registerPatient();
  const data = await ok(OPEN, {
    input: {
      patientId,
      legalTitle: 'TBS_DWANGVERPLEGING',
      titleStartsOn: '2025-03-01',
      careType,
      securityLevel,
      probationOrganisation: PROBATION.organisationId,
    },
  });
  return data.openTrajectory.id;
}

async function trajectoryWithPhases(careType = 'KLINISCH', securityLevel = 4): Promise<string> {
  const id = await openTrajectory(careType, securityLevel);
  await ok(ISSUE_TI, { input: { trajectoryId: id, issuer: 'NIFP', issuedOn: '2025-03-01', phases: TBS_PHASES } });
  return id;
}

const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

describe('registerPatient', () => {
  it('registers a valid patient', async () => {
    const bsn = freshBsn();
    const data = await ok(REGISTER, { input: { bsn, givenName: ' Sanne ', familyNamePrefix: 'van der', familyName: 'Meer', birthDate: '1988-02-29' } });
    expect(data.registerPatient).toMatchObject({
      bsn,
      birthDate: '1988-02-29',
      name: { given: 'Sanne', prefix: 'van der', family: 'Meer', full: 'Sanne van der Meer' },
      trajectories: { totalCount: 0 },
    });
    const byBsn = await ok(`query ($bsn: BSN!) { patientByBsn(bsn: $bsn) { id } }`, { bsn });
    expect(byBsn.patientByBsn.id).toBe(data.registerPatient.id);
  });

  it('refuses a BSN that fails the 11-check, without echoing it, and stores nothing', async () => {
    const before = await sg.prisma.patient.count();
    const result = await gql(REGISTER, { input: { bsn: '111222334', givenName: 'Test', familyName: 'Persoon', birthDate: '1990-01-01' } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(result.errors?.[0]?.message).toMatch(/11-check/);
    expect(result.errors?.[0]?.message).not.toContain('111222334');
    expect(await sg.prisma.patient.count()).toBe(before);
  });

  it('refuses a second patient with the same BSN as ALREADY_EXISTS', async () => {
    const bsn = freshBsn();
    await ok(REGISTER, { input: { bsn, givenName: 'Eerste', familyName: 'Persoon', birthDate: '1990-01-01' } });
    const result = await gql(REGISTER, { input: { bsn, givenName: 'Tweede', familyName: 'Persoon', birthDate: '1991-01-01' } });
    expect(result.errors?.[0]?.extensions?.code).toBe('ALREADY_EXISTS');
    expect(result.errors?.[0]?.message).not.toContain(bsn);
    expect(await sg.prisma.patient.count({ where: { bsn } })).toBe(1);
    expect((await sg.prisma.patient.findUnique({ where: { bsn } }))?.givenName).toBe('Eerste');
  });

  it('refuses a BSN of a seeded patient', async () => {
    expect(await refusedWith(REGISTER, { input: { bsn: syntheticBsn(3), givenName: 'Test', familyName: 'Persoon', birthDate: '1990-01-01' } })).toBe(
      'ALREADY_EXISTS',
    );
  });

  it('refuses a birth date in the future and a date that does not exist', async () => {
    const bsn = freshBsn();
    expect(await refusedWith(REGISTER, { input: { bsn, givenName: 'Test', familyName: 'Persoon', birthDate: tomorrow() } })).toBe('BAD_USER_INPUT');
    expect(await refusedWith(REGISTER, { input: { bsn, givenName: 'Test', familyName: 'Persoon', birthDate: '1990-02-30' } })).toBe('BAD_USER_INPUT');
    expect(await sg.prisma.patient.count({ where: { bsn } })).toBe(0);
  });

  it('refuses a blank name', async () => {
    expect(await refusedWith(REGISTER, { input: { bsn: freshBsn(), givenName: '  ', familyName: 'Persoon', birthDate: '1990-01-01' } })).toBe('BAD_USER_INPUT');
  });
});

describe('openTrajectory', () => {
  it('opens an active trajectory for the patient without a trajectory indication', async () => {
    const patientId = await registerPatient();
    const data = await ok(OPEN, {
      input: { patientId, legalTitle: 'PIJ', titleStartsOn: '2025-06-01', probationOrganisation: 'SVG', careType: 'KLINISCH', securityLevel: 3 },
    });
    expect(data.openTrajectory).toMatchObject({
      status: 'ACTIVE',
      currentCareType: 'KLINISCH',
      currentSecurityLevel: 3,
      currentPhase: null,
      patient: { id: patientId },
      legalTitle: { kind: 'PIJ', startsOn: '2025-06-01', endsOn: null },
    });
    const patient = await ok(`query ($id: ID!) { patient(id: $id) { trajectories { totalCount edges { node { id } } } } }`, { id: patientId });
    expect(patient.patient.trajectories.edges.map((e: any) => e.node.id)).toEqual([data.openTrajectory.id]);
  });

  it('refuses an unknown patient, a level outside 1..5 and a start in the future', async () => {
    const patientId = await registerPatient();
    const input = { patientId, legalTitle: 'ISD', titleStartsOn: '2025-01-01', careType: 'KLINISCH', securityLevel: 2 };
    expect(await refusedWith(OPEN, { input: { ...input, patientId: 'no-such-patient' } })).toBe('NOT_FOUND');
    expect(await refusedWith(OPEN, { input: { ...input, securityLevel: 6 } })).toBe('BAD_USER_INPUT');
    expect(await refusedWith(OPEN, { input: { ...input, titleStartsOn: tomorrow() } })).toBe('BAD_USER_INPUT');
    expect(await sg.prisma.trajectory.count({ where: { patientId } })).toBe(0);
  });
});

describe('indications', () => {
  const indication = (trajectoryId: string, careType: string, securityLevel: number) => ({
    input: { trajectoryId, issuer: 'NIFP', careType, securityLevel, intensity: 'HOOG', validFrom: '2025-03-01', validUntil: '2026-03-01' },
  });

  it('issueIndication supersedes the issued one and sets the current care', async () => {
    const trajectoryId = await openTrajectory('KLINISCH', 4);
    const first = (await ok(ISSUE, indication(trajectoryId, 'KLINISCH', 5))).issueIndication;
    expect(first).toMatchObject({ status: 'ISSUED', trajectory: { id: trajectoryId, currentCareType: 'KLINISCH', currentSecurityLevel: 5 } });
    const second = (await ok(ISSUE, indication(trajectoryId, 'VERBLIJF', 2))).issueIndication;
    expect(second.status).toBe('ISSUED');

    const { trajectory } = await ok(TRAJECTORY, { id: trajectoryId });
    expect(trajectory).toMatchObject({ currentCareType: 'VERBLIJF', currentSecurityLevel: 2 });
    const statuses = Object.fromEntries(trajectory.indications.edges.map((e: any) => [e.node.id, e.node.status]));
    expect(statuses).toEqual({ [first.id]: 'SUPERSEDED', [second.id]: 'ISSUED' });
  });

  it('refuses a validity that ends before it starts, and changes nothing', async () => {
    const trajectoryId = await openTrajectory('KLINISCH', 4);
    const bad = indication(trajectoryId, 'KLINISCH', 3);
    bad.input.validUntil = '2025-02-28';
    expect(await refusedWith(ISSUE, bad)).toBe('BAD_USER_INPUT');
    expect(await refusedWith(ISSUE, indication('no-such-trajectory', 'KLINISCH', 3))).toBe('NOT_FOUND');
    const { trajectory } = await ok(TRAJECTORY, { id: trajectoryId });
    expect(trajectory).toMatchObject({ currentSecurityLevel: 4, indications: { totalCount: 0 } });
  });

  it('withdrawIndication withdraws an issued one and refuses a superseded one', async () => {
    const trajectoryId = await openTrajectory('KLINISCH', 4);
    const first = (await ok(ISSUE, indication(trajectoryId, 'KLINISCH', 4))).issueIndication;
    const second = (await ok(ISSUE, indication(trajectoryId, 'KLINISCH', 5))).issueIndication;

    expect(await refusedWith(WITHDRAW, { id: first.id, reason: 'Vergissing' })).toBe('INVALID_TRANSITION');
    expect((await sg.prisma.indication.findUnique({ where: { id: first.id } }))?.status).toBe('SUPERSEDED');

    const withdrawn = (await ok(WITHDRAW, { id: second.id, reason: 'Titel vervallen' })).withdrawIndication;
    expect(withdrawn).toEqual({ id: second.id, status: 'WITHDRAWN' });
    expect((await sg.prisma.indication.findUnique({ where: { id: second.id } }))?.statusReason).toBe('Titel vervallen');
    expect(await refusedWith(WITHDRAW, { id: second.id, reason: 'Nogmaals' })).toBe('INVALID_TRANSITION');
    expect(await refusedWith(WITHDRAW, { id: 'no-such-indication', reason: 'x' })).toBe('NOT_FOUND');
    expect(await refusedWith(WITHDRAW, { id: second.id, reason: '   ' })).toBe('BAD_USER_INPUT');
  });
});

describe('issueTrajectoryIndication', () => {
  it('issues the phases in order and starts at phase 1', async () => {
    const trajectoryId = await openTrajectory('KLINISCH', 4);
    const data = await ok(ISSUE_TI, { input: { trajectoryId, issuer: 'NIFP', issuedOn: '2025-03-01', phases: TBS_PHASES } });
    expect(data.issueTrajectoryIndication.currentPhase).toEqual({ ordinal: 1, name: 'Klinische behandeling' });
    expect(data.issueTrajectoryIndication.trajectoryIndication).toEqual({
      issuer: 'NIFP',
      issuedOn: '2025-03-01',
      phases: TBS_PHASES.map((phase, i) => ({ ordinal: i + 1, ...phase })),
    });
  });

  it('replaces an earlier trajectory indication completely', async () => {
    const trajectoryId = await trajectoryWithPhases('KLINISCH', 4);
    const replacement = [{ name: 'Overplaatsing naar zorg', minSecurityLevel: 3, maxSecurityLevel: 4, careTypes: ['KLINISCH'] }];
    // Another indication body cannot replace it (nor issue in another's name); the issuing body can.
    const PMO: Actor = { userId: 'user-pmo-1', organisationId: 'PMO', role: 'indicatiesteller' };
    expect(await refusedWith(ISSUE_TI, { input: { trajectoryId, issuer: 'PMO', issuedOn: '2025-04-01', phases: replacement } }, PMO)).toBe('FORBIDDEN');
    expect(await refusedWith(ISSUE_TI, { input: { trajectoryId, issuer: 'PMO', issuedOn: '2025-04-01', phases: replacement } })).toBe('FORBIDDEN');
    const data = await ok(ISSUE_TI, { input: { trajectoryId, issuer: 'NIFP', issuedOn: '2025-04-01', phases: replacement } });
    expect(data.issueTrajectoryIndication.trajectoryIndication).toMatchObject({
      issuer: 'NIFP',
      issuedOn: '2025-04-01',
      phases: [{ ordinal: 1, ...replacement[0] }],
    });
    expect(await sg.prisma.trajectoryIndication.count({ where: { trajectoryId } })).toBe(1);
  });

  it('refuses phases whose first phase does not fit the current care, and malformed phases', async () => {
    const trajectoryId = await openTrajectory('AMBULANT', 1);
    const input = { trajectoryId, issuer: 'NIFP', issuedOn: '2025-03-01', phases: TBS_PHASES };
    expect(await refusedWith(ISSUE_TI, { input })).toBe('BAD_USER_INPUT');
    expect(await refusedWith(ISSUE_TI, { input: { ...input, phases: [] } })).toBe('BAD_USER_INPUT');
    expect(await refusedWith(ISSUE_TI, { input: { ...input, phases: [{ ...TBS_PHASES[2], minSecurityLevel: 3, maxSecurityLevel: 1 }] } })).toBe(
      'BAD_USER_INPUT',
    );
    expect(await sg.prisma.trajectoryIndication.count({ where: { trajectoryId } })).toBe(0);
  });
});

describe('recordScalingDecision', () => {
  it('records a decision inside the bounds and updates the current care', async () => {
    const trajectoryId = await trajectoryWithPhases('KLINISCH', 4);
    const data = await ok(SCALE, { input: { trajectoryId, careType: 'KLINISCH', securityLevel: 5, reason: 'Escalatie op de afdeling' } }, PROBATION);
    expect(data.recordScalingDecision).toMatchObject({
      phase: 1,
      fromCareType: 'KLINISCH',
      fromSecurityLevel: 4,
      toCareType: 'KLINISCH',
      toSecurityLevel: 5,
      reason: 'Escalatie op de afdeling',
      decidedBy: PROBATION.userId,
      decidedByOrganisation: PROBATION.organisationId,
    });
    expect(Number.isNaN(Date.parse(data.recordScalingDecision.decidedAt))).toBe(false);
    const { trajectory } = await ok(TRAJECTORY, { id: trajectoryId });
    expect(trajectory).toMatchObject({
      currentCareType: 'KLINISCH',
      currentSecurityLevel: 5,
      scalingDecisions: { totalCount: 1, edges: [{ node: { id: data.recordScalingDecision.id, toSecurityLevel: 5 } }] },
    });
  });

  it.each([
    ['below the lowest level', 'KLINISCH', 3],
    ['a care type the phase does not allow', 'VERBLIJF', 4],
  ])('refuses %s with REINDICATION_REQUIRED and changes nothing', async (_, careType, securityLevel) => {
    const trajectoryId = await trajectoryWithPhases('KLINISCH', 4);
    const result = await gql(SCALE, { input: { trajectoryId, careType, securityLevel, reason: 'Afschalen' } }, PROBATION);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'REINDICATION_REQUIRED', phase: 1, minSecurityLevel: 4, maxSecurityLevel: 5 });
    expect(result.data).toEqual({ recordScalingDecision: null });
    expect(await sg.prisma.scalingDecision.count({ where: { trajectoryId } })).toBe(0);
    expect(
      await sg.prisma.trajectory.findUnique({ where: { id: trajectoryId }, select: { currentCareType: true, currentSecurityLevel: true, currentPhase: true } }),
    ).toEqual({ currentCareType: 'KLINISCH', currentSecurityLevel: 4, currentPhase: 1 });
  });

  it('refuses above the highest level of the current phase', async () => {
    const trajectoryId = await trajectoryWithPhases('KLINISCH', 4);
    await ok(ADVANCE, { id: trajectoryId });
    expect(await refusedWith(SCALE, { input: { trajectoryId, careType: 'KLINISCH', securityLevel: 5, reason: 'Opschalen' } }, PROBATION)).toBe(
      'REINDICATION_REQUIRED',
    );
    expect(await sg.prisma.scalingDecision.count({ where: { trajectoryId } })).toBe(0);
  });

  it('requires a re-indication for any change in a trajectory without a trajectory indication', async () => {
    const trajectoryId = await openTrajectory('KLINISCH', 4);
    expect(await refusedWith(SCALE, { input: { trajectoryId, careType: 'KLINISCH', securityLevel: 3, reason: 'Afschalen' } }, PROBATION)).toBe(
      'REINDICATION_REQUIRED',
    );
    expect(await sg.prisma.scalingDecision.count({ where: { trajectoryId } })).toBe(0);
  });

  it('refuses a request without an actor as UNAUTHENTICATED and changes nothing', async () => {
    const trajectoryId = await trajectoryWithPhases('KLINISCH', 4);
    expect(await refusedWith(SCALE, { input: { trajectoryId, careType: 'KLINISCH', securityLevel: 5, reason: 'Opschalen' } }, null)).toBe('UNAUTHENTICATED');
    expect(await sg.prisma.scalingDecision.count({ where: { trajectoryId } })).toBe(0);
    expect((await sg.prisma.trajectory.findUnique({ where: { id: trajectoryId } }))?.currentSecurityLevel).toBe(4);
  });

  it('refuses a token the gateway did not sign as UNAUTHENTICATED and changes nothing', async () => {
    const trajectoryId = await trajectoryWithPhases('KLINISCH', 4);
    const impostor = await createTestGateway();
    const response = await fetch(sg.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await impostor.authorization(NIFP)) },
      body: JSON.stringify({ query: SCALE, variables: { input: { trajectoryId, careType: 'KLINISCH', securityLevel: 5, reason: 'Opschalen' } } }),
    });
    expect(response.status).toBe(401);
    const result = (await response.json()) as GraphQLResponse;
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await sg.prisma.scalingDecision.count({ where: { trajectoryId } })).toBe(0);
  });

  it('refuses unknown and closed trajectories', async () => {
    expect(await refusedWith(SCALE, { input: { trajectoryId: 'no-such-trajectory', careType: 'KLINISCH', securityLevel: 4, reason: 'x' } }, PROBATION)).toBe(
      'NOT_FOUND',
    );
    const trajectoryId = await trajectoryWithPhases('KLINISCH', 4);
    await ok(CLOSE, { id: trajectoryId, endsOn: '2026-01-01' });
    // Supervision ends with the trajectory: the probation organisation may no longer scale it.
    expect(await refusedWith(SCALE, { input: { trajectoryId, careType: 'KLINISCH', securityLevel: 5, reason: 'x' } }, PROBATION)).toBe('FORBIDDEN');
  });
});

describe('advanceTrajectoryPhase', () => {
  it('advances through the phases while the current care fits, then refuses at the last phase', async () => {
    const trajectoryId = await trajectoryWithPhases('KLINISCH', 4);
    expect((await ok(ADVANCE, { id: trajectoryId })).advanceTrajectoryPhase.currentPhase).toEqual({ ordinal: 2 });
    await ok(SCALE, { input: { trajectoryId, careType: 'VERBLIJF', securityLevel: 2, reason: 'Resocialisatie loopt goed' } }, PROBATION);
    expect((await ok(ADVANCE, { id: trajectoryId })).advanceTrajectoryPhase).toMatchObject({
      currentPhase: { ordinal: 3 },
      currentCareType: 'VERBLIJF',
      currentSecurityLevel: 2,
    });
    expect(await refusedWith(ADVANCE, { id: trajectoryId })).toBe('INVALID_TRANSITION');
    expect((await sg.prisma.trajectory.findUnique({ where: { id: trajectoryId } }))?.currentPhase).toBe(3);
  });

  it('requires a re-indication when the current care does not fit the next phase, and stays put', async () => {
    const trajectoryId = await trajectoryWithPhases('KLINISCH', 4);
    await ok(SCALE, { input: { trajectoryId, careType: 'KLINISCH', securityLevel: 5, reason: 'Escalatie' } }, PROBATION);
    const result = await gql(ADVANCE, { id: trajectoryId });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'REINDICATION_REQUIRED', phase: 2 });
    expect((await sg.prisma.trajectory.findUnique({ where: { id: trajectoryId } }))?.currentPhase).toBe(1);
  });

  it('refuses a trajectory without a trajectory indication, an unknown one and a closed one', async () => {
    expect(await refusedWith(ADVANCE, { id: await openTrajectory() })).toBe('INVALID_TRANSITION');
    expect(await refusedWith(ADVANCE, { id: 'no-such-trajectory' })).toBe('NOT_FOUND');
    const closed = await trajectoryWithPhases('KLINISCH', 4);
    await ok(CLOSE, { id: closed, endsOn: '2026-01-01' });
    expect(await refusedWith(ADVANCE, { id: closed })).toBe('INVALID_TRANSITION');
    expect((await sg.prisma.trajectory.findUnique({ where: { id: closed } }))?.currentPhase).toBe(1);
  });
});

describe('closeTrajectory', () => {
  it('closes the trajectory, ends the title and expires its issued indication', async () => {
    const trajectoryId = await openTrajectory('KLINISCH', 4);
    const issued = await ok(ISSUE, {
      input: { trajectoryId, issuer: 'NIFP', careType: 'KLINISCH', securityLevel: 4, intensity: 'MIDDEL', validFrom: '2025-03-01', validUntil: '2027-03-01' },
    });
    const data = await ok(CLOSE, { id: trajectoryId, endsOn: '2026-06-30' });
    expect(data.closeTrajectory).toEqual({ id: trajectoryId, status: 'CLOSED', legalTitle: { endsOn: '2026-06-30' } });
    expect((await sg.prisma.indication.findUnique({ where: { id: issued.issueIndication.id } }))?.status).toBe('EXPIRED');
  });

  it('refuses closing twice, an end before the start and an unknown trajectory', async () => {
    const trajectoryId = await openTrajectory();
    expect(await refusedWith(CLOSE, { id: trajectoryId, endsOn: '2025-02-28' })).toBe('BAD_USER_INPUT');
    expect((await sg.prisma.trajectory.findUnique({ where: { id: trajectoryId } }))?.status).toBe('ACTIVE');
    await ok(CLOSE, { id: trajectoryId, endsOn: '2026-01-01' });
    expect(await refusedWith(CLOSE, { id: trajectoryId, endsOn: '2026-02-01' })).toBe('INVALID_TRANSITION');
    expect((await sg.prisma.trajectory.findUnique({ where: { id: trajectoryId } }))?.titleEndsOn?.toISOString().slice(0, 10)).toBe('2026-01-01');
    expect(await refusedWith(CLOSE, { id: 'no-such-trajectory', endsOn: '2026-01-01' })).toBe('NOT_FOUND');
  });
});

describe('patients pagination', () => {
  const PAGE = `query ($first: Int, $after: String) {
    patients(first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } }
  }`;

  it('walks all patients in pages that do not overlap', async () => {
    const total = await sg.prisma.patient.count();
    expect(total).toBeGreaterThan(30);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { patients }: { patients: any } = await ok(PAGE, { first: 7, after });
      expect(patients.totalCount).toBe(total);
      expect(patients.pageInfo.hasPreviousPage).toBe(after !== null);
      expect(patients.pageInfo.endCursor).toBe(patients.edges.at(-1)?.cursor ?? null);
      seen.push(...patients.edges.map((e: any) => e.node.id));
      pages++;
      if (!patients.pageInfo.hasNextPage) break;
      expect(patients.edges).toHaveLength(7);
      after = patients.pageInfo.endCursor;
    }
    expect(pages).toBe(Math.ceil(total / 7));
    expect(new Set(seen).size).toBe(total);
    expect(seen).toEqual([...seen].sort());
  });

  it('defaults to 20 and refuses first above 100 or below 0', async () => {
    expect((await ok(PAGE, {})).patients.edges).toHaveLength(20);
    expect(await refusedWith(PAGE, { first: 101 })).toBe('BAD_USER_INPUT');
    expect(await refusedWith(PAGE, { first: -1 })).toBe('BAD_USER_INPUT');
    expect((await ok(PAGE, { first: 100 })).patients.edges.length).toBeGreaterThan(20);
  });

  it('refuses a cursor it did not hand out', async () => {
    expect(await refusedWith(PAGE, { first: 5, after: 'not a cursor!' })).toBe('BAD_USER_INPUT');
    expect(await refusedWith(PAGE, { first: 5, after: 'YWJj=' })).toBe('BAD_USER_INPUT');
  });

  it('refuses a cursor of another list in a nested connection', async () => {
    const { patients } = await ok(PAGE, { first: 1 });
    const query = `query ($id: ID!, $after: String) { patient(id: $id) { trajectories(after: $after) { totalCount } } }`;
    expect(await refusedWith(query, { id: patients.edges[0].node.id, after: patients.edges[0].cursor })).toBe('BAD_USER_INPUT');
  });
});

describe('batching: the statements for a list do not grow with its length', () => {
  const TRAJECTORY_FIELDS = `
    id currentPhase { ordinal name }
    patient { id name { full } }
    trajectoryIndication { issuer phases { ordinal careTypes } }
    indications { edges { node { status trajectory { id } } } }
    scalingDecisions { totalCount }`;

  async function statementsFor(query: string, variables: Record<string, unknown>): Promise<{ statements: number; data: any }> {
    const before = sg.db.statementCount();
    const data = await ok(query, variables);
    return { statements: sg.db.statementCount() - before, data };
  }

  it('patients(first) with nested trajectories, phases, indications and scaling decisions', async () => {
    const query = `query ($first: Int) {
      patients(first: $first) { edges { node { name { full } trajectories { edges { node {
        currentPhase { ordinal } trajectoryIndication { phases { ordinal } } indications { edges { node { status } } } scalingDecisions { totalCount }
      } } } } } }
    }`;
    // Five, not two: patients added by earlier tests (random ids) may sort first and lack a
    // trajectory indication, which would skip the phases statement for the small page only.
    const small = await statementsFor(query, { first: 5 });
    const large = await statementsFor(query, { first: 20 });
    expect(small.data.patients.edges).toHaveLength(5);
    expect(small.data.patients.edges.some((e: any) => e.node.trajectories.edges.some((t: any) => t.node.trajectoryIndication))).toBe(true);
    expect(large.data.patients.edges).toHaveLength(20);
    const trajectories = large.data.patients.edges.flatMap((e: any) => e.node.trajectories.edges.map((t: any) => t.node));
    expect(trajectories.length).toBeGreaterThanOrEqual(20);
    expect(trajectories.filter((t: any) => t.trajectoryIndication?.phases.length > 0).length).toBeGreaterThan(2);
    expect(trajectories.filter((t: any) => t.indications.edges.length > 0).length).toBeGreaterThan(2);
    expect(small.statements).toBeGreaterThan(0);
    expect(large.statements).toBe(small.statements);
  });

  it('_entities for Patient representations', async () => {
    // The first patient has a trajectory indication, so the small batch takes every path the large one does
    // (earlier tests add patients with random ids, so "the first 20 by id" alone varies between runs).
    const withPhases = await sg.prisma.trajectory.findFirstOrThrow({
      where: { trajectoryIndication: { isNot: null } },
      orderBy: { id: 'asc' },
      select: { patientId: true },
    });
    // Seeded patients only (registered before the seed's last date): the ones earlier tests add have random ids and shapes.
    const others = await sg.prisma.patient.findMany({
      where: { id: { not: withPhases.patientId }, registeredAt: { lt: new Date('2025-07-01T00:00:00Z') } },
      orderBy: { id: 'asc' },
      take: 19,
      select: { id: true },
    });
    const ids = [withPhases.patientId, ...others.map((p) => p.id)];
    const query = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Patient {
      id name { full } trajectories { edges { node { ${TRAJECTORY_FIELDS} } } }
    } } }`;
    const reps = (n: number) => ({ representations: ids.slice(0, n).map((id) => ({ __typename: 'Patient', id })) });
    const small = await statementsFor(query, reps(2));
    const large = await statementsFor(query, reps(20));
    expect(large.data._entities.map((e: any) => e.id)).toEqual(ids);
    expect(large.statements).toBe(small.statements);
  });

  it('_entities for Trajectory representations, with a trajectory indication and scaling decisions', async () => {
    const scaled = await trajectoryWithPhases('KLINISCH', 4);
    await ok(SCALE, { input: { trajectoryId: scaled, careType: 'KLINISCH', securityLevel: 5, reason: 'Escalatie' } }, PROBATION);
    const others = (await sg.prisma.trajectory.findMany({ where: { id: { not: scaled } }, orderBy: { id: 'asc' }, take: 19, select: { id: true } })).map(
      (t) => t.id,
    );
    const ids = [scaled, ...others];
    const query = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Trajectory { ${TRAJECTORY_FIELDS} } } }`;
    const reps = (n: number) => ({ representations: ids.slice(0, n).map((id) => ({ __typename: 'Trajectory', id })) });
    const small = await statementsFor(query, reps(2));
    const large = await statementsFor(query, reps(20));
    expect(large.data._entities.map((e: any) => e.id)).toEqual(ids);
    expect(large.data._entities[0]).toMatchObject({
      currentPhase: { ordinal: 1 },
      trajectoryIndication: { phases: [{ ordinal: 1 }, { ordinal: 2 }, { ordinal: 3 }] },
      scalingDecisions: { totalCount: 1 },
    });
    expect(large.statements).toBe(small.statements);
  });

  it('a mixed batch of both entity types resolves unknown ids to null', async () => {
    const [patient] = await sg.prisma.patient.findMany({ take: 1 });
    const query = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Patient { id } ... on Trajectory { id } } }`;
    const data = await ok(query, {
      representations: [
        { __typename: 'Patient', id: patient!.id },
        { __typename: 'Trajectory', id: 'missing' },
      ],
    });
    expect(data._entities).toEqual([{ id: patient!.id }, null]);
  });
});

describe('the hot reads in SQL (loaders.ts) return the rows Prisma does', () => {
  it('patients (alone and with their trajectories), trajectories (alone and with their details), indications and trajectory indications with their phases', async () => {
    const trajectories = await sg.prisma.trajectory.findMany({ where: { trajectoryIndication: { isNot: null } }, orderBy: { id: 'asc' }, take: 10 });
    const patientIds = [...new Set(trajectories.map((t) => t.patientId))];
    const trajectoryIds = trajectories.map((t) => t.id);
    const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(await reads.patients(sg.db, patientIds))).toEqual(byId(await sg.prisma.patient.findMany({ where: { id: { in: patientIds } } })));
    expect(byId(await reads.trajectories(sg.db, trajectoryIds))).toEqual(byId(trajectories));
    expect(await reads.trajectoriesByPatient(sg.db, patientIds)).toEqual(
      await sg.prisma.trajectory.findMany({
        where: { patientId: { in: patientIds } },
        orderBy: [{ titleStartsOn: 'desc' }, { id: 'asc' }],
        include: {
          indications: { orderBy: [{ issuedOn: 'desc' }, { id: 'asc' }] },
          trajectoryIndication: { include: { phases: { orderBy: { ordinal: 'asc' } } } },
        },
      }),
    );
    const details = {
      indications: { orderBy: [{ issuedOn: 'desc' as const }, { id: 'asc' as const }] },
      trajectoryIndication: { include: { phases: { orderBy: { ordinal: 'asc' as const } } } },
    };
    const withTrajectories = await sg.prisma.patient.findMany({
      where: { id: { in: patientIds } },
      include: { trajectories: { orderBy: [{ titleStartsOn: 'desc' }, { id: 'asc' }], include: details } },
    });
    expect(withTrajectories.some((p) => p.trajectories.some((t) => t.titleEndsOn !== null))).toBe(true);
    expect(byId(await reads.patientsWithTrajectories(sg.db, patientIds))).toEqual(byId(withTrajectories));
    const indications = await sg.prisma.indication.findMany({ where: { trajectoryId: { in: trajectoryIds } }, orderBy: [{ issuedOn: 'desc' }, { id: 'asc' }] });
    expect(indications.length).toBeGreaterThan(0);
    expect(await reads.indicationsByTrajectory(sg.db, trajectoryIds)).toEqual(indications);
    const withPhases = await sg.prisma.trajectoryIndication.findMany({
      where: { trajectoryId: { in: trajectoryIds } },
      include: { phases: { orderBy: { ordinal: 'asc' } } },
    });
    expect(withPhases.every((i) => i.phases.length > 0)).toBe(true);
    expect(byId(await reads.trajectoryIndicationsByTrajectory(sg.db, trajectoryIds))).toEqual(byId(withPhases));
    // Nothing asked, nothing found: an empty list binds as an empty array.
    expect(await reads.patients(sg.db, [])).toEqual([]);
  });
});
