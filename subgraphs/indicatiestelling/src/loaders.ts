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
const INDICATION_COLUMNS = Prisma.sql`"id", "trajectoryId", "issuer", "careType"::text, "securityLevel", "intensity"::text, "validFrom", "validUntil",
  "status"::text, "issuedOn", "statusReason"`;
/** The phases of trajectory indication `i`, as a JSON array in ordinal order. */
const PHASES_OF_I = Prisma.sql`COALESCE((
  SELECT json_agg(json_build_object('id', p."id", 'trajectoryIndicationId', p."trajectoryIndicationId", 'ordinal', p."ordinal", 'name', p."name",
    'minSecurityLevel', p."minSecurityLevel", 'maxSecurityLevel', p."maxSecurityLevel", 'careTypes', p."careTypes") ORDER BY p."ordinal")
  FROM "TrajectoryPhase" p WHERE p."trajectoryIndicationId" = i."id"), '[]')`;

/** A row whose date columns came through JSON (`YYYY-MM-DD`: `new Date` reads it as UTC midnight, as Prisma types `@db.Date`). */
type DatesAsText<T, K extends keyof T> = Omit<T, K> & Record<K, string>;
type IndicationJson = DatesAsText<Indication, 'validFrom' | 'validUntil' | 'issuedOn'>;
type TrajectoryIndicationJson = DatesAsText<TrajectoryIndicationWithPhases, 'issuedOn'>;

/** A trajectory as read by trajectoriesByPatient: with its indications and its trajectory indication (and phases). */
export type TrajectoryWithDetails = Trajectory & { indications: Indication[]; trajectoryIndication: TrajectoryIndicationWithPhases | null };

/**
 * The reads every whole-trajectory request makes, in SQL on the driver (`db.read`): a statement
 * through Prisma's findMany costs about twice the CPU, and a patient's trajectories come with
 * their indications and trajectory indication (with phases) in the same statement, which would be
 * four through Prisma. Each returns the rows exactly as the Prisma model types them
 * (test/subgraph.test.ts compares them with findMany's).
 */
export const reads = {
  patients: (db: Database, ids: readonly string[]) =>
    db.read<Patient>(
      Prisma.sql`SELECT "id", "bsn", "givenName", "familyNamePrefix", "familyName", "birthDate", "registeredAt" FROM "Patient" WHERE "id" = ANY(${ids})`,
    ),
  trajectories: (db: Database, ids: readonly string[]) =>
    db.read<Trajectory>(Prisma.sql`SELECT ${TRAJECTORY_COLUMNS} FROM "Trajectory" WHERE "id" = ANY(${ids})`),
  trajectoriesByPatient: async (db: Database, patientIds: readonly string[]): Promise<TrajectoryWithDetails[]> => {
    const rows = await db.read<Trajectory & { indications: IndicationJson[]; trajectoryIndication: TrajectoryIndicationJson | null }>(
      Prisma.sql`SELECT ${TRAJECTORY_COLUMNS},
        COALESCE((
          SELECT json_agg(json_build_object('id', x."id", 'trajectoryId', x."trajectoryId", 'issuer', x."issuer", 'careType', x."careType",
            'securityLevel', x."securityLevel", 'intensity', x."intensity", 'validFrom', x."validFrom", 'validUntil', x."validUntil", 'status', x."status",
            'issuedOn', x."issuedOn", 'statusReason', x."statusReason") ORDER BY x."issuedOn" DESC, x."id" ASC)
          FROM "Indication" x WHERE x."trajectoryId" = t."id"), '[]') AS "indications",
        (SELECT json_build_object('id', i."id", 'trajectoryId', i."trajectoryId", 'issuer', i."issuer", 'issuedOn', i."issuedOn", 'phases', ${PHASES_OF_I})
          FROM "TrajectoryIndication" i WHERE i."trajectoryId" = t."id") AS "trajectoryIndication"
      FROM "Trajectory" t WHERE "patientId" = ANY(${patientIds}) ORDER BY "titleStartsOn" DESC, "id" ASC`,
    );
    return rows.map((row) => ({
      ...row,
      indications: row.indications.map((indication) => ({
        ...indication,
        validFrom: new Date(indication.validFrom),
        validUntil: new Date(indication.validUntil),
        issuedOn: new Date(indication.issuedOn),
      })),
      trajectoryIndication: row.trajectoryIndication && { ...row.trajectoryIndication, issuedOn: new Date(row.trajectoryIndication.issuedOn) },
    }));
  },
  indicationsByTrajectory: (db: Database, trajectoryIds: readonly string[]) =>
    db.read<Indication>(
      Prisma.sql`SELECT ${INDICATION_COLUMNS} FROM "Indication" WHERE "trajectoryId" = ANY(${trajectoryIds}) ORDER BY "issuedOn" DESC, "id" ASC`,
    ),
  trajectoryIndicationsByTrajectory: (db: Database, trajectoryIds: readonly string[]) =>
    db.read<TrajectoryIndicationWithPhases>(
      Prisma.sql`SELECT i."id", i."trajectoryId", i."issuer", i."issuedOn", ${PHASES_OF_I} AS "phases"
      FROM "TrajectoryIndication" i WHERE i."trajectoryId" = ANY(${trajectoryIds})`,
    ),
};

/** One set per request: every entity reference and list field resolves through these. */
export function createLoaders(prisma: PrismaClient, db: Database) {
  const indicationsByTrajectory = groupLoader(
    (ids) => reads.indicationsByTrajectory(db, ids),
    (row) => row.trajectoryId,
  );
  const trajectoryIndicationByTrajectory = groupLoader(
    (ids) => reads.trajectoryIndicationsByTrajectory(db, ids),
    (row) => row.trajectoryId,
  );
  return {
    patient: byIdLoader((ids) => reads.patients(db, ids)),
    trajectory: byIdLoader((ids) => reads.trajectories(db, ids)),
    // A patient's trajectories arrive with their indications and trajectory indication, primed into the two loaders below.
    trajectoriesByPatient: groupLoader(
      async (ids) =>
        (await reads.trajectoriesByPatient(db, ids)).map(({ indications, trajectoryIndication, ...trajectory }) => {
          indicationsByTrajectory.prime(trajectory.id, indications);
          trajectoryIndicationByTrajectory.prime(trajectory.id, trajectoryIndication ? [trajectoryIndication] : []);
          return trajectory;
        }),
      (row) => row.patientId,
    ),
    indicationsByTrajectory,
    trajectoryIndicationByTrajectory,
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
