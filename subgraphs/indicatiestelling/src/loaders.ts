import { byIdLoader, groupLoader, type Database } from '@ketengraph/service-kit';
import {
  Prisma,
  type Indication,
  type Patient,
  type PrismaClient,
  type Trajectory,
  type TrajectoryIndication,
  type TrajectoryPhase,
} from './generated/prisma/client.js';

/** A trajectory indication always travels with its phases, loaded in the same batch. */
export type TrajectoryIndicationWithPhases = TrajectoryIndication & { phases: TrajectoryPhase[] };

const TRAJECTORY_COLUMNS = Prisma.sql`"id", "patientId", "legalTitle"::text, "titleStartsOn", "titleEndsOn", "probationOrganisation", "status"::text,
  "currentPhase", "currentCareType"::text, "currentSecurityLevel", "createdAt"`;

/**
 * The reads every whole-trajectory request makes, in SQL on the driver (`db.read`): a statement
 * through Prisma's findMany costs about twice the CPU, and a trajectory indication with its phases
 * is one statement here instead of two. Each returns the rows exactly as the Prisma model types
 * them (test/subgraph.test.ts compares them with findMany's).
 */
export const reads = {
  patients: (db: Database, ids: readonly string[]) =>
    db.read<Patient>(
      Prisma.sql`SELECT "id", "bsn", "givenName", "familyNamePrefix", "familyName", "birthDate", "registeredAt" FROM "Patient" WHERE "id" = ANY(${ids})`,
    ),
  trajectories: (db: Database, ids: readonly string[]) =>
    db.read<Trajectory>(Prisma.sql`SELECT ${TRAJECTORY_COLUMNS} FROM "Trajectory" WHERE "id" = ANY(${ids})`),
  trajectoriesByPatient: (db: Database, patientIds: readonly string[]) =>
    db.read<Trajectory>(
      Prisma.sql`SELECT ${TRAJECTORY_COLUMNS} FROM "Trajectory" WHERE "patientId" = ANY(${patientIds}) ORDER BY "titleStartsOn" DESC, "id" ASC`,
    ),
  indicationsByTrajectory: (db: Database, trajectoryIds: readonly string[]) =>
    db.read<Indication>(
      Prisma.sql`SELECT "id", "trajectoryId", "issuer", "careType"::text, "securityLevel", "intensity"::text, "validFrom", "validUntil", "status"::text,
        "issuedOn", "statusReason"
      FROM "Indication" WHERE "trajectoryId" = ANY(${trajectoryIds}) ORDER BY "issuedOn" DESC, "id" ASC`,
    ),
  trajectoryIndicationsByTrajectory: (db: Database, trajectoryIds: readonly string[]) =>
    db.read<TrajectoryIndicationWithPhases>(
      Prisma.sql`SELECT i."id", i."trajectoryId", i."issuer", i."issuedOn", COALESCE((
          SELECT json_agg(json_build_object('id', p."id", 'trajectoryIndicationId', p."trajectoryIndicationId", 'ordinal', p."ordinal", 'name', p."name",
            'minSecurityLevel', p."minSecurityLevel", 'maxSecurityLevel', p."maxSecurityLevel", 'careTypes', p."careTypes") ORDER BY p."ordinal")
          FROM "TrajectoryPhase" p WHERE p."trajectoryIndicationId" = i."id"), '[]') AS "phases"
      FROM "TrajectoryIndication" i WHERE i."trajectoryId" = ANY(${trajectoryIds})`,
    ),
};

/** One set per request: every entity reference and list field resolves through these. */
export function createLoaders(prisma: PrismaClient, db: Database) {
  return {
    patient: byIdLoader((ids) => reads.patients(db, ids)),
    trajectory: byIdLoader((ids) => reads.trajectories(db, ids)),
    trajectoriesByPatient: groupLoader(
      (ids) => reads.trajectoriesByPatient(db, ids),
      (row) => row.patientId,
    ),
    indicationsByTrajectory: groupLoader(
      (ids) => reads.indicationsByTrajectory(db, ids),
      (row) => row.trajectoryId,
    ),
    trajectoryIndicationByTrajectory: groupLoader(
      (ids) => reads.trajectoryIndicationsByTrajectory(db, ids),
      (row) => row.trajectoryId,
    ),
    scalingDecisionsByTrajectory: groupLoader(
      (ids) => prisma.scalingDecision.findMany({ where: { trajectoryId: { in: [...ids] } }, orderBy: [{ decidedAt: 'desc' }, { id: 'asc' }] }),
      (row) => row.trajectoryId,
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

export async function loadPhases(loaders: Loaders, trajectoryId: string): Promise<TrajectoryPhase[] | null> {
  const [indication] = await loaders.trajectoryIndicationByTrajectory.load(trajectoryId);
  return indication ? indication.phases : null;
}
