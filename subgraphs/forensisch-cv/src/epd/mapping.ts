/**
 * FHIR R4 → forensic-CV entry: the one place that says how a provider's EPD record becomes a CV
 * entry (README: "Connecting an EPD" has the same table). Pure functions, no I/O. A resource that
 * cannot be mapped is never dropped silently: it comes back as `unmapped` with a reason code, and
 * the importer counts it.
 */
import type { AdverseEvent, CodeableConcept, Condition, EpisodeOfCare, Flag, Meta, RiskAssessment } from '@medplum/fhirtypes';
import {
  MAX_CODE_LENGTH,
  MAX_FACTOR_LENGTH,
  MAX_FACTORS,
  MAX_TEXT_LENGTH,
  type CvEntryKind,
  type DetailsByKind,
  type IncidentSeverity,
  type RiskInstrument,
  type RiskLevel,
} from '../domain/entries.js';

/** The resource types read from an EPD, and the CV kind each becomes. */
export const RESOURCE_KINDS = {
  RiskAssessment: 'RISK_ASSESSMENT',
  Condition: 'DIAGNOSIS',
  Flag: 'EARLY_WARNING_SIGN',
  AdverseEvent: 'INCIDENT',
  EpisodeOfCare: 'TREATMENT',
} as const satisfies Record<string, CvEntryKind>;

export type EpdResourceType = keyof typeof RESOURCE_KINDS;
export const EPD_RESOURCE_TYPES = Object.keys(RESOURCE_KINDS) as EpdResourceType[];

export function resourceTypesFor(kinds: Iterable<CvEntryKind>): EpdResourceType[] {
  const wanted = new Set(kinds);
  return EPD_RESOURCE_TYPES.filter((type) => wanted.has(RESOURCE_KINDS[type]));
}

export type UnmappedReason =
  | 'NOT_AN_OBJECT'
  | 'UNSUPPORTED_RESOURCE_TYPE'
  | 'NO_ID'
  | 'NO_VERSION'
  | 'ENTERED_IN_ERROR'
  | 'NO_DATE'
  | 'UNKNOWN_INSTRUMENT'
  | 'NO_RISK_LEVEL'
  | 'NOT_A_DIAGNOSIS'
  | 'NO_CLASSIFICATION'
  | 'NO_DESCRIPTION'
  | 'POTENTIAL_EVENT'
  | 'NO_SEVERITY'
  | 'OTHER_PATIENT'
  | 'MALFORMED';

export interface Provenance {
  resourceType: string;
  resourceId: string;
  versionId: string | null;
  lastUpdated: Date | null;
}

export type Mapped =
  | { outcome: 'mapped'; provenance: Provenance; kind: CvEntryKind; occurredOn: Date; details: DetailsByKind[CvEntryKind] }
  | { outcome: 'unmapped'; provenance: Provenance; reason: UnmappedReason };

// ---------------------------------------------------------------------------------------------
// Vocabulary.

const normalise = (text: string) =>
  text
    .toUpperCase()
    .normalize('NFKD')
    .replace(/[^A-Z0-9]/g, '');

/**
 * Instruments by their usual spellings (code, display or text, compared without case, spaces or
 * punctuation): EPDs code them locally, so the names are what is shared.
 */
const INSTRUMENTS: Record<string, RiskInstrument> = {
  HCR20V3: 'HCR_20V3',
  HCR20VERSIE3: 'HCR_20V3',
  HCR20VERSION3: 'HCR_20V3',
  HKTR: 'HKT_R',
  HKTREVISIE: 'HKT_R',
  HISTORISCHKLINISCHTOEKOMSTREVISIE: 'HKT_R',
  FAM: 'FAM',
  FEMALEADDITIONALMANUAL: 'FAM',
  FARE: 'FARE',
  FORENSISCHAMBULANTERISICOEVALUATIE: 'FARE',
  BSAFER: 'B_SAFER',
  SRP: 'SRP',
  STALKINGRISKPROFILE: 'SRP',
  STATIC99R: 'STATIC_99R',
  STABLE2007: 'STABLE_2007',
  ACUTE2007: 'ACUTE_2007',
  SAPROF: 'SAPROF',
};

/** FHIR's risk-probability codes (http://terminology.hl7.org/CodeSystem/risk-probability) and their Dutch words. */
const RISK_LEVELS: Record<string, RiskLevel> = {
  NEGLIGIBLE: 'LAAG',
  LOW: 'LAAG',
  LAAG: 'LAAG',
  MODERATE: 'MATIG',
  MATIG: 'MATIG',
  MIDDEN: 'MATIG',
  GEMIDDELD: 'MATIG',
  HIGH: 'HOOG',
  HOOG: 'HOOG',
  CERTAIN: 'ZEER_HOOG',
  VERYHIGH: 'ZEER_HOOG',
  ZEERHOOG: 'ZEER_HOOG',
};
const LEVEL_ORDER: RiskLevel[] = ['LAAG', 'MATIG', 'HOOG', 'ZEER_HOOG'];

