/**
 * Fixtures for the write-access tests: per cell a fresh patient with a trajectory (indicated by
 * NIFP, supervised by Reclassering Nederland) and placements that give each provider organisation
 * a known relationship to it — written straight into the subgraphs' databases (fixture data, not
 * API use) — plus the generated cells: every mutation × role × relationship, with the outcome
 * the write rules in schema/access-policy.json predict.
 */
import { randomUUID } from 'node:crypto';
import { loadAccessPolicy, type Principal } from '@ketengraph/service-kit';
import { syntheticBsn } from '@ketengraph/seed-data';
import type { Federation, GraphQLResponse } from './federation.js';

const DAY = 86_400_000;
export const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

export type CareKind = 'KLINISCH' | 'AMBULANT';
export type PlacementStatus = 'REQUESTED' | 'INTAKE' | 'ACCEPTED' | 'DECIDED' | 'ADMITTED';

/** The provider organisations of a scenario, per the relationship each has with the patient. */
export interface Providers {
  /** The placement acted on is addressed to it (on a transfer: the sending provider). */
  addressed: string;
  /** Received the patient by transfer: admitted in the trajectory now; handovers are to it. */
  receiving: string;
  /** Transferred the patient out to `receiving` ten days ago. */
  sending: string;
  /** Had the patient; that placement ended three handover periods ago. */
  endedLongAgo: string;
  /** Never had the patient. */
  none: string;
}

export interface WriteFixture {
  patientId: string;
  trajectoryId: string;
  indicationId: string;
  /** The placement the plaatsing steps act on, at `providers.addressed`. */
  placementId: string;
  careType: CareKind;
  securityLevel: number;
  providers: Providers;
}

export const ISSUER = 'NIFP';
export const PROBATION = 'RECLASSERING_NEDERLAND';

/** Providers offering each care kind (with room), picked once from the seed. */
export async function pickProviders(federation: Federation): Promise<Record<CareKind, Providers>> {
  const plaatsing = federation.subgraphs.plaatsing.prisma as any;
  const pick = async (careType: CareKind, securityLevel: number): Promise<Providers> => {
    const offers = await plaatsing.providerCapacity.findMany({ where: { careType, securityLevel }, orderBy: { providerId: 'asc' }, take: 5 });
    if (offers.length < 5) throw new Error(`the seed has too few providers for ${careType} ${securityLevel}`);
    await plaatsing.providerCapacity.updateMany({ where: { careType, securityLevel }, data: { totalPlaces: 100_000 } });
    const [addressed, receiving, sending, endedLongAgo, none] = offers.map((o: { providerId: string }) => o.providerId);
    return { addressed, receiving, sending, endedLongAgo, none };
  };
  return { KLINISCH: await pick('KLINISCH', 4), AMBULANT: await pick('AMBULANT', 1) };
}

let bsnIndex = 80_000 + Math.floor(Math.random() * 5_000);
export const freshBsn = () => syntheticBsn(bsnIndex++);

const PHASES: Record<CareKind, { name: string; minSecurityLevel: number; maxSecurityLevel: number; careTypes: string[] }[]> = {
  KLINISCH: [
    { name: 'Klinische behandeling', minSecurityLevel: 4, maxSecurityLevel: 5, careTypes: ['KLINISCH'] },
    { name: 'Resocialisatie', minSecurityLevel: 2, maxSecurityLevel: 4, careTypes: ['KLINISCH', 'VERBLIJF'] },
  ],
  AMBULANT: [
    { name: 'Bijzondere voorwaarden', minSecurityLevel: 1, maxSecurityLevel: 2, careTypes: ['VERBLIJF', 'AMBULANT'] },
    { name: 'Nazorg', minSecurityLevel: 1, maxSecurityLevel: 1, careTypes: ['AMBULANT'] },
  ],
};
export const phasesOf = (careType: CareKind) => PHASES[careType];

