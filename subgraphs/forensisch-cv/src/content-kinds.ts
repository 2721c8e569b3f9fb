/**
 * The kinds of entry each patient's CV holds, for the gateway's handover relay: a transfer's
 * handover counts the minimum-content items the CV had on record (see kwaliteit's
 * transferHandoverItems). Kinds only, never content; internal (@inaccessible) and behind the
 * relay's scope, granted to no role.
 */
import { badInput, unauthorized } from '@ketengraph/service-kit';
import { Prisma, type CvEntryKind, type PrismaClient } from './generated/prisma/client.js';

/** The internal scope the gateway's handover relay carries (schema/access-policy.json). */
export const HANDOVER_RELAY_SCOPE = 'handovers:relay';
export const MAX_CONTENT_KINDS_PATIENTS = 100;

export function requireRelay(scopes: readonly string[], coordinate: string): void {
  if (!scopes.includes(HANDOVER_RELAY_SCOPE)) throw unauthorized(coordinate);
}

/**
 * Per patient (in the order asked, each once) the kinds of the entries recorded up to `asOf` whose
 * version was current then: not yet superseded by a correction recorded up to `asOf`. One statement.
 */
export async function cvContentKinds(prisma: PrismaClient, patientIds: readonly string[], asOf: Date): Promise<{ patientId: string; kinds: CvEntryKind[] }[]> {
  if (patientIds.length > MAX_CONTENT_KINDS_PATIENTS) throw badInput(`At most ${MAX_CONTENT_KINDS_PATIENTS} patient ids.`, 'patientIds');
  if (Number.isNaN(asOf.getTime())) throw badInput('asOf must be an ISO 8601 instant.', 'asOf');
  const ids = [...new Set(patientIds)];
  const rows = ids.length
    ? await prisma.$queryRaw<{ patientId: string; kind: CvEntryKind }[]>`
        SELECT DISTINCT e."patientId", e."kind"::text AS "kind"
        FROM "CvEntry" e
        WHERE e."patientId" IN (${Prisma.join(ids)}) AND e."recordedAt" <= ${asOf}
          AND NOT EXISTS (SELECT 1 FROM "CvEntry" c WHERE c."supersedesId" = e."id" AND c."recordedAt" <= ${asOf})
        ORDER BY e."patientId", "kind"`
    : [];
  const kinds = new Map<string, CvEntryKind[]>(ids.map((id) => [id, []]));
  for (const row of rows) kinds.get(row.patientId)?.push(row.kind);
  return ids.map((patientId) => ({ patientId, kinds: kinds.get(patientId)! }));
}