/** AdverseEvent.severity (http://terminology.hl7.org/CodeSystem/adverse-event-severity) and Dutch words. */
const SEVERITIES: Record<string, IncidentSeverity> = {
  MILD: 'LICHT',
  LICHT: 'LICHT',
  MODERATE: 'MATIG',
  MATIG: 'MATIG',
  SEVERE: 'ERNSTIG',
  ERNSTIG: 'ERNSTIG',
};

export const CONDITION_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-category';
const DIAGNOSIS_CATEGORIES = new Set(['problem-list-item', 'encounter-diagnosis']);

/** Code systems whose codes the CV takes as a classification (ICD-10 and its Dutch edition, DSM-5). */
const CLASSIFICATION_SYSTEMS = new Set([
  'http://hl7.org/fhir/sid/icd-10',
  'http://hl7.org/fhir/sid/icd-10-nl',
  'urn:oid:2.16.840.1.113883.6.3',
  'http://hl7.org/fhir/sid/dsm5',
  'urn:oid:2.16.840.1.113883.6.344',
]);
const CLASSIFICATION = /^(?:[A-Z][0-9]{2}(?:\.[0-9A-Z]{1,4})?|[0-9]{3}(?:\.[0-9]{1,2})?)$/;

/** Note prefixes that sort a RiskAssessment's notes into risk and protective factors. */
const PROTECTIVE_PREFIX = /^\s*(?:beschermende factor|protective factor)\s*:\s*/i;
const RISK_PREFIX = /^\s*(?:risicofactor|risk factor)\s*:\s*/i;

// ---------------------------------------------------------------------------------------------
// Helpers.

/** A FHIR list element: absent is empty, anything but an array is a malformed resource. */
function list<T>(value: T[] | undefined): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TypeError('not a list');
  return value;
}

function clip(text: string, max: number): string {
  const trimmed = text.replace(/\s+/g, ' ').trim();
  return trimmed.length > max ? `${trimmed.slice(0, max - 1)}…` : trimmed;
}

function conceptTexts(concept: CodeableConcept | undefined): string[] {
  if (!concept) return [];
  return [concept.text, ...list(concept.coding).flatMap((coding) => [coding.code, coding.display])].filter(
    (value): value is string => typeof value === 'string' && value.trim() !== '',
  );
}

function conceptLabel(concept: CodeableConcept | undefined): string | null {
  if (!concept) return null;
  const label = concept.text ?? concept.coding?.find((coding) => coding.display)?.display ?? concept.coding?.find((coding) => coding.code)?.code;
  return typeof label === 'string' && label.trim() ? label : null;
}

/** A FHIR date or dateTime as the calendar day it names (partial dates: the first day). */
export function fhirDay(value: string | undefined): Date | null {
  if (typeof value !== 'string') return null;
  const match = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(value);
  if (!match) return null;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2] ?? '1') - 1, Number(match[3] ?? '1')));
  return Number.isNaN(date.getTime()) ? null : date;
}

const toDay = (date: Date) => date.toISOString().slice(0, 10);

function provenanceOf(resource: { resourceType?: unknown; id?: unknown; meta?: Meta }): Provenance {
  const lastUpdated = typeof resource.meta?.lastUpdated === 'string' ? new Date(resource.meta.lastUpdated) : null;
  return {
    resourceType: String(resource.resourceType),
    resourceId: typeof resource.id === 'string' ? resource.id : '',
    versionId: typeof resource.meta?.versionId === 'string' && resource.meta.versionId ? resource.meta.versionId : null,
    lastUpdated: lastUpdated && !Number.isNaN(lastUpdated.getTime()) ? lastUpdated : null,
  };
}

type Result<K extends CvEntryKind> = { kind: K; occurredOn: Date; details: DetailsByKind[K] } | UnmappedReason;

// ---------------------------------------------------------------------------------------------
// Per resource type.

