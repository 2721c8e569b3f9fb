import { DEFAULT_SEED, generatePatients, generateProviders } from '@ketengraph/seed-data';
import type { SeedOptions } from '@ketengraph/service-kit';
import type { Prisma, PrismaClient } from './generated/prisma/client.js';

/** Writes this subgraph's slice of the synthetic chain: every patient's forensic-CV entries. */
export async function seed(prisma: PrismaClient, { seed, patients }: SeedOptions): Promise<void> {
  seed ??= DEFAULT_SEED;
  const providers = generateProviders(seed);
  let batch: Prisma.CvEntryCreateManyInput[] = [];
  const flush = async () => {
    await prisma.cvEntry.createMany({ data: batch });
    batch = [];
  };
  for (const patient of generatePatients(seed, patients, providers)) {
    // The generator's later versions are corrections of the version before them of the same entry.
    const idByVersion = new Map<string, string>();
    for (const entry of [...patient.cvEntries].sort((a, b) => a.version - b.version)) {
      idByVersion.set(`${entry.entryId}:${entry.version}`, entry.id);
      batch.push({
        id: entry.id,
        patientId: patient.id,
        entryId: entry.entryId,
        version: entry.version,
        kind: entry.kind,
        occurredOn: entry.occurredOn,
        recordedAt: entry.recordedAt,
        authorId: entry.authorId,
        authorOrganisationId: entry.authorOrganisationId,
        details: entry.details,
        supersedesId: entry.version > 1 ? (idByVersion.get(`${entry.entryId}:${entry.version - 1}`) ?? null) : null,
      });
    }
    if (batch.length >= 2000) await flush();
  }
  if (batch.length) await flush();
}
