/**
 * The write-access matrix's cells, generated from `writeRules` in schema/access-policy.json:
 * every mutation, every role, each relationship its organisation can have with the patient. One
 * cell: a fresh fixture, the step through the gateway as that organisation, the state re-read
 * from the owning database, the step's record in the access log. Used on the embedded databases
 * (test/write-matrix.test.ts) and on PostgreSQL (test/postgres.test.ts).
 */
import { loadAccessPolicy } from '@ketengraph/service-kit';
import { expect } from 'vitest';
import type { Federation } from './federation.js';
import {
  createWriteFixture,
  freshBsn,
  ISSUER,
  phasesOf,
  principalFor,
  PROBATION,
  requestAs,
  today,
  type CareKind,
  type PlacementStatus,
  type Providers,
  type WriteFixture,
} from './write-scenario.js';

const policy = loadAccessPolicy();

export interface Case {
  label: string;
  organisationId: string;
  /** The write relationships this organisation has with the fixture's patient, trajectory and placement. */
  holds: (mutation: Mutation, careType: CareKind) => string[];
}

export function casesOf(role: string, providers: Providers): Case[] {
  if (role === 'zorgaanbieder') {
    return [
      {
        label: 'addressed (current provider; sends on a transfer)',
        organisationId: providers.addressed,
        holds: (m) => ['addressed', 'sending', 'own-patients', 'own-organisation', ...(m.status === 'ADMITTED' ? ['treating'] : [])],
      },
      { label: 'receiving (admitted by transfer)', organisationId: providers.receiving, holds: () => ['receiving', 'treating', 'own-patients'] },
      { label: 'sending (transferred the patient out recently)', organisationId: providers.sending, holds: () => ['own-patients'] },
      { label: 'ended long ago', organisationId: providers.endedLongAgo, holds: () => [] },
      { label: 'none', organisationId: providers.none, holds: () => [] },
    ];
  }
  if (role === 'reclassering') {
    return [
      { label: 'assigned', organisationId: PROBATION, holds: (_, careType) => ['assigned', ...(careType === 'AMBULANT' ? ['placing'] : [])] },
      { label: 'none', organisationId: 'SVG', holds: () => [] },
    ];
  }
  if (role === 'indicatiesteller') {
    return [
      { label: 'issuing', organisationId: ISSUER, holds: () => ['issuing'] },
      { label: 'none', organisationId: 'LEGER_DES_HEILS_JR', holds: () => [] },
    ];
  }
  if (role === 'plaatser')
    return [{ label: 'placing (DJI)', organisationId: 'dji-forzo', holds: (_, careType) => (careType === 'KLINISCH' ? ['placing'] : []) }];
  return [{ label: 'none', organisationId: `${role}-org`, holds: () => [] }];
}

export interface Mutation {
  name: string;
  /** Status of the placement acted on. */
  status: PlacementStatus;
  /** Whether the placing organisation differs by care type (plaatsing's steps): then both care kinds are run. */
  byCareType?: boolean;
  /** Patient-less steps (a quality report) and those refused before the patient exists (registerPatient) have no patient in their record. */
  patientless?: 'always' | 'when-refused';
  document: string;
  variables: (f: WriteFixture, organisationId: string) => Record<string, unknown>;
  /** A fact that the step changes, read from the owning database. */
  state: (federation: Federation, f: WriteFixture, variables: Record<string, unknown>) => Promise<unknown>;
  /** More fixture data the step needs, and what to clear after each cell. */
  prepare?: (federation: Federation, f: WriteFixture) => Promise<void>;
  cleanup?: (federation: Federation, f: WriteFixture) => Promise<void>;
}

export const ind = (federation: Federation) => federation.subgraphs.indicatiestelling.prisma as any;
export const pl = (federation: Federation) => federation.subgraphs.plaatsing.prisma as any;
export const cv = (federation: Federation) => federation.subgraphs['forensisch-cv'].prisma as any;
export const kw = (federation: Federation) => federation.subgraphs.kwaliteit.prisma as any;
export const placementStatus = (federation: Federation, f: WriteFixture) =>
  pl(federation)
    .placement.findUnique({ where: { id: f.placementId } })
    .then((p: { status: string }) => p.status);
