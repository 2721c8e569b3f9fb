import { groupLoader, type Database } from '@ketengraph/service-kit';
import { Prisma, type CvEntry, type PrismaClient } from './generated/prisma/client.js';
import { currentVersions } from './domain/entries.js';

/** A patient as other subgraphs refer to it; the register itself lives in indicatiestelling. */
export interface PatientRef {
  id: string;
}

export interface ProviderRef {
  id: string;
}

export interface ForensicCvRef {
  patientId: string;
}

/**
 * The read every whole-trajectory request makes, in SQL on the driver (`db.read`): a statement
 * through Prisma's findMany costs about twice the CPU. It returns the rows exactly as the Prisma
 * model types them (test/forensisch-cv.test.ts compares them with findMany's).
 */
export const reads = {
  entriesByPatient: (db: Database, patientIds: readonly string[]) =>
    db.read<CvEntry>(
      Prisma.sql`SELECT "id", "patientId", "entryId", "version", "kind"::text, "occurredOn", "recordedAt", "authorId", "authorOrganisationId", "details",
        "supersedesId", "sourceProviderId", "sourceResourceType", "sourceResourceId", "sourceVersionId", "sourceLastUpdated"
      FROM "CvEntry" WHERE "patientId" = ANY(${patientIds}) ORDER BY "occurredOn" DESC, "recordedAt" DESC, "id" ASC`,
    ),
};

/** One set per request: every entity reference and list field resolves through these. */
export function createLoaders(prisma: PrismaClient, db: Database) {
  const versionsByEntry = groupLoader(
    (entryIds) => prisma.cvEntry.findMany({ where: { entryId: { in: [...entryIds] } }, orderBy: [{ entryId: 'asc' }, { version: 'asc' }] }),
    (row) => row.entryId,
  );
  // All versions of all entries of the requested patients, newest occurrence first. The versions
  // of each entry are in here too, so they prime versionsByEntry: history costs no extra statement.
  const entriesByPatient = groupLoader(
    async (patientIds) => {
      const rows = await reads.entriesByPatient(db, patientIds);
      const byEntry = new Map<string, CvEntry[]>();
      for (const row of rows) byEntry.set(row.entryId, [...(byEntry.get(row.entryId) ?? []), row]);
      for (const [entryId, versions] of byEntry)
        versionsByEntry.prime(
          entryId,
          versions.sort((a, b) => a.version - b.version),
        );
      return rows;
    },
    (row) => row.patientId,
  );
  return { entriesByPatient, versionsByEntry };
}

export type Loaders = ReturnType<typeof createLoaders>;

const currentCache = new WeakMap<CvEntry[], CvEntry[]>();

/** The current versions of a patient's entries, computed once per loaded list. */
export function currentOf(rows: CvEntry[]): CvEntry[] {
  let current = currentCache.get(rows);
  if (!current) {
    current = currentVersions(rows);
    currentCache.set(rows, current);
  }
  return current;
}
