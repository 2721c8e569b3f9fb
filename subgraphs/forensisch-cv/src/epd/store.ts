/**
 * Keeping what EPDs contributed, append-only like every CV entry: each FHIR resource version
 * becomes at most one CV version, with its provenance; a later version of the resource becomes the
 * next version of the same CV entry; nothing imported is ever removed (after a transfer, or with
 * the EPD offline, the CV still shows it). Resources that cannot be mapped are kept by reference
 * (type, id, version, reason — never content) so they are counted, not dropped.
 */
import { createHash, randomUUID } from 'node:crypto';
import { isUniqueViolation } from '@ketengraph/service-kit';
import type { CvEntry, PrismaClient } from '../generated/prisma/client.js';
import type { Mapped } from './mapping.js';

export interface ImportCounts {
  imported: number;
  unchanged: number;
  unmapped: number;
}

/** Whether `candidate` is a later version than the one imported last. */
function isLater(candidate: Mapped['provenance'], imported: Pick<CvEntry, 'sourceVersionId' | 'sourceLastUpdated'>): boolean {
  if (candidate.versionId !== null && candidate.versionId === imported.sourceVersionId) return false;
  if (candidate.lastUpdated && imported.sourceLastUpdated) return candidate.lastUpdated.getTime() > imported.sourceLastUpdated.getTime();
  const [a, b] = [Number(candidate.versionId), Number(imported.sourceVersionId)];
  if (Number.isInteger(a) && Number.isInteger(b)) return a > b;
  return candidate.versionId !== imported.sourceVersionId;
}

export function versionKey(provenance: Mapped['provenance'], resource: unknown): string {
  if (provenance.versionId) return provenance.versionId;
  if (provenance.lastUpdated) return provenance.lastUpdated.toISOString();
  return `sha256:${createHash('sha256')
    .update(JSON.stringify(resource ?? null))
    .digest('hex')
    .slice(0, 32)}`;
}

/** Stores one page of a patient's resources from one provider's EPD. */
export async function importPage(
  prisma: PrismaClient,
  patientId: string,
  providerId: string,
  page: { mapped: Mapped; resource: unknown }[],
  now = new Date(),
): Promise<ImportCounts> {
  const counts: ImportCounts = { imported: 0, unchanged: 0, unmapped: 0 };
  const unmapped = page.filter((item) => item.mapped.outcome === 'unmapped');
  if (unmapped.length) {
    await prisma.epdUnmapped.createMany({
      data: unmapped.map(({ mapped, resource }) => ({
        providerId,
        patientId,
        resourceType: mapped.provenance.resourceType.slice(0, 64),
        resourceId: mapped.provenance.resourceId.slice(0, 64) || '(none)',
        versionKey: versionKey(mapped.provenance, resource).slice(0, 100),
        reason: mapped.outcome === 'unmapped' ? mapped.reason : '',
        seenAt: now,
      })),
      skipDuplicates: true,
    });
    counts.unmapped = unmapped.length;
  }
  const mapped = page.map((item) => item.mapped).filter((item): item is Extract<Mapped, { outcome: 'mapped' }> => item.outcome === 'mapped');
  if (!mapped.length) return counts;

  // Every version already imported from these resources, with the entry's versions (a native correction may follow the import).
  const imported = await prisma.cvEntry.findMany({
    where: {
      patientId,
      sourceProviderId: providerId,
      OR: mapped.map((item) => ({ sourceResourceType: item.provenance.resourceType, sourceResourceId: item.provenance.resourceId })),
    },
    orderBy: { version: 'asc' },
  });
  const entryIds = [...new Set(imported.map((row) => row.entryId))];
  const latestOfEntry = new Map<string, CvEntry>();
  for (const row of entryIds.length ? await prisma.cvEntry.findMany({ where: { entryId: { in: entryIds } }, orderBy: { version: 'asc' } }) : [])
    latestOfEntry.set(row.entryId, row);
  const bySource = new Map<string, CvEntry[]>();
  for (const row of imported) {
    const key = `${row.sourceResourceType}/${row.sourceResourceId}`;
    bySource.set(key, [...(bySource.get(key) ?? []), row]);
  }

  for (const item of mapped) {
    const { provenance } = item;
    const versions = bySource.get(`${provenance.resourceType}/${provenance.resourceId}`) ?? [];
    const lastImported = versions[versions.length - 1];
    if (
      lastImported &&
      (!isLater(provenance, lastImported) || versions.some((row) => row.sourceVersionId !== null && row.sourceVersionId === provenance.versionId))
    ) {
      counts.unchanged++;
      continue;
    }
    const previous = lastImported ? latestOfEntry.get(lastImported.entryId)! : null;
    const row = {
      id: randomUUID(),
      patientId,
      entryId: previous?.entryId ?? randomUUID(),
      version: (previous?.version ?? 0) + 1,
      kind: item.kind,
      occurredOn: item.occurredOn,
      recordedAt: now,
      // The EPD is the author's system: the organisation is the provider, the user the EPD itself.
      authorId: `epd:${providerId}`.slice(0, 200),
      authorOrganisationId: providerId,
      details: item.details,
      supersedesId: previous?.id ?? null,
      sourceProviderId: providerId,
      sourceResourceType: provenance.resourceType,
      sourceResourceId: provenance.resourceId,
      sourceVersionId: provenance.versionId,
      sourceLastUpdated: provenance.lastUpdated,
    };
    try {
      const created = await prisma.cvEntry.create({ data: row });
      counts.imported++;
      bySource.set(`${provenance.resourceType}/${provenance.resourceId}`, [...versions, created]);
      latestOfEntry.set(created.entryId, created);
    } catch (error) {
      // Another read imported the same version (or the next version of this entry) at the same moment.
      if (!isUniqueViolation(error)) throw error;
      counts.unchanged++;
    }
  }
  return counts;
}