const cvCount = (federation: Federation, f: WriteFixture) => cv(federation).cvEntry.count({ where: { patientId: f.patientId } });
const step = (name: string, status: PlacementStatus, args: string, variables: Mutation['variables']): Mutation => ({
  name,
  status,
  byCareType: true,
  document: `mutation M(${args}) { ${name}(${args.replace(/\$(\w+): [^,]+/g, '$1: $$$1')}) { id status } }`,
  variables,
  state: placementStatus,
});
const pillars = ['VEILIGHEID_PERSOONSGERICHT', 'FORENSISCHE_PROFESSIONALITEIT', 'ORGANISATIE_VAN_ZORG', 'SAMENWERKING', 'VERANTWOORDEN_RESULTATEN'];

export const MUTATIONS: Mutation[] = [
  {
    name: 'registerPatient',
    status: 'ADMITTED',
    patientless: 'when-refused',
    document: 'mutation M($input: RegisterPatientInput!) { registerPatient(input: $input) { id } }',
    variables: () => ({ input: { bsn: freshBsn(), givenName: 'Nieuw', familyName: 'Ingeschreven', birthDate: '1991-02-03' } }),
    state: (federation, _, v) => ind(federation).patient.count({ where: { bsn: (v.input as { bsn: string }).bsn } }),
  },
  {
    name: 'openTrajectory',
    status: 'ADMITTED',
    document: 'mutation M($input: OpenTrajectoryInput!) { openTrajectory(input: $input) { id probationOrganisation } }',
    variables: (f, org) => ({
      input: {
        patientId: f.patientId,
        legalTitle: 'TBS_VOORWAARDEN',
        titleStartsOn: today(),
        probationOrganisation: org,
        careType: 'KLINISCH',
        securityLevel: 3,
      },
    }),
    state: (federation, f) => ind(federation).trajectory.count({ where: { patientId: f.patientId } }),
  },
  {
    name: 'closeTrajectory',
    status: 'ADMITTED',
    document: 'mutation M($id: ID!, $endsOn: Date!) { closeTrajectory(trajectoryId: $id, endsOn: $endsOn) { id status } }',
    variables: (f) => ({ id: f.trajectoryId, endsOn: today() }),
    state: (federation, f) =>
      ind(federation)
        .trajectory.findUnique({ where: { id: f.trajectoryId } })
        .then((t: { status: string }) => t.status),
  },
  {
    name: 'issueIndication',
    status: 'ADMITTED',
    document: 'mutation M($input: IssueIndicationInput!) { issueIndication(input: $input) { id status } }',
    variables: (f, org) => ({
      input: {
        trajectoryId: f.trajectoryId,
        issuer: org,
        careType: f.careType,
        securityLevel: f.securityLevel,
        intensity: 'HOOG',
        validFrom: today(),
        validUntil: '2030-01-01',
      },
    }),
    state: (federation, f) => ind(federation).indication.count({ where: { trajectoryId: f.trajectoryId } }),
  },
  {
    name: 'withdrawIndication',
    status: 'ADMITTED',
    document: 'mutation M($id: ID!) { withdrawIndication(indicationId: $id, reason: "Onjuist afgegeven") { id status } }',
    variables: (f) => ({ id: f.indicationId }),
    state: (federation, f) =>
      ind(federation)
        .indication.findUnique({ where: { id: f.indicationId } })
        .then((i: { status: string }) => i.status),
  },
  {
    name: 'issueTrajectoryIndication',
    status: 'ADMITTED',
    document: 'mutation M($input: IssueTrajectoryIndicationInput!) { issueTrajectoryIndication(input: $input) { id currentPhase { ordinal } } }',
    variables: (f, org) => ({ input: { trajectoryId: f.trajectoryId, issuer: org, issuedOn: today(), phases: phasesOf(f.careType) } }),
    state: (federation, f) =>
      ind(federation)
        .trajectoryIndication.findUnique({ where: { trajectoryId: f.trajectoryId } })
        .then((t: { issuedOn: Date }) => t.issuedOn.toISOString()),
  },
  {
    name: 'advanceTrajectoryPhase',
    status: 'ADMITTED',
    document: 'mutation M($id: ID!) { advanceTrajectoryPhase(trajectoryId: $id) { id currentPhase { ordinal } } }',
    variables: (f) => ({ id: f.trajectoryId }),
    state: (federation, f) =>
      ind(federation)
        .trajectory.findUnique({ where: { id: f.trajectoryId } })
        .then((t: { currentPhase: number }) => t.currentPhase),
  },
  {
    name: 'recordScalingDecision',
    status: 'ADMITTED',
    document: 'mutation M($input: RecordScalingDecisionInput!) { recordScalingDecision(input: $input) { id toSecurityLevel } }',
    variables: (f) => ({
      input: {
        trajectoryId: f.trajectoryId,
        careType: f.careType,
        securityLevel: f.careType === 'KLINISCH' ? 5 : 2,
        reason: 'Binnen de fasegrenzen opschalen',
      },
    }),
    state: (federation, f) => ind(federation).scalingDecision.count({ where: { trajectoryId: f.trajectoryId } }),
  },
  {
    name: 'requestPlacement',
    status: 'ADMITTED',
    byCareType: true,
    document: 'mutation M($input: RequestPlacementInput!) { requestPlacement(input: $input) { id status } }',
    variables: (f) => ({
      input: { patientId: f.patientId, trajectoryId: f.trajectoryId, providerId: f.providers.addressed, careType: f.careType, securityLevel: f.securityLevel },
    }),
    state: (federation, f) => pl(federation).placement.count({ where: { trajectoryId: f.trajectoryId } }),
  },
  step('startIntake', 'REQUESTED', '$placementId: ID!', (f) => ({ placementId: f.placementId })),
  step('acceptPlacement', 'INTAKE', '$placementId: ID!', (f) => ({ placementId: f.placementId })),
  step('declinePlacement', 'INTAKE', '$placementId: ID!, $reason: String!', (f) => ({ placementId: f.placementId, reason: 'Geen passend aanbod' })),
  step('decidePlacement', 'ACCEPTED', '$placementId: ID!', (f) => ({ placementId: f.placementId })),
  step('admitPatient', 'DECIDED', '$placementId: ID!, $admittedOn: Date!', (f) => ({ placementId: f.placementId, admittedOn: today() })),
  step('transferPlacement', 'ADMITTED', '$placementId: ID!, $toProviderId: ID!, $transferredOn: Date!', (f) => ({
    placementId: f.placementId,
    toProviderId: f.providers.receiving,
    transferredOn: today(),
  })),
  step('endPlacement', 'ADMITTED', '$placementId: ID!, $endedOn: Date!, $reason: String!', (f) => ({
    placementId: f.placementId,
    endedOn: today(),
    reason: 'Einde titel',
  })),
  step('withdrawPlacement', 'REQUESTED', '$placementId: ID!, $reason: String!', (f) => ({ placementId: f.placementId, reason: 'Verzoek ingetrokken' })),
  ...(
    [
      ['recordOffence', 'RecordOffenceInput', { offenceType: 'GEWELD', article: '302 Sr', committedOn: '2020-01-01', description: 'Mishandeling.' }],
      ['recordDiagnosis', 'RecordDiagnosisInput', { classification: 'F60.2', description: 'Antisociale persoonlijkheidsstoornis' }],
      [
        'recordRiskAssessment',
        'RecordRiskAssessmentInput',
        { instrument: 'HCR_20V3', outcomeLevel: 'MATIG', riskFactors: ['impulsiviteit'], protectiveFactors: ['dagbesteding'] },
      ],
      ['recordIncident', 'RecordIncidentInput', { incidentType: 'AGRESSIE_VERBAAL', severity: 'LICHT', description: 'Verbale agressie op de afdeling.' }],
      ['recordLeave', 'RecordLeaveInput', { leaveType: 'BEGELEID', endsOn: today(), outcome: 'VOLTOOID' }],
      ['recordTreatment', 'RecordTreatmentInput', { treatmentType: 'EMDR', summary: 'Behandeling volgens plan.' }],
    ] as const
  ).map(
    ([name, input, details]): Mutation => ({
      name,
      status: 'ADMITTED',
      document: `mutation M($input: ${input}!) { ${name}(input: $input) { id } }`,
      variables: (f) => ({ input: { patientId: f.patientId, occurredOn: today(), ...details } }),
      state: (federation, f) => cvCount(federation, f),
    }),
  ),
  {
    name: 'connectEpd',
    status: 'ADMITTED',
    patientless: 'always',
    document: 'mutation M($input: ConnectEpdInput!) { connectEpd(input: $input) { providerId } }',
    variables: (f) => ({
      input: { providerId: f.providers.addressed, fhirBaseUrl: 'https://epd.invalid/fhir', tokenUrl: 'https://epd.invalid/token', clientId: 'ketengraph' },
    }),
    state: (federation, f) => cv(federation).epdSource.count({ where: { providerId: f.providers.addressed } }),
    // No EPD is left registered for the next cells (reads would ask it).
    cleanup: (federation, f) => cv(federation).epdSource.deleteMany({ where: { providerId: f.providers.addressed } }),
  },
  {
    name: 'disconnectEpd',
    status: 'ADMITTED',
    patientless: 'always',
    document: 'mutation M($providerId: ID!) { disconnectEpd(providerId: $providerId) }',
    variables: (f) => ({ providerId: f.providers.addressed }),
    state: (federation, f) => cv(federation).epdSource.count({ where: { providerId: f.providers.addressed } }),
    prepare: async (federation, f) => {
      const data = {
        fhirBaseUrl: 'https://epd.invalid/fhir',
        tokenUrl: 'https://epd.invalid/token',
        clientId: 'ketengraph',
        signingKey: {},
        registeredAt: new Date(),
        registeredBy: 'fixture',
      };
      await cv(federation).epdSource.upsert({
        where: { providerId: f.providers.addressed },
        create: { providerId: f.providers.addressed, ...data },
        update: data,
      });
    },
    cleanup: (federation, f) => cv(federation).epdSource.deleteMany({ where: { providerId: f.providers.addressed } }),
  },
  {
    name: 'submitQualityReport',
    status: 'ADMITTED',
    patientless: 'always',
    document: 'mutation M($input: SubmitQualityReportInput!) { submitQualityReport(input: $input) { id year } }',
    variables: (f) => ({
      input: {
        providerId: f.providers.addressed,
        year: 2022,
        forensicPatientCount: 12,
        djiFundedShare: 0.5,
        pillarScores: pillars.map((pillar) => ({ pillar, maturity: 2, explanation: 'Plan-do-check-act.' })),
        indicators: [{ code: 'SEPARATIES', name: 'Separaties', value: 1.5, unit: 'per 1000 dagen', explanation: 'Geregistreerd.' }],
      },
    }),
    state: (federation, f) => kw(federation).qualityReport.count({ where: { providerId: f.providers.addressed, year: 2022 } }),
  },
  {
    name: 'recordHandover',
    status: 'ADMITTED',
    document: 'mutation M($input: RecordHandoverInput!) { recordHandover(input: $input) { id completeness } }',
    variables: (f) => ({
      input: {
        trajectoryId: f.trajectoryId,
        patientId: f.patientId,
        fromProviderId: f.providers.sending,
        toProviderId: f.providers.receiving,
        handedOverOn: today(),
        items: ['SETTING', 'POPULATION'],
      },
    }),
    state: (federation, f) => kw(federation).handover.count({ where: { trajectoryId: f.trajectoryId } }),
  },
];