export function mapRiskAssessment(resource: RiskAssessment): Result<'RISK_ASSESSMENT'> {
  if (resource.status === 'entered-in-error') return 'ENTERED_IN_ERROR';
  const occurredOn = fhirDay(resource.occurrenceDateTime ?? resource.occurrencePeriod?.start);
  if (!occurredOn) return 'NO_DATE';
  const instrument = [...conceptTexts(resource.method), ...conceptTexts(resource.code)].map((text) => INSTRUMENTS[normalise(text)]).find(Boolean);
  if (!instrument) return 'UNKNOWN_INSTRUMENT';
  // Several predictions (outcomes) may be given: the CV keeps the highest level among them.
  const levels = list(resource.prediction).flatMap((prediction) =>
    conceptTexts(prediction.qualitativeRisk)
      .map((text) => RISK_LEVELS[normalise(text)])
      .filter(Boolean),
  ) as RiskLevel[];
  if (!levels.length) return 'NO_RISK_LEVEL';
  const outcomeLevel = levels.reduce((highest, level) => (LEVEL_ORDER.indexOf(level) > LEVEL_ORDER.indexOf(highest) ? level : highest));
  const riskFactors: string[] = [];
  const protectiveFactors: string[] = [];
  for (const basis of list(resource.basis)) if (basis.display?.trim()) riskFactors.push(basis.display);
  for (const note of list(resource.note)) {
    for (const line of (note.text ?? '').split('\n')) {
      if (PROTECTIVE_PREFIX.test(line)) protectiveFactors.push(line.replace(PROTECTIVE_PREFIX, ''));
      else if (RISK_PREFIX.test(line)) riskFactors.push(line.replace(RISK_PREFIX, ''));
    }
  }
  const factors = (list: string[]) =>
    list
      .map((text) => clip(text, MAX_FACTOR_LENGTH))
      .filter(Boolean)
      .slice(0, MAX_FACTORS);
  return {
    kind: 'RISK_ASSESSMENT',
    occurredOn,
    details: { instrument, outcomeLevel, riskFactors: factors(riskFactors), protectiveFactors: factors(protectiveFactors) },
  };
}

export function mapCondition(resource: Condition): Result<'DIAGNOSIS'> {
  const verification = resource.verificationStatus?.coding?.map((coding) => coding.code) ?? [];
  if (verification.includes('entered-in-error')) return 'ENTERED_IN_ERROR';
  const categories = list(resource.category).flatMap((category) => list(category.coding));
  if (!categories.some((coding) => coding.system === CONDITION_CATEGORY_SYSTEM && DIAGNOSIS_CATEGORIES.has(coding.code ?? ''))) return 'NOT_A_DIAGNOSIS';
  if (verification.includes('refuted')) return 'NOT_A_DIAGNOSIS';
  const classification = list(resource.code?.coding)
    .filter((coding) => CLASSIFICATION_SYSTEMS.has(coding.system ?? ''))
    .map((coding) => (coding.code ?? '').trim().toUpperCase())
    .find((code) => CLASSIFICATION.test(code));
  if (!classification) return 'NO_CLASSIFICATION';
  const occurredOn = fhirDay(resource.onsetDateTime ?? resource.onsetPeriod?.start ?? resource.recordedDate);
  if (!occurredOn) return 'NO_DATE';
  const description = conceptLabel(resource.code);
  if (!description) return 'NO_DESCRIPTION';
  return { kind: 'DIAGNOSIS', occurredOn, details: { classification, description: clip(description, MAX_TEXT_LENGTH) } };
}

export function mapFlag(resource: Flag): Result<'EARLY_WARNING_SIGN'> {
  if (resource.status === 'entered-in-error') return 'ENTERED_IN_ERROR';
  const occurredOn = fhirDay(resource.period?.start);
  if (!occurredOn) return 'NO_DATE';
  const signal = conceptLabel(resource.code);
  if (!signal) return 'NO_DESCRIPTION';
  const code = resource.code?.coding?.find((coding) => coding.code)?.code ?? null;
  const endsOn = fhirDay(resource.period?.end);
  return {
    kind: 'EARLY_WARNING_SIGN',
    occurredOn,
    details: {
      signal: clip(signal, MAX_TEXT_LENGTH),
      signalCode: code ? clip(code, MAX_CODE_LENGTH) : null,
      active: resource.status === 'active',
      endsOn: endsOn ? toDay(endsOn) : null,
    },
  };
}

