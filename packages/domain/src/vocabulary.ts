/** The chain's vocabulary: read by the subgraphs' domain modules and by the seed generator. */
export const CARE_TYPES = ['KLINISCH', 'VERBLIJF', 'AMBULANT'] as const;
export type CareType = (typeof CARE_TYPES)[number];

export const REGIONS = ['NOORDOOST', 'NOORDWEST', 'MIDDEN', 'ZUIDOOST', 'ZUIDWEST'] as const;
export type Region = (typeof REGIONS)[number];

export const PROVIDER_TYPES = ['FPC', 'FPK', 'FPA', 'PPC', 'FBW', 'AMBULANT'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export const LEGAL_TITLES = [
  'TBS_DWANGVERPLEGING',
  'TBS_VOORWAARDEN',
  'PIJ',
  'VOORWAARDELIJKE_VEROORDELING',
  'ISD',
  'OVERPLAATSING_GEVANGENIS',
  'WFZ_ZORGMACHTIGING',
] as const;
export type LegalTitle = (typeof LEGAL_TITLES)[number];

export const INDICATION_ISSUERS = ['NIFP', 'RECLASSERING_NEDERLAND', 'SVG', 'LEGER_DES_HEILS_JR', 'PMO'] as const;
export const PROBATION_ORGANISATIONS = ['RECLASSERING_NEDERLAND', 'SVG', 'LEGER_DES_HEILS_JR'] as const;
export const CARE_INTENSITIES = ['LAAG', 'MIDDEL', 'HOOG'] as const;

export const PLACEMENT_STATUSES = ['REQUESTED', 'INTAKE', 'ACCEPTED', 'DECLINED', 'DECIDED', 'ADMITTED', 'TRANSFERRED', 'ENDED', 'WITHDRAWN'] as const;
export type PlacementStatus = (typeof PLACEMENT_STATUSES)[number];

/** Recognised risk-assessment instruments (HCR-20V3, HKT-R, …), as the CV records them. */
export const RISK_INSTRUMENTS = ['HCR_20V3', 'HKT_R', 'FAM', 'FARE', 'B_SAFER', 'SRP', 'STATIC_99R', 'STABLE_2007', 'ACUTE_2007', 'SAPROF'] as const;
export const RISK_LEVELS = ['LAAG', 'MATIG', 'HOOG', 'ZEER_HOOG'] as const;

/** Minimum content of a warm handover (minimale overdrachtsinhoud) the chain agreed on. */
export const HANDOVER_ITEMS = [
  'SETTING',
  'POPULATION',
  'RESPONSIVITY',
  'RESIDENTIAL_INTENSITY',
  'PATIENT_WISHES',
  'OFFENCE_INFORMATION',
  'COURSE_OF_STAY',
  'EARLY_WARNING_SIGNS',
  'DIAGNOSTIC_DATA',
  'RISK_AND_PROTECTIVE_FACTORS',
  'GOALS_CONTINUED',
  'RECOVERY_GOALS',
] as const;
export type HandoverItem = (typeof HANDOVER_ITEMS)[number];

/** The five pillars of the Kwaliteitskader Forensische Zorg (in force since 1 October 2022). */
export const QUALITY_PILLARS = [
  {
    number: 1,
    code: 'VEILIGHEID_PERSOONSGERICHT',
    name: 'Veiligheid en persoonsgerichte zorg',
    description: 'Safety and person-centred care: safe care for patient, staff and society, built around the person.',
  },
  {
    number: 2,
    code: 'FORENSISCHE_PROFESSIONALITEIT',
    name: 'Forensische professionaliteit',
    description: 'Forensic professionalism: qualified staff who work with recognised risk assessment and treatment methods.',
  },
  {
    number: 3,
    code: 'ORGANISATIE_VAN_ZORG',
    name: 'Organisatie van zorg',
    description: 'Organisation of care: governance, processes and conditions that make good forensic care possible.',
  },
  {
    number: 4,
    code: 'SAMENWERKING',
    name: 'Samenwerking',
    description: 'Collaboration: working with chain partners, including warm handover between providers.',
  },
  {
    number: 5,
    code: 'VERANTWOORDEN_RESULTATEN',
    name: 'Verantwoorden van resultaten',
    description: 'Reporting results: accounting for quality through the yearly quality report and performance indicators.',
  },
] as const;
export type QualityPillarCode = (typeof QUALITY_PILLARS)[number]['code'];
