/**
 * The explorer's sample users in development: one per kind of chain partner, so a developer sees
 * field-level access at work by switching between them. The provider organisations and the
 * example patient come from the deterministic seed (packages/seed-data, its default seed): patient
 * 0 is the example patient; the provider "with patients" has an active placement of seed patient
 * 1 and none of patient 0; the provider "without patients" has no open placement and none ended
 * within the handover period at the default seed size. test/explorer-routes.test.ts checks
 * these facts against the seed and against a running federation.
 */
import { loadAccessPolicy, type Principal } from '@ketengraph/service-kit';

/** Seed patient 0: the example patient of the explorer's trajectory example. */
export const EXAMPLE_PATIENT_ID = '1d492f9d-9c40-4c3f-9eb5-134778936369';
/** Seed patient 1: admitted at the provider "with patients". */
export const PROVIDER_PATIENT_ID = '289e8785-d83d-432d-a350-5ea264f207a5';
/** GGz Centraal FPC Utrecht 4: has seed patient 1 admitted, never had patient 0. */
export const PROVIDER_WITH_PATIENTS_ID = '8e36a647-8a05-4d4b-ae1d-1641ab3ece1f';
/** Trajectum AMBULANT Venray 152: only placements that ended long ago, were declined or withdrawn. */
export const PROVIDER_WITHOUT_PATIENTS_ID = 'ff381c7f-cea4-4255-9e7c-594134a342f3';

export interface SampleUser {
  id: string;
  label: string;
  description: string;
  role: string;
  organisationId: string;
}

export const SAMPLE_USERS: readonly SampleUser[] = [
  {
    id: 'plaatser',
    label: 'Plaatser DJI (placement officer)',
    role: 'plaatser',
    organisationId: 'dji-forzo',
    description:
      'Ziet identiteit, justitiële gegevens, risico en logistiek van alle patiënten, geen medische gegevens (sees identity, judicial, risk and logistics of every patient, no medical data).',
  },
  {
    id: 'indicatiesteller',
    label: 'Indicatiesteller NIFP (indication officer)',
    role: 'indicatiesteller',
    organisationId: 'nifp',
    description: 'Ziet alle patiëntgegevens, ook medische (sees all patient data, medical included).',
  },
  {
    id: 'zorgaanbieder-met-patienten',
    label: 'Zorgaanbieder met patiënten (provider with patients)',
    role: 'zorgaanbieder',
    organisationId: PROVIDER_WITH_PATIENTS_ID,
    description: `Ziet alleen eigen patiënten, bijvoorbeeld ${PROVIDER_PATIENT_ID}; van de voorbeeldpatiënt niets (sees only its own patients, e.g. ${PROVIDER_PATIENT_ID}; nothing of the example patient).`,
  },
  {
    id: 'zorgaanbieder-zonder-patienten',
    label: 'Zorgaanbieder zonder patiënten (provider without patients)',
    role: 'zorgaanbieder',
    organisationId: PROVIDER_WITHOUT_PATIENTS_ID,
    description:
      'Heeft geen lopende plaatsingen: ziet geen patiëntgegevens, wel capaciteit en kwaliteit (has no current placements: no patient data, but capacity and quality).',
  },
  {
    id: 'reclassering',
    label: 'Reclassering Nederland (probation)',
    role: 'reclassering',
    organisationId: 'RECLASSERING_NEDERLAND',
    description: 'Ziet eigen toezichtcliënten, geen medische gegevens (sees its own supervisees, no medical data).',
  },
  {
    id: 'inspectie',
    label: 'Inspectie IGJ (inspectorate)',
    role: 'inspectie',
    organisationId: 'igj',
    description: 'Ziet alleen aantallen en geaggregeerde gegevens (sees counts and aggregates only).',
  },
  {
    id: 'privacy-officer',
    label: 'Privacy officer (logbeheerder)',
    role: 'privacy_officer',
    organisationId: 'ketengraph-fg',
    description: 'Leest het toegangslog met auditTrail (reads the access log with auditTrail).',
  },
];

/** The principal a sample user's development token carries: the role's scopes and first purpose, as `npm run token` gives. */
export function sampleUserPrincipal(user: SampleUser): Principal {
  const policy = loadAccessPolicy();
  return {
    subject: `dev-${user.id}`,
    organisationId: user.organisationId,
    role: user.role,
    scopes: policy.roleScopes[user.role] ?? [],
    purpose: policy.rolePurposes[user.role]?.[0] ?? null,
  };
}
