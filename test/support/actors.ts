/**
 * The chain partners who take each step, as the write rules (schema/access-policy.json) say:
 * tests that walk a patient through the chain act as the right party at every step.
 */
import { loadAccessPolicy, type Principal } from '@ketengraph/service-kit';
import type { Federation } from './federation.js';

export function actor(role: string, organisationId: string): Principal {
  const policy = loadAccessPolicy();
  return {
    subject: `${role}-${organisationId}-user`,
    organisationId,
    role,
    scopes: policy.roleScopes[role] ?? [],
    purpose: policy.rolePurposes[role]?.[0] ?? null,
  };
}

/** NIFP: registers, opens trajectories and indicates (issuer `NIFP`). */
export const NIFP = actor('indicatiesteller', 'NIFP');
/** DJI's placement desk: places in clinical care. */
export const DJI = actor('plaatser', 'dji-forzo');
export const provider = (providerId: string) => actor('zorgaanbieder', providerId);
export const probation = (organisationId: string) => actor('reclassering', organisationId);

/** Steps the provider the placement is addressed to takes; the placing organisation takes the others. */
const PROVIDER_STEPS = new Set(['startIntake', 'acceptPlacement', 'declinePlacement', 'admitPatient', 'endPlacement']);

/** Who takes `step` on this placement: its provider, or its placing organisation (DJI for clinical care, else the assigned probation organisation). */
export async function placementActor(federation: Federation, step: string, placementId: string): Promise<Principal> {
  const placement = await (federation.subgraphs.plaatsing.prisma as any).placement.findUniqueOrThrow({ where: { id: placementId } });
  if (PROVIDER_STEPS.has(step)) return provider(placement.providerId);
  if (placement.careType === 'KLINISCH') return DJI;
  const trajectory = await (federation.subgraphs.indicatiestelling.prisma as any).trajectory.findUniqueOrThrow({ where: { id: placement.trajectoryId } });
  return probation(trajectory.probationOrganisation);
}
