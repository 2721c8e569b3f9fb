/**
 * A patient with known relationships, for access tests: provider organisations with an active
 * placement, with one that ended within and after the handover period, and without any; the
 * probation organisation assigned to the trajectory and one that is not.
 */
import { randomUUID } from 'node:crypto';
import { loadAccessPolicy, type Principal } from '@ketengraph/service-kit';
import type { Federation } from './federation.js';

export interface AccessScenario {
  patientId: string;
  providers: { active: string; endedRecently: string; endedLongAgo: string; none: string };
  probation: { assigned: string; other: string };
}

export async function createAccessScenario(federation: Federation): Promise<AccessScenario> {
  // plaatsing and indicatiestelling are reached through their Prisma clients: fixture data, not API use.
  const plaatsing = federation.subgraphs.plaatsing.prisma as any;
  const indicatiestelling = federation.subgraphs.indicatiestelling.prisma as any;
  const admitted = await plaatsing.placement.findFirst({ where: { status: 'ADMITTED' }, orderBy: { id: 'asc' } });
  const patientId: string = admitted.patientId;
  const others = await plaatsing.provider.findMany({ where: { id: { not: admitted.providerId } }, orderBy: { id: 'asc' }, take: 40 });
  // Providers that have never had this patient.
  const strangers = [];
  for (const provider of others) {
    if (!(await plaatsing.placement.findFirst({ where: { patientId, providerId: provider.id } }))) strangers.push(provider.id as string);
    if (strangers.length === 3) break;
  }
  const [endedRecently, endedLongAgo, none] = strangers as [string, string, string];
  const days = loadAccessPolicy().handoverPeriodDays;
  const ended = async (providerId: string, daysAgo: number) =>
    plaatsing.placement.create({
      data: {
        id: randomUUID(),
        patientId,
        trajectoryId: admitted.trajectoryId,
        providerId,
        careType: admitted.careType,
        securityLevel: admitted.securityLevel,
        status: 'ENDED',
        requestedAt: new Date(Date.now() - (daysAgo + 200) * 86_400_000),
        admittedAt: new Date(Date.now() - (daysAgo + 100) * 86_400_000),
        endedAt: new Date(Date.now() - daysAgo * 86_400_000),
      },
    });
  await ended(endedRecently, Math.floor(days / 3));
  await ended(endedLongAgo, days * 3);
  await indicatiestelling.trajectory.updateMany({ where: { patientId }, data: { probationOrganisation: null } });
  await indicatiestelling.trajectory.update({
    where: { id: admitted.trajectoryId },
    data: { probationOrganisation: 'RECLASSERING_NEDERLAND', status: 'ACTIVE' },
  });
  return {
    patientId,
    providers: { active: admitted.providerId, endedRecently, endedLongAgo, none },
    probation: { assigned: 'RECLASSERING_NEDERLAND', other: 'SVG' },
  };
}

export function principal(role: string, organisationId: string, purpose: string | null = loadAccessPolicy().rolePurposes[role]?.[0] ?? null): Principal {
  return { subject: `${role}-user`, organisationId, role, scopes: loadAccessPolicy().roleScopes[role] ?? [], purpose };
}