export function mapAdverseEvent(resource: AdverseEvent): Result<'INCIDENT'> {
  // A near miss (actuality "potential") did not happen: it is no incident in the CV.
  if (resource.actuality === 'potential') return 'POTENTIAL_EVENT';
  const occurredOn = fhirDay(resource.date ?? resource.detected ?? resource.recordedDate);
  if (!occurredOn) return 'NO_DATE';
  const severity = conceptTexts(resource.severity)
    .map((text) => SEVERITIES[normalise(text)])
    .find(Boolean);
  if (!severity) return 'NO_SEVERITY';
  const description = conceptLabel(resource.event);
  if (!description) return 'NO_DESCRIPTION';
  const typeCode = resource.event?.coding?.find((coding) => coding.code)?.code ?? conceptLabel(resource.category?.[0]) ?? description;
  const incidentType =
    clip(
      typeCode
        .toUpperCase()
        .replace(/[^A-Z0-9]+/g, '_')
        .replace(/^_|_$/g, ''),
      MAX_CODE_LENGTH,
    ) || 'ONBEKEND';
  return { kind: 'INCIDENT', occurredOn, details: { incidentType, severity, description: clip(description, MAX_TEXT_LENGTH) } };
}

export function mapEpisodeOfCare(resource: EpisodeOfCare): Result<'TREATMENT'> {
  if (resource.status === 'entered-in-error' || resource.status === 'cancelled') return 'ENTERED_IN_ERROR';
  const occurredOn = fhirDay(resource.period?.start);
  if (!occurredOn) return 'NO_DATE';
  const type = list(resource.type)[0];
  const label = conceptLabel(type);
  if (!label) return 'NO_DESCRIPTION';
  const code = type?.coding?.find((coding) => coding.code)?.code ?? label;
  const endsOn = fhirDay(resource.period?.end);
  const organisation = resource.managingOrganization?.display;
  const summary = [label, `status ${resource.status}`, organisation ? `bij ${organisation}` : null].filter(Boolean).join(', ');
  return {
    kind: 'TREATMENT',
    occurredOn,
    details: {
      treatmentType:
        clip(
          code
            .toUpperCase()
            .replace(/[^A-Z0-9]+/g, '_')
            .replace(/^_|_$/g, ''),
          MAX_CODE_LENGTH,
        ) || 'ONBEKEND',
      endsOn: endsOn ? toDay(endsOn) : null,
      summary: clip(summary, MAX_TEXT_LENGTH),
    },
  };
}

const MAPPERS: Record<EpdResourceType, (resource: never) => Result<CvEntryKind>> = {
  RiskAssessment: mapRiskAssessment,
  Condition: mapCondition,
  Flag: mapFlag,
  AdverseEvent: mapAdverseEvent,
  EpisodeOfCare: mapEpisodeOfCare,
};

/** The patient a resource is about (EpisodeOfCare.patient, subject otherwise), as a FHIR id. */
function patientIdOf(resource: { resourceType: string; subject?: unknown; patient?: unknown }): string | null {
  const reference = (resource.resourceType === 'EpisodeOfCare' ? resource.patient : resource.subject) as { reference?: unknown } | undefined;
  const match = typeof reference?.reference === 'string' ? /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference.reference) : null;
  return match?.[1] ?? null;
}

/**
 * Maps one resource from a search Bundle; anything that is not a mappable resource is `unmapped`,
 * with the reason. With `patientIds` (the FHIR ids searched for), a resource about anyone else —
 * an EPD that answers more than was asked — is never put into this patient's CV (OTHER_PATIENT).
 */
export function mapResource(resource: unknown, patientIds?: readonly string[]): Mapped {
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
    return { outcome: 'unmapped', provenance: { resourceType: 'unknown', resourceId: '', versionId: null, lastUpdated: null }, reason: 'NOT_AN_OBJECT' };
  }
  const record = resource as { resourceType?: unknown; id?: unknown; meta?: Meta };
  const provenance = provenanceOf(record);
  if (!(typeof record.resourceType === 'string' && record.resourceType in MAPPERS))
    return { outcome: 'unmapped', provenance, reason: 'UNSUPPORTED_RESOURCE_TYPE' };
  if (!provenance.resourceId || provenance.resourceId.length > 64) return { outcome: 'unmapped', provenance, reason: 'NO_ID' };
  // Without versionId or lastUpdated a later version could not be told from the one imported.
  if (!provenance.versionId && !provenance.lastUpdated) return { outcome: 'unmapped', provenance, reason: 'NO_VERSION' };
  if (patientIds) {
    const about = patientIdOf(record as { resourceType: string });
    if (!about || !patientIds.includes(about)) return { outcome: 'unmapped', provenance, reason: 'OTHER_PATIENT' };
  }
  let result: Result<CvEntryKind>;
  try {
    result = MAPPERS[record.resourceType as EpdResourceType](resource as never);
  } catch {
    // A resource of the right type but the wrong shape (a string where an array belongs).
    result = 'MALFORMED';
  }
  if (typeof result === 'string') return { outcome: 'unmapped', provenance, reason: result };
  return { outcome: 'mapped', provenance, ...result };
}