export async function createWriteFixture(
  federation: Federation,
  all: Record<CareKind, Providers>,
  careType: CareKind,
  status: PlacementStatus,
): Promise<WriteFixture> {
  const indicatiestelling = federation.subgraphs.indicatiestelling.prisma as any;
  const plaatsing = federation.subgraphs.plaatsing.prisma as any;
  const providers = all[careType];
  const securityLevel = careType === 'KLINISCH' ? 4 : 1;
  const patientId = randomUUID();
  const trajectoryId = randomUUID();
  const indicationId = randomUUID();
  const trajectoryIndicationId = randomUUID();
  await indicatiestelling.patient.create({
    data: { id: patientId, bsn: freshBsn(), givenName: 'Test', familyName: 'Schrijfregel', birthDate: new Date('1990-05-05') },
  });
  await indicatiestelling.trajectory.create({
    data: {
      id: trajectoryId,
      patientId,
      legalTitle: careType === 'KLINISCH' ? 'TBS_DWANGVERPLEGING' : 'VOORWAARDELIJKE_VEROORDELING',
      titleStartsOn: daysAgo(400),
      probationOrganisation: PROBATION,
      status: 'ACTIVE',
      currentPhase: 1,
      currentCareType: careType,
      currentSecurityLevel: securityLevel,
      indications: {
        create: [
          {
            id: indicationId,
            issuer: ISSUER,
            careType,
            securityLevel,
            intensity: 'MIDDEL',
            validFrom: daysAgo(400),
            validUntil: daysAgo(-300),
            status: 'ISSUED',
            issuedOn: daysAgo(400),
          },
        ],
      },
      trajectoryIndication: {
        create: {
          id: trajectoryIndicationId,
          issuer: ISSUER,
          issuedOn: daysAgo(400),
          phases: { create: PHASES[careType].map((phase, i) => ({ id: randomUUID(), ordinal: i + 1, ...phase })) },
        },
      },
    },
  });
  const placement = (providerId: string, placementStatus: string, extra: Record<string, unknown> = {}) => ({
    id: randomUUID(),
    patientId,
    trajectoryId,
    providerId,
    careType,
    securityLevel,
    status: placementStatus,
    requestedAt: daysAgo(30),
    ...extra,
  });
  const transferredOut = placement(providers.sending, 'TRANSFERRED', { admittedAt: daysAgo(25), endedAt: daysAgo(10) });
  const target = placement(providers.addressed, status, status === 'ADMITTED' ? { admittedAt: daysAgo(5) } : {});
  await plaatsing.placement.createMany({
    data: [
      placement(providers.endedLongAgo, 'ENDED', {
        requestedAt: daysAgo(500),
        admittedAt: daysAgo(480),
        endedAt: daysAgo(3 * loadAccessPolicy().handoverPeriodDays),
      }),
      transferredOut,
    ],
  });
  await plaatsing.placement.createMany({
    data: [placement(providers.receiving, 'ADMITTED', { admittedAt: daysAgo(10), requestedAt: daysAgo(10), transferredFromId: transferredOut.id }), target],
  });
  return { patientId, trajectoryId, indicationId, placementId: target.id, careType, securityLevel, providers };
}

/** A request through the gateway under a request id of our choosing, so its access-log records can be found. */
export async function requestAs<T = Record<string, unknown>>(
  federation: Federation,
  principal: Principal,
  query: string,
  variables: Record<string, unknown>,
): Promise<{ requestId: string; response: GraphQLResponse<T> }> {
  const requestId = randomUUID();
  const response = await fetch(federation.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await federation.callerToken(principal)}`, 'x-request-id': requestId },
    body: JSON.stringify({ query, variables }),
  });
  return { requestId, response: (await response.json()) as GraphQLResponse<T> };
}

export function principalFor(role: string, organisationId: string): Principal {
  const policy = loadAccessPolicy();
  return { subject: `${role}-${organisationId}`, organisationId, role, scopes: policy.roleScopes[role] ?? [], purpose: policy.rolePurposes[role]?.[0] ?? null };
}