export async function recordSynced(
  prisma: PrismaClient,
  patientId: string,
  providerId: string,
  resourceType: string,
  highWater: Date | null,
  now = new Date(),
): Promise<void> {
  await prisma.epdSyncState.upsert({
    where: { patientId_providerId_resourceType: { patientId, providerId, resourceType } },
    create: { patientId, providerId, resourceType, syncedAt: now, highWater },
    update: { syncedAt: now, ...(highWater ? { highWater } : {}) },
  });
}

export interface EpdImportSummary {
  providerId: string;
  lastSyncedAt: Date | null;
  importedVersions: number;
  unmapped: { resourceType: string; reason: string; count: number }[];
}

/** Per provider that contributed to (or was read for) the patient's CV. */
export async function importSummaries(prisma: PrismaClient, patientId: string): Promise<EpdImportSummary[]> {
  const [entries, syncs, unmapped] = await Promise.all([
    prisma.cvEntry.groupBy({ by: ['sourceProviderId'], where: { patientId, sourceProviderId: { not: null } }, _count: { _all: true } }),
    prisma.epdSyncState.groupBy({ by: ['providerId'], where: { patientId }, _max: { syncedAt: true } }),
    prisma.epdUnmapped.groupBy({
      by: ['providerId', 'resourceType', 'reason'],
      where: { patientId },
      _count: { _all: true },
      orderBy: [{ providerId: 'asc' }, { resourceType: 'asc' }, { reason: 'asc' }],
    }),
  ]);
  const summaries = new Map<string, EpdImportSummary>();
  const summary = (providerId: string) => {
    let found = summaries.get(providerId);
    if (!found) summaries.set(providerId, (found = { providerId, lastSyncedAt: null, importedVersions: 0, unmapped: [] }));
    return found;
  };
  for (const row of entries) summary(row.sourceProviderId!).importedVersions = row._count._all;
  for (const row of syncs) summary(row.providerId).lastSyncedAt = row._max.syncedAt;
  for (const row of unmapped) summary(row.providerId).unmapped.push({ resourceType: row.resourceType, reason: row.reason, count: row._count._all });
  return [...summaries.values()].sort((a, b) => a.providerId.localeCompare(b.providerId));
}
