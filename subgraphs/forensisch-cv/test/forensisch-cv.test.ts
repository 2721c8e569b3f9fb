import { DEFAULT_SEED, generatePatients, generateProviders, syntheticBsn, type SeedPatient } from '@ketengraph/seed-data';
import { startSubgraph, type RunningSubgraph } from '@ketengraph/service-kit';
import { createTestGateway } from '@ketengraph/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.js';
import { reads } from '../src/loaders.js';
import { forensischCv } from '../src/subgraph.js';
import { indicatiestelling } from '@ketengraph/indicatiestelling';

const SEED_PATIENTS = 30;
const actor = { userId: 'user-nifp-7', organisationId: 'nifp', role: 'indicatiesteller' };
const gateway = await createTestGateway();

let sg: RunningSubgraph<PrismaClient>;
// The patient register: an entry for a patient it does not know is refused.
let ind: RunningSubgraph<unknown>;
let seeded: SeedPatient[];

interface Result {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

async function gql(query: string, variables: Record<string, unknown> = {}, as: typeof actor | null = actor): Promise<Result> {
  const response = await fetch(sg.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(as ? await gateway.authorization(as) : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Result;
}

async function ok(query: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const result = await gql(query, variables);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

const rowCount = async () => (await sg.db.query<{ n: number }>('SELECT count(*)::int AS n FROM "CvEntry"'))[0]!.n;

/** A refused mutation answers with the code and leaves the table as it was. */
async function refused(query: string, variables: Record<string, unknown>, code: string, as: typeof actor | null = actor) {
  const before = await rowCount();
  const result = await gql(query, variables, as);
  expect(result.errors?.[0]?.extensions?.code, JSON.stringify(result.errors)).toBe(code);
  expect(await rowCount()).toBe(before);
  return result.errors![0]!;
}

const ENTRY_FIELDS = `__typename id entryId version kind occurredOn recordedAt isCurrent
  author { userId organisationId } supersedes { id version } versions { id version isCurrent }`;

const CV = `query($reps: [_Any!]!, $kinds: [CvEntryKind!], $all: Boolean, $first: Int, $after: String) {
  _entities(representations: $reps) { ... on Patient { id forensicCv {
    patientId lastUpdatedAt
    entries(kinds: $kinds, includeSuperseded: $all, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { ${ENTRY_FIELDS}
        ... on OffenceEntry { offenceType article committedOn description }
        ... on DiagnosisEntry { classification description }
        ... on RiskAssessmentEntry { instrument outcomeLevel riskFactors protectiveFactors }
        ... on IncidentEntry { incidentType severity description }
        ... on LeaveEntry { leaveType startsOn endsOn outcome }
        ... on TreatmentEntry { treatmentType startsOn endsOn summary } } }
    }
    offences { totalCount edges { node { id offenceType } } }
    diagnoses { totalCount edges { node { id classification } } }
    riskAssessments { totalCount edges { node { id version instrument outcomeLevel riskFactors protectiveFactors } } }
    incidents { totalCount edges { node { id severity } } }
    leaves { totalCount edges { node { id leaveType } } }
    treatments { totalCount edges { node { id treatmentType endsOn } } }
  } } } }`;

async function cvOf(patientId: string, variables: Record<string, unknown> = {}) {
  const data = await ok(CV, { reps: [{ __typename: 'Patient', id: patientId }], ...variables });
  return data._entities[0].forensicCv;
}

const RECORD_RISK = `mutation($input: RecordRiskAssessmentInput!) { recordRiskAssessment(input: $input) { ${ENTRY_FIELDS} instrument outcomeLevel riskFactors protectiveFactors } }`;
const RECORD_OFFENCE = `mutation($input: RecordOffenceInput!) { recordOffence(input: $input) { ${ENTRY_FIELDS} offenceType article committedOn description } }`;
const RECORD_DIAGNOSIS = `mutation($input: RecordDiagnosisInput!) { recordDiagnosis(input: $input) { ${ENTRY_FIELDS} classification description } }`;
const RECORD_INCIDENT = `mutation($input: RecordIncidentInput!) { recordIncident(input: $input) { ${ENTRY_FIELDS} incidentType severity description } }`;
const RECORD_LEAVE = `mutation($input: RecordLeaveInput!) { recordLeave(input: $input) { ${ENTRY_FIELDS} leaveType startsOn endsOn outcome } }`;
const RECORD_TREATMENT = `mutation($input: RecordTreatmentInput!) { recordTreatment(input: $input) { ${ENTRY_FIELDS} treatmentType startsOn endsOn summary } }`;

const dayOffset = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const risk = (patientId: string, extra: Record<string, unknown> = {}) => ({
  patientId,
  occurredOn: '2026-03-02',
  instrument: 'HCR_20V3',
  outcomeLevel: 'HOOG',
  riskFactors: ['impulsiviteit', 'middelengebruik'],
  protectiveFactors: ['dagbesteding'],
  ...extra,
});

beforeAll(async () => {
  ind = await startSubgraph(indicatiestelling, { port: 0, dataDir: 'memory://', seedPatients: SEED_PATIENTS, gatewayKeys: gateway.gatewayKeys });
  sg = await startSubgraph(forensischCv, {
    port: 0,
    dataDir: 'memory://',
    seedPatients: SEED_PATIENTS,
    gatewayKeys: gateway.gatewayKeys,
    relationshipSources: { 'own-patients': 'http://127.0.0.1:9/graphql', 'own-supervisees': ind.url },
  });
  // The patients these tests write for, registered (fixture data) so the CV accepts entries for them.
  await (ind.prisma as any).patient.createMany({
    data: ['patient-record-1', 'patient-correct-1', 'patient-refused-1', 'another-patient'].map((id, i) => ({
      id,
      bsn: syntheticBsn(70_000 + i),
      givenName: 'Test',
      familyName: 'Cv',
      birthDate: new Date('1980-01-01'),
    })),
  });
  seeded = [...generatePatients(DEFAULT_SEED, SEED_PATIENTS, generateProviders(DEFAULT_SEED))];
});

afterAll(async () => {
  await sg?.close();
  await ind?.close();
});

describe('seeded CV', () => {
  it('holds every generated entry, corrections linked to the version they correct', async () => {
    const expected = seeded.reduce((n, p) => n + p.cvEntries.length, 0);
    expect(await rowCount()).toBe(expected);
    const corrected = seeded.find((p) => p.cvEntries.some((e) => e.version === 2))!;
    const v2 = corrected.cvEntries.find((e) => e.version === 2)!;
    const v1 = corrected.cvEntries.find((e) => e.entryId === v2.entryId && e.version === 1)!;
    const cv = await cvOf(corrected.id, { all: true, first: 100 });
    expect(cv.patientId).toBe(corrected.id);
    expect(cv.entries.totalCount).toBe(corrected.cvEntries.length);
    const node = cv.entries.edges.find((e: any) => e.node.id === v2.id).node;
    expect(node).toMatchObject({ version: 2, isCurrent: true, entryId: v1.entryId, supersedes: { id: v1.id, version: 1 } });
    expect(node.versions).toEqual([
      { id: v1.id, version: 1, isCurrent: false },
      { id: v2.id, version: 2, isCurrent: true },
    ]);
    // Without superseded versions, the corrected original drops out of the list.
    const current = await cvOf(corrected.id, { first: 100 });
    expect(current.entries.totalCount).toBe(corrected.cvEntries.length - 1);
    expect(current.entries.edges.some((e: any) => e.node.id === v1.id)).toBe(false);
  });

  it('maps details to the typed entries, newest occurrence first', async () => {
    const patient = seeded[0]!;
    const cv = await cvOf(patient.id, { first: 100, all: true });
    const dates = cv.entries.edges.map((e: any) => e.node.occurredOn);
    expect([...dates].sort().reverse()).toEqual(dates);
    expect(cv.entries.totalCount).toBe(patient.cvEntries.length);
    for (const entry of patient.cvEntries) {
      const node = cv.entries.edges.find((e: any) => e.node.id === entry.id).node;
      const { endsOn, ...details } = entry.details as Record<string, unknown>;
      expect(node).toMatchObject({
        kind: entry.kind,
        entryId: entry.entryId,
        version: entry.version,
        occurredOn: entry.occurredOn.toISOString().slice(0, 10),
        recordedAt: entry.recordedAt.toISOString(),
        author: { userId: entry.authorId, organisationId: entry.authorOrganisationId },
        ...details,
      });
      if (endsOn !== undefined) expect(node.endsOn).toBe(endsOn);
    }
    const current = (kind: string) =>
      patient.cvEntries.filter((e) => e.kind === kind && !patient.cvEntries.some((later) => later.entryId === e.entryId && later.version > e.version)).length;
    expect(cv.offences.totalCount).toBe(current('OFFENCE'));
    expect(cv.riskAssessments.totalCount).toBe(current('RISK_ASSESSMENT'));
    expect(cv.treatments.totalCount).toBe(current('TREATMENT'));
    expect(cv.lastUpdatedAt).toBe(new Date(Math.max(...patient.cvEntries.map((e) => e.recordedAt.getTime()))).toISOString());
  });

  it('filters by kind and pages with cursors', async () => {
    const patient = seeded.find((p) => p.cvEntries.length >= 6)!;
    const only = await cvOf(patient.id, { kinds: ['OFFENCE', 'DIAGNOSIS'], first: 100 });
    expect(only.entries.edges.every((e: any) => ['OFFENCE', 'DIAGNOSIS'].includes(e.node.kind))).toBe(true);
    expect(only.entries.totalCount).toBe(only.offences.totalCount + only.diagnoses.totalCount);
    const first = await cvOf(patient.id, { first: 2 });
    expect(first.entries.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const next = await cvOf(patient.id, { first: 2, after: first.entries.pageInfo.endCursor });
    expect(next.entries.pageInfo.hasPreviousPage).toBe(true);
    const all = await cvOf(patient.id, { first: 4 });
    expect([...first.entries.edges, ...next.entries.edges].map((e: any) => e.node.id)).toEqual(all.entries.edges.map((e: any) => e.node.id));
  });

  it('gives a patient without entries an empty CV, not null', async () => {
    const cv = await cvOf('patient-without-entries');
    expect(cv).toMatchObject({ patientId: 'patient-without-entries', lastUpdatedAt: null, entries: { totalCount: 0, edges: [] }, offences: { totalCount: 0 } });
  });
});

describe('batching', () => {
  it('resolves 2 and 20 patients through _entities with the same number of statements', async () => {
    const query = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Patient { id forensicCv {
      lastUpdatedAt
      riskAssessments { totalCount edges { node { id instrument outcomeLevel riskFactors isCurrent author { userId } versions { id } supersedes { id } } } }
      incidents { edges { node { id severity incidentType versions { version } } } }
      entries(includeSuperseded: true) { edges { node { id kind isCurrent supersedes { id } versions { id isCurrent } ... on LeaveEntry { endsOn } } } }
    } } } }`;
    const statementsFor = async (count: number) => {
      const reps = seeded.slice(0, count).map((p) => ({ __typename: 'Patient', id: p.id }));
      const before = sg.db.statementCount();
      const data = await ok(query, { reps });
      expect(data._entities).toHaveLength(count);
      return sg.db.statementCount() - before;
    };
    const two = await statementsFor(2);
    const twenty = await statementsFor(20);
    expect(twenty).toBe(two);
    expect(two).toBeLessThanOrEqual(2);
  });
});

describe('append-only store', () => {
  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    const [row] = await sg.db.query<{ id: string; details: unknown }>('SELECT "id", "details" FROM "CvEntry" ORDER BY "id" LIMIT 1');
    const before = await rowCount();
    await expect(sg.db.query(`UPDATE "CvEntry" SET "authorId" = 'someone-else' WHERE "id" = $1`, [row!.id])).rejects.toThrow(/append-only/);
    await expect(sg.db.query(`UPDATE "CvEntry" SET "details" = '{}'::jsonb`)).rejects.toThrow(/append-only/);
    await expect(sg.db.query('DELETE FROM "CvEntry" WHERE "id" = $1', [row!.id])).rejects.toThrow(/append-only/);
    await expect(sg.db.query('TRUNCATE "CvEntry"')).rejects.toThrow(/append-only/);
    const [after] = await sg.db.query<{ authorId: string; details: unknown }>('SELECT "authorId", "details" FROM "CvEntry" WHERE "id" = $1', [row!.id]);
    expect(after!.authorId).not.toBe('someone-else');
    expect(after!.details).toEqual(row!.details);
    expect(await rowCount()).toBe(before);
  });

  it('refuses a second row with the same entry and version, and a correction that does not continue its entry', async () => {
    const [row] = await sg.db.query<{ id: string; entryId: string; patientId: string }>(
      `SELECT "id", "entryId", "patientId" FROM "CvEntry" WHERE "version" = 1 AND "kind" = 'OFFENCE' LIMIT 1`,
    );
    const insert = `INSERT INTO "CvEntry" ("id", "patientId", "entryId", "version", "kind", "occurredOn", "authorId", "authorOrganisationId", "details", "supersedesId")
      VALUES ($1, $2, $3, $4, $5, '2026-01-01', 'u', 'o', '{}'::jsonb, $6)`;
    await expect(sg.db.query(insert, ['dup-1', row!.patientId, row!.entryId, 1, 'OFFENCE', null])).rejects.toThrow();
    await expect(sg.db.query(insert, ['wrong-kind', row!.patientId, row!.entryId, 2, 'INCIDENT', row!.id])).rejects.toThrow(/continue/);
    await expect(sg.db.query(insert, ['wrong-patient', 'other', row!.entryId, 2, 'OFFENCE', row!.id])).rejects.toThrow(/continue/);
    await expect(sg.db.query(insert, ['skip-version', row!.patientId, row!.entryId, 3, 'OFFENCE', row!.id])).rejects.toThrow(/continue/);
    await expect(sg.db.query(insert, ['v2-no-link', row!.patientId, row!.entryId, 2, 'OFFENCE', null])).rejects.toThrow();
  });
});

describe('recording entries', () => {
  const patientId = 'patient-record-1';

  it('records every kind with the actor as author and now as recordedAt', async () => {
    const started = Date.now();
    const offence = (
      await ok(RECORD_OFFENCE, {
        input: {
          patientId,
          occurredOn: '2025-11-04',
          offenceType: 'BEDREIGING',
          article: '285 Sr',
          committedOn: '2025-06-01',
          description: 'Veroordeeld voor bedreiging.',
        },
      })
    ).recordOffence;
    expect(offence).toMatchObject({
      __typename: 'OffenceEntry',
      kind: 'OFFENCE',
      version: 1,
      isCurrent: true,
      supersedes: null,
      occurredOn: '2025-11-04',
      author: { userId: actor.userId, organisationId: actor.organisationId },
      offenceType: 'BEDREIGING',
      article: '285 Sr',
      committedOn: '2025-06-01',
    });
    expect(offence.versions).toEqual([{ id: offence.id, version: 1, isCurrent: true }]);
    expect(new Date(offence.recordedAt).getTime()).toBeGreaterThanOrEqual(started - 1000);

    const diagnosis = (
      await ok(RECORD_DIAGNOSIS, {
        input: { patientId, occurredOn: '2026-01-10', classification: 'f60.2', description: ' Antisociale persoonlijkheidsstoornis ' },
      })
    ).recordDiagnosis;
    expect(diagnosis).toMatchObject({ __typename: 'DiagnosisEntry', classification: 'F60.2', description: 'Antisociale persoonlijkheidsstoornis' });

    const assessment = (await ok(RECORD_RISK, { input: risk(patientId) })).recordRiskAssessment;
    expect(assessment).toMatchObject({
      __typename: 'RiskAssessmentEntry',
      instrument: 'HCR_20V3',
      outcomeLevel: 'HOOG',
      riskFactors: ['impulsiviteit', 'middelengebruik'],
      protectiveFactors: ['dagbesteding'],
    });

    const incident = (
      await ok(RECORD_INCIDENT, {
        input: { patientId, occurredOn: dayOffset(0), incidentType: 'ONTTREKKING', severity: 'ERNSTIG', description: 'Niet teruggekeerd van verlof.' },
      })
    ).recordIncident;
    expect(incident).toMatchObject({ __typename: 'IncidentEntry', severity: 'ERNSTIG', occurredOn: dayOffset(0) });

    const leave = (await ok(RECORD_LEAVE, { input: { patientId, occurredOn: '2026-04-01', leaveType: 'BEGELEID', endsOn: '2026-04-02', outcome: 'VOLTOOID' } }))
      .recordLeave;
    expect(leave).toMatchObject({
      __typename: 'LeaveEntry',
      leaveType: 'BEGELEID',
      startsOn: '2026-04-01',
      occurredOn: '2026-04-01',
      endsOn: '2026-04-02',
      outcome: 'VOLTOOID',
    });

    const treatment = (
      await ok(RECORD_TREATMENT, { input: { patientId, occurredOn: '2026-02-01', treatmentType: 'SCHEMATHERAPIE', summary: 'Gestart met schematherapie.' } })
    ).recordTreatment;
    expect(treatment).toMatchObject({ __typename: 'TreatmentEntry', startsOn: '2026-02-01', endsOn: null });

    const cv = await cvOf(patientId);
    expect(cv.entries.totalCount).toBe(6);
    for (const field of ['offences', 'diagnoses', 'riskAssessments', 'incidents', 'leaves', 'treatments']) expect(cv[field].totalCount).toBe(1);
    expect(cv.entries.edges[0].node.id).toBe(incident.id);
  });
});

describe('corrections', () => {
  const patientId = 'patient-correct-1';

  it('adds a new version; the history stays readable', async () => {
    const v1 = (await ok(RECORD_RISK, { input: risk(patientId) })).recordRiskAssessment;
    const v2 = (await ok(RECORD_RISK, { input: risk(patientId, { outcomeLevel: 'MATIG', corrects: v1.id }) })).recordRiskAssessment;
    expect(v2).toMatchObject({ entryId: v1.entryId, version: 2, isCurrent: true, outcomeLevel: 'MATIG', supersedes: { id: v1.id, version: 1 } });
    expect(v2.versions).toEqual([
      { id: v1.id, version: 1, isCurrent: false },
      { id: v2.id, version: 2, isCurrent: true },
    ]);
    const v3 = (await ok(RECORD_RISK, { input: risk(patientId, { outcomeLevel: 'LAAG', riskFactors: [], corrects: v2.id }) })).recordRiskAssessment;
    expect(v3).toMatchObject({ version: 3, supersedes: { id: v2.id }, riskFactors: [] });

    const cv = await cvOf(patientId, { all: false });
    expect(cv.riskAssessments.edges.map((e: any) => e.node)).toEqual([
      { id: v3.id, version: 3, instrument: 'HCR_20V3', outcomeLevel: 'LAAG', riskFactors: [], protectiveFactors: ['dagbesteding'] },
    ]);
    expect(cv.entries.totalCount).toBe(1);
    const history = await cvOf(patientId, { all: true });
    expect(history.entries.totalCount).toBe(3);
    const original = history.entries.edges.find((e: any) => e.node.id === v1.id).node;
    expect(original).toMatchObject({ isCurrent: false, outcomeLevel: 'HOOG', riskFactors: ['impulsiviteit', 'middelengebruik'], supersedes: null });
    expect(original.versions.map((v: any) => v.version)).toEqual([1, 2, 3]);
  });

  it('refuses to correct a version that was already corrected', async () => {
    const v1 = (await ok(RECORD_RISK, { input: risk(patientId) })).recordRiskAssessment;
    await ok(RECORD_RISK, { input: risk(patientId, { outcomeLevel: 'LAAG', corrects: v1.id }) });
    const error = await refused(RECORD_RISK, { input: risk(patientId, { outcomeLevel: 'ZEER_HOOG', corrects: v1.id }) }, 'INVALID_TRANSITION');
    expect(error.extensions).toMatchObject({ entryId: v1.entryId, currentVersion: 2 });
  });

  it('lets exactly one of two concurrent corrections of the same version win', async () => {
    const v1 = (await ok(RECORD_RISK, { input: risk(patientId) })).recordRiskAssessment;
    const before = await rowCount();
    const results = await Promise.all(
      ['LAAG', 'MATIG', 'ZEER_HOOG'].map((outcomeLevel) => gql(RECORD_RISK, { input: risk(patientId, { outcomeLevel, corrects: v1.id }) })),
    );
    const winners = results.filter((r) => !r.errors);
    const losers = results.filter((r) => r.errors);
    expect(winners).toHaveLength(1);
    expect(losers.map((r) => r.errors![0]!.extensions?.code)).toEqual(['INVALID_TRANSITION', 'INVALID_TRANSITION']);
    expect(await rowCount()).toBe(before + 1);
    const cv = await cvOf(patientId, { all: true, first: 100 });
    const versions = cv.entries.edges
      .filter((e: any) => e.node.entryId === v1.entryId)
      .map((e: any) => e.node.version)
      .sort();
    expect(versions).toEqual([1, 2]);
  });

  it('refuses a correction of an unknown entry, another kind or another patient', async () => {
    const incident = (
      await ok(RECORD_INCIDENT, {
        input: { patientId, occurredOn: '2026-01-01', incidentType: 'AGRESSIE_VERBAAL', severity: 'LICHT', description: 'Schelden.' },
      })
    ).recordIncident;
    await refused(RECORD_RISK, { input: risk(patientId, { corrects: 'no-such-entry' }) }, 'NOT_FOUND');
    const kind = await refused(RECORD_RISK, { input: risk(patientId, { corrects: incident.id }) }, 'BAD_USER_INPUT');
    expect(kind.extensions).toMatchObject({ field: 'corrects' });
    const other = await refused(
      RECORD_INCIDENT,
      {
        input: {
          patientId: 'another-patient',
          occurredOn: '2026-01-01',
          incidentType: 'AGRESSIE_VERBAAL',
          severity: 'LICHT',
          description: 'x',
          corrects: incident.id,
        },
      },
      'BAD_USER_INPUT',
    );
    expect(other.extensions).toMatchObject({ field: 'corrects' });
  });
});

describe('refusals change nothing', () => {
  const patientId = 'patient-refused-1';

  it('UNAUTHENTICATED without an actor, before the input is looked at', async () => {
    await refused(RECORD_RISK, { input: risk(patientId) }, 'UNAUTHENTICATED', null);
    await refused(RECORD_RISK, { input: risk('', { corrects: 'no-such-entry' }) }, 'UNAUTHENTICATED', null);
  });

  it('BAD_USER_INPUT for invalid input of every kind', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [RECORD_RISK, risk(' '), 'patientId'],
      [RECORD_RISK, risk('p'.repeat(65)), 'patientId'],
      [RECORD_RISK, risk(patientId, { occurredOn: dayOffset(2) }), 'occurredOn'],
      [RECORD_RISK, risk(patientId, { riskFactors: Array(21).fill('impulsiviteit') }), 'riskFactors'],
      [RECORD_RISK, risk(patientId, { protectiveFactors: ['  '] }), 'protectiveFactors[0]'],
      [
        RECORD_OFFENCE,
        { patientId, occurredOn: '2025-01-01', offenceType: 'GEWELD', article: '302 Sr', committedOn: dayOffset(3), description: 'x' },
        'committedOn',
      ],
      [
        RECORD_OFFENCE,
        { patientId, occurredOn: '2025-01-01', offenceType: 'GEWELD', article: '302 Sr', committedOn: '2024-01-01', description: 'x'.repeat(2001) },
        'description',
      ],
      [RECORD_DIAGNOSIS, { patientId, occurredOn: '2025-01-01', classification: 'borderline', description: 'x' }, 'classification'],
      [RECORD_INCIDENT, { patientId, occurredOn: '2025-01-01', incidentType: '', severity: 'LICHT', description: 'x' }, 'incidentType'],
      [RECORD_LEAVE, { patientId, occurredOn: '2025-01-05', leaveType: 'ONBEGELEID', endsOn: '2025-01-04', outcome: 'VOLTOOID' }, 'endsOn'],
      [RECORD_TREATMENT, { patientId, occurredOn: '2025-01-05', treatmentType: 'EMDR', endsOn: dayOffset(30), summary: 'x' }, 'endsOn'],
    ];
    for (const [mutation, input, field] of cases) {
      const error = await refused(mutation, { input }, 'BAD_USER_INPUT');
      expect(error.extensions?.field).toBe(field);
    }
  });

  it('BAD_USER_INPUT for values outside the schema enums and malformed dates', async () => {
    await refused(RECORD_RISK, { input: risk(patientId, { instrument: 'PCL_R' }) }, 'BAD_USER_INPUT');
    await refused(
      RECORD_INCIDENT,
      { input: { patientId, occurredOn: '2025-01-01', incidentType: 'X', severity: 'ZWAAR', description: 'x' } },
      'BAD_USER_INPUT',
    );
    await refused(RECORD_RISK, { input: risk(patientId, { occurredOn: '2025-02-30' }) }, 'BAD_USER_INPUT');
  });

  it('never echoes what the user typed', async () => {
    const secret = 'Pietje Puk, BSN 123456782';
    const error = await refused(
      RECORD_DIAGNOSIS,
      { input: { patientId, occurredOn: '2025-01-01', classification: secret, description: secret } },
      'BAD_USER_INPUT',
    );
    expect(error.message).not.toContain('Pietje');
    expect(error.message).not.toContain('123456782');
  });
});

describe('the hot read in SQL (loaders.ts) returns the rows Prisma does', () => {
  it('every version of every entry of the patients asked', async () => {
    const patientIds = [...new Set((await sg.prisma.cvEntry.findMany({ orderBy: { id: 'asc' }, take: 20 })).map((e) => e.patientId))];
    const expected = await sg.prisma.cvEntry.findMany({
      where: { patientId: { in: patientIds } },
      orderBy: [{ occurredOn: 'desc' }, { recordedAt: 'desc' }, { id: 'asc' }],
    });
    expect(expected.length).toBeGreaterThan(patientIds.length);
    expect(await reads.entriesByPatient(sg.db, patientIds)).toEqual(expected);
  });
});
