import { DEFAULT_SEED, generatePatients, generateProviders } from '@ketengraph/seed-data';
import type { SeedOptions } from '@ketengraph/service-kit';
import type { Prisma, PrismaClient } from './generated/prisma/client.js';

// A seed batch on a busy machine can take longer than Prisma's default 5 s for a transaction.
const SEED_TRANSACTION = { timeout: 120_000 };

/** Writes this subgraph's slice of the synthetic chain: identities, trajectories, indications. */
export async function seed(prisma: PrismaClient, { seed, patients }: SeedOptions): Promise<void> {
  seed ??= DEFAULT_SEED;
  const providers = generateProviders(seed);
  let batch = emptyBatch();
  const flush = async () => {
    await prisma.$transaction(
      [
        prisma.patient.createMany({ data: batch.patients }),
        prisma.trajectory.createMany({ data: batch.trajectories }),
        prisma.indication.createMany({ data: batch.indications }),
        prisma.trajectoryIndication.createMany({ data: batch.trajectoryIndications }),
        prisma.trajectoryPhase.createMany({ data: batch.phases }),
      ],
      SEED_TRANSACTION,
    );
    batch = emptyBatch();
  };
  for (const patient of generatePatients(seed, patients, providers)) {
    batch.patients.push({
      id: patient.id,
      bsn: patient.bsn,
      givenName: patient.givenName,
      familyNamePrefix: patient.familyNamePrefix,
      familyName: patient.familyName,
      birthDate: patient.birthDate,
      registeredAt: patient.registeredAt,
    });
    for (const t of patient.trajectories) {
      batch.trajectories.push({
        id: t.id,
        patientId: patient.id,
        legalTitle: t.legalTitle,
        titleStartsOn: t.titleStartsOn,
        titleEndsOn: t.titleEndsOn,
        probationOrganisation: t.probationOrganisation,
        status: t.status,
        currentPhase: t.currentPhase,
        currentCareType: t.currentCareType,
        currentSecurityLevel: t.currentSecurityLevel,
      });
      for (const i of t.indications) {
        batch.indications.push({
          id: i.id,
          trajectoryId: t.id,
          issuer: i.issuer,
          careType: i.careType,
          securityLevel: i.securityLevel,
          intensity: i.intensity,
          validFrom: i.validFrom,
          validUntil: i.validUntil,
          status: i.status,
          issuedOn: i.issuedOn,
        });
      }
      if (t.trajectoryIndication) {
        const ti = t.trajectoryIndication;
        batch.trajectoryIndications.push({ id: ti.id, trajectoryId: t.id, issuer: ti.issuer, issuedOn: ti.issuedOn });
        for (const phase of ti.phases) batch.phases.push({ id: `${ti.id}:${phase.ordinal}`, trajectoryIndicationId: ti.id, ...phase });
      }
    }
    if (batch.patients.length >= 500) await flush();
  }
  if (batch.patients.length) await flush();
}

function emptyBatch() {
  return {
    patients: [] as Prisma.PatientCreateManyInput[],
    trajectories: [] as Prisma.TrajectoryCreateManyInput[],
    indications: [] as Prisma.IndicationCreateManyInput[],
    trajectoryIndications: [] as Prisma.TrajectoryIndicationCreateManyInput[],
    phases: [] as Prisma.TrajectoryPhaseCreateManyInput[],
  };
}
