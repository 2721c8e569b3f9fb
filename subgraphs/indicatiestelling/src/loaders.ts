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

/**
 * Trajectory `t` with its indications and its trajectory indication (and phases), as one JSON
 * object: the shape of TrajectoryWithDetails, with dates as text (trajectoryFromJson).
 */
const TRAJECTORY_WITH_DETAILS_OF_T = Prisma.sql`json_build_object('id', t."id", 'patientId', t."patientId", 'legalTitle', t."legalTitle",
  'titleStartsOn', t."titleStartsOn", 'titleEndsOn', t."titleEndsOn", 'probationOrganisation', t."probationOrganisation", 'status', t."status",
  'currentPhase', t."currentPhase", 'currentCareType', t."currentCareType", 'currentSecurityLevel', t."currentSecurityLevel", 'createdAt', t."createdAt",
  'indications', COALESCE((
    SELECT json_agg(json_build_object('id', x."id", 'trajectoryId', x."trajectoryId", 'issuer', x."issuer", 'careType', x."careType",
      'securityLevel', x."securityLevel", 'intensity', x."intensity", 'validFrom', x."validFrom", 'validUntil', x."validUntil", 'status', x."status",
      'issuedOn', x."issuedOn", 'statusReason', x."statusReason") ORDER BY x."issuedOn" DESC, x."id" ASC)
    FROM "Indication" x WHERE x."trajectoryId" = t."id"), '[]'),
  'trajectoryIndication', (SELECT json_build_object('id', i."id", 'trajectoryId', i."trajectoryId", 'issuer', i."issuer", 'issuedOn', i."issuedOn",
    'phases', ${PHASES_OF_I}) FROM "TrajectoryIndication" i WHERE i."trajectoryId" = t."id"))`;

/** A row whose date columns came through JSON as text. */
type DatesAsText<T, K extends keyof T> = Omit<T, K> & { [P in K]: null extends T[P] ? string | null : string };
type TrajectoryJson = DatesAsText<Trajectory, 'titleStartsOn' | 'titleEndsOn' | 'createdAt'> & {
  indications: DatesAsText<Indication, 'validFrom' | 'validUntil' | 'issuedOn'>[];
  trajectoryIndication: DatesAsText<TrajectoryIndicationWithPhases, 'issuedOn'> | null;
};
/** A `date` in JSON (`YYYY-MM-DD`): `new Date` reads it as UTC midnight, as Prisma types `@db.Date`. */
const day = (text: string) => new Date(text);
/** A `timestamp` in JSON (ISO 8601 without a zone): UTC, as Prisma keeps `DateTime`. */
const instant = (text: string) => new Date(`${text}Z`);

function trajectoryFromJson({ indications, trajectoryIndication, ...t }: TrajectoryJson): TrajectoryWithDetails {
  return {
    ...t,
    titleStartsOn: day(t.titleStartsOn),
    titleEndsOn: t.titleEndsOn === null ? null : day(t.titleEndsOn),
    createdAt: instant(t.createdAt),
    indications: indications.map((x) => ({ ...x, validFrom: day(x.validFrom), validUntil: day(x.validUntil), issuedOn: day(x.issuedOn) })),
    trajectoryIndication: trajectoryIndication && { ...trajectoryIndication, issuedOn: day(trajectoryIndication.issuedOn) },
  };
}

/** A trajectory with its indications and its trajectory indication (and phases). */
export type TrajectoryWithDetails = Trajectory & { indications: Indication[]; trajectoryIndication: TrajectoryIndicationWithPhases | null };
/** A patient with all of that for each of its trajectories (newest title first). */
export type PatientWithTrajectories = Patient & { trajectories: TrajectoryWithDetails[] };

/**
 * The reads every whole-trajectory request makes, in SQL on the driver (`db.read`): a statement
 * through Prisma's findMany costs about twice the CPU, and a patient comes with its trajectories,
 * their indications and trajectory indications (with phases) in one statement, which would be five
 * through Prisma. Each returns the rows exactly as the Prisma model types them
 * (test/subgraph.test.ts compares them with findMany's).
 */
export const reads = {
  patients: (db: Database, ids: readonly string[]) =>
    db.read<Patient>(
      Prisma.sql`SELECT "id", "bsn", "givenName", "familyNamePrefix", "familyName", "birthDate", "registeredAt" FROM "Patient" WHERE "id" = ANY(${ids})`,
    ),
  patientsWithTrajectories: async (db: Database, ids: readonly string[]): Promise<PatientWithTrajectories[]> => {
    const rows = await db.read<Patient & { trajectories: TrajectoryJson[] }>(
      Prisma.sql`SELECT "id", "bsn", "givenName", "familyNamePrefix", "familyName", "birthDate", "registeredAt", COALESCE((
          SELECT json_agg(${TRAJECTORY_WITH_DETAILS_OF_T} ORDER BY t."titleStartsOn" DESC, t."id" ASC) FROM "Trajectory" t WHERE t."patientId" = pa."id"
        ), '[]') AS "trajectories"
      FROM "Patient" pa WHERE "id" = ANY(${ids})`,
    );
    return rows.map((row) => ({ ...row, trajectories: row.trajectories.map(trajectoryFromJson) }));
  },
  trajectories: (db: Database, ids: readonly string[]) =>
    db.read<Trajectory>(Prisma.sql`SELECT ${TRAJECTORY_COLUMNS} FROM "Trajectory" WHERE "id" = ANY(${ids})`),
  trajectoriesByPatient: async (db: Database, patientIds: readonly string[]): Promise<TrajectoryWithDetails[]> =>
    (
      await db.read<{ trajectory: TrajectoryJson }>(
        Prisma.sql`SELECT ${TRAJECTORY_WITH_DETAILS_OF_T} AS "trajectory"
        FROM "Trajectory" t WHERE "patientId" = ANY(${patientIds}) ORDER BY "titleStartsOn" DESC, "id" ASC`,
      )
    ).map((row) => trajectoryFromJson(row.trajectory)),
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
  // A trajectory's indications and trajectory indication arrive with it, primed into the two loaders above.
  const primeDetails = ({ indications, trajectoryIndication, ...trajectory }: TrajectoryWithDetails): Trajectory => {
    indicationsByTrajectory.prime(trajectory.id, indications);
    trajectoryIndicationByTrajectory.prime(trajectory.id, trajectoryIndication ? [trajectoryIndication] : []);
    return trajectory;
  };
  const patient = byIdLoader((ids) => reads.patients(db, ids));
  const trajectoriesByPatient = groupLoader(
    async (ids) => (await reads.trajectoriesByPatient(db, ids)).map(primeDetails),
    (row) => row.patientId,
  );
  return {
    patient,
    /**
     * A patient asked for by id (Query.patient) comes with everything under its trajectories, primed
     * into the loaders above: the trajectories are nearly always asked with it, and one statement
     * instead of two spares a round trip on the path every other subgraph's part of the query waits for.
     */
    patientWithTrajectories: byIdLoader(async (ids) =>
      (await reads.patientsWithTrajectories(db, ids)).map(({ trajectories, ...row }) => {
        patient.prime(row.id, row);
        trajectoriesByPatient.prime(row.id, trajectories.map(primeDetails));
        return row;
      }),
    ),
    trajectory: byIdLoader((ids) => reads.trajectories(db, ids)),
    trajectoriesByPatient,
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