export function expectedApplied(coordinate: string, role: string, holds: string[]): boolean {
  const purpose = policy.rolePurposes[role]?.[0];
  return (policy.writeRules[coordinate]?.allow ?? []).some(
    (a) => a.role === role && a.purpose === purpose && (a.relationship === 'none' || holds.includes(a.relationship)),
  );
}

/** The care kinds a role's cells run in: both where the placing organisation differs by care type. */
export function careKindsOf(mutation: Mutation, role: string): CareKind[] {
  return mutation.byCareType && (role === 'plaatser' || role === 'reclassering') ? ['KLINISCH', 'AMBULANT'] : ['KLINISCH'];
}

/** Runs one cell and asserts it; true when the step was (rightly) applied. */
export async function runCell(
  federation: Federation,
  providers: Record<CareKind, Providers>,
  mutation: Mutation,
  role: string,
  kase: Case,
  careType: CareKind,
): Promise<boolean> {
  const coordinate = `Mutation.${mutation.name}`;
  const { label, organisationId, holds } = kase;
  const cell = `${mutation.name} × ${role} (${label}, ${careType})`;
  const fixture = await createWriteFixture(federation, providers, careType, mutation.status);
  await mutation.prepare?.(federation, fixture);
  const variables = mutation.variables(fixture, organisationId);
  const before = await mutation.state(federation, fixture, variables);
  const { requestId, response } = await requestAs(federation, principalFor(role, organisationId), mutation.document, variables);
  const after = await mutation.state(federation, fixture, variables);
  await mutation.cleanup?.(federation, fixture);
  const applied = expectedApplied(coordinate, role, holds(mutation, careType));
  const codes = (response.errors ?? []).map((e) => e.extensions?.code);
  if (applied) {
    expect(response.errors, cell).toBeUndefined();
    expect((response.data as Record<string, unknown>)[mutation.name], cell).toBeTruthy();
    expect(after, cell).not.toEqual(before);
  } else {
    // Refused by the write rules in the subgraph, or by the gateway's scope check before it: never applied, never "withheld" for a change.
    const scoped = policy.roleScopes[role]?.includes(policy.mutationScopes[ownerOf(mutation.name)]!);
    expect(codes, cell).toEqual([scoped ? 'FORBIDDEN' : 'UNAUTHORIZED_FIELD_OR_TYPE']);
    expect(response.data?.[mutation.name] ?? null, cell).toBeNull();
    expect(after, cell).toEqual(before);
    if (scoped) expect(response.errors![0]!.message, cell).not.toContain(fixture.patientId);
  }
  const records = await federation.gateway.audit.ofRequest(requestId);
  const record = records.find((r) => r.fieldsDelivered.includes(coordinate) || r.fieldsWithheld.includes(coordinate));
  expect(record, `${cell}: access-log record`).toBeDefined();
  expect(record!.outcome, cell).toBe(applied ? 'granted' : 'denied');
  expect(record!.action, cell).toBe(policy.writeRules[coordinate]!.action);
  expect([record!.organisationId, record!.role, record!.purpose], cell).toEqual([organisationId, role, policy.rolePurposes[role]![0]]);
  const patientless =
    mutation.patientless === 'always' ||
    (mutation.patientless === 'when-refused' && !applied) ||
    !policy.roleScopes[role]?.includes(policy.mutationScopes[ownerOf(mutation.name)]!);
  if (!patientless) expect(record!.patientId, cell).toBe(mutation.name === 'registerPatient' ? (response.data as any).registerPatient.id : fixture.patientId);
  return applied;
}

const OWNERS: Record<string, string> = {};
export function ownerOf(name: string): string {
  if (!Object.keys(OWNERS).length) {
    for (const [subgraph, names] of Object.entries({
      indicatiestelling: [
        'registerPatient',
        'openTrajectory',
        'closeTrajectory',
        'issueIndication',
        'withdrawIndication',
        'issueTrajectoryIndication',
        'advanceTrajectoryPhase',
        'recordScalingDecision',
      ],
      plaatsing: [
        'requestPlacement',
        'startIntake',
        'acceptPlacement',
        'declinePlacement',
        'decidePlacement',
        'admitPatient',
        'transferPlacement',
        'endPlacement',
        'withdrawPlacement',
      ],
      'forensisch-cv': [
        'connectEpd',
        'disconnectEpd',
        'recordOffence',
        'recordDiagnosis',
        'recordRiskAssessment',
        'recordIncident',
        'recordLeave',
        'recordTreatment',
      ],
      kwaliteit: ['submitQualityReport', 'recordHandover'],
    }))
      for (const n of names) OWNERS[n] = subgraph;
  }
  return OWNERS[name]!;
}
