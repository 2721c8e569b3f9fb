/**
 * Forensic-CV rules, free of storage: what each kind of entry holds (the `details` JSON), how
 * input is validated before it is recorded, how stored details are checked when read, and the
 * versioning rules — a correction is a new version of the current version, never an overwrite.
 */
import { badInput, domainError } from '@ketengraph/service-kit';
import { RISK_INSTRUMENTS, RISK_LEVELS } from '@ketengraph/domain';

export const CV_ENTRY_KINDS = ['OFFENCE', 'DIAGNOSIS', 'RISK_ASSESSMENT', 'INCIDENT', 'LEAVE', 'TREATMENT', 'EARLY_WARNING_SIGN'] as const;
export type CvEntryKind = (typeof CV_ENTRY_KINDS)[number];
export const INCIDENT_SEVERITIES = ['LICHT', 'MATIG', 'ERNSTIG'] as const;
export const LEAVE_TYPES = ['BEGELEID', 'ONBEGELEID', 'TRANSMURAAL', 'PROEFVERLOF'] as const;
export { RISK_INSTRUMENTS, RISK_LEVELS };

export type RiskInstrument = (typeof RISK_INSTRUMENTS)[number];
export type RiskLevel = (typeof RISK_LEVELS)[number];
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];
export type LeaveType = (typeof LEAVE_TYPES)[number];

export const MAX_ID_LENGTH = 64;
export const MAX_CODE_LENGTH = 100;
export const MAX_TEXT_LENGTH = 2000;
export const MAX_FACTOR_LENGTH = 200;
export const MAX_FACTORS = 20;

/** Stored `details` per kind; dates are calendar dates as YYYY-MM-DD, as the seed writes them. */
export type OffenceDetails = { offenceType: string; article: string; committedOn: string; description: string };
export type DiagnosisDetails = { classification: string; description: string };
export type RiskAssessmentDetails = { instrument: RiskInstrument; outcomeLevel: RiskLevel; riskFactors: string[]; protectiveFactors: string[] };
export type IncidentDetails = { incidentType: string; severity: IncidentSeverity; description: string };
export type LeaveDetails = { leaveType: LeaveType; endsOn: string; outcome: string };
export type TreatmentDetails = { treatmentType: string; endsOn: string | null; summary: string };
/** Only imported from EPDs (FHIR Flag) so far; no mutation records one. */
export type EarlyWarningSignDetails = { signal: string; signalCode: string | null; active: boolean; endsOn: string | null };

export interface DetailsByKind {
  OFFENCE: OffenceDetails;
  DIAGNOSIS: DiagnosisDetails;
  RISK_ASSESSMENT: RiskAssessmentDetails;
  INCIDENT: IncidentDetails;
  LEAVE: LeaveDetails;
  TREATMENT: TreatmentDetails;
  EARLY_WARNING_SIGN: EarlyWarningSignDetails;
}

// ---------------------------------------------------------------------------------------------
// Input validation (writes). Messages name the field, never the value typed.

export function assertNotBlank(value: string, field: string, maxLength: number): string {
  const trimmed = value.trim();
  if (!trimmed) throw badInput(`${field} must not be empty.`, field);
  if (trimmed.length > maxLength) throw badInput(`${field} must be at most ${maxLength} characters.`, field);
  return trimmed;
}

/** The subgraph does not hold the patient register; it only checks the id is a sane id. */
export function assertId(value: string, field: string): string {
  return assertNotBlank(value, field, MAX_ID_LENGTH);
}

export function assertDateNotInFuture(date: Date, field: string, today: Date): void {
  if (date.getTime() > today.getTime()) throw badInput(`${field} must not be in the future.`, field);
}

function assertNotBefore(date: Date, earliest: Date, field: string, earliestField: string): void {
  if (date.getTime() < earliest.getTime()) throw badInput(`${field} must not be before ${earliestField}.`, field);
}

function assertOneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw badInput(`${field} must be one of ${allowed.join(', ')}.`, field);
  return value as T;
}

function assertFactors(values: readonly string[], field: string): string[] {
  if (values.length > MAX_FACTORS) throw badInput(`${field} holds at most ${MAX_FACTORS} factors.`, field);
  return values.map((value, i) => assertNotBlank(value, `${field}[${i}]`, MAX_FACTOR_LENGTH));
}

// ICD-10 (F60.2, Z91.8) or DSM-5's numeric codes (301.7, 295.90).
const CLASSIFICATION = /^(?:[A-Z][0-9]{2}(?:\.[0-9A-Z]{1,4})?|[0-9]{3}(?:\.[0-9]{1,2})?)$/;

export function assertClassification(value: string): string {
  const code = assertNotBlank(value, 'classification', 10).toUpperCase();
  if (!CLASSIFICATION.test(code)) throw badInput('classification must be an ICD-10 code such as F60.2 or a DSM-5 code such as 301.7.', 'classification');
  return code;
}

export function toDateString(date: Date): string {
  return date.toISOString().slice(0, 10);
}

const DATE_STRING = /^\d{4}-\d{2}-\d{2}$/;

export function fromDateString(value: string): Date {
  return new Date(`${value}T00:00:00Z`);
}

/** Fields every entry has, checked the same way for every kind. */
export interface CommonInput {
  patientId: string;
  occurredOn: Date;
  corrects?: string | null;
}

export interface ValidCommon {
  patientId: string;
  occurredOn: Date;
  corrects: string | null;
}

export function validateCommon(input: CommonInput, today: Date): ValidCommon {
  const patientId = assertId(input.patientId, 'patientId');
  assertDateNotInFuture(input.occurredOn, 'occurredOn', today);
  const corrects = input.corrects == null ? null : assertId(input.corrects, 'corrects');
  return { patientId, occurredOn: input.occurredOn, corrects };
}

export function validateOffence(input: { offenceType: string; article: string; committedOn: Date; description: string }, today: Date): OffenceDetails {
  const offenceType = assertNotBlank(input.offenceType, 'offenceType', MAX_CODE_LENGTH);
  const article = assertNotBlank(input.article, 'article', MAX_CODE_LENGTH);
  assertDateNotInFuture(input.committedOn, 'committedOn', today);
  const description = assertNotBlank(input.description, 'description', MAX_TEXT_LENGTH);
  return { offenceType, article, committedOn: toDateString(input.committedOn), description };
}

export function validateDiagnosis(input: { classification: string; description: string }): DiagnosisDetails {
  return { classification: assertClassification(input.classification), description: assertNotBlank(input.description, 'description', MAX_TEXT_LENGTH) };
}

export function validateRiskAssessment(input: {
  instrument: string;
  outcomeLevel: string;
  riskFactors: readonly string[];
  protectiveFactors: readonly string[];
}): RiskAssessmentDetails {
  return {
    instrument: assertOneOf(input.instrument, RISK_INSTRUMENTS, 'instrument'),
    outcomeLevel: assertOneOf(input.outcomeLevel, RISK_LEVELS, 'outcomeLevel'),
    riskFactors: assertFactors(input.riskFactors, 'riskFactors'),
    protectiveFactors: assertFactors(input.protectiveFactors, 'protectiveFactors'),
  };
}

export function validateIncident(input: { incidentType: string; severity: string; description: string }): IncidentDetails {
  return {
    incidentType: assertNotBlank(input.incidentType, 'incidentType', MAX_CODE_LENGTH),
    severity: assertOneOf(input.severity, INCIDENT_SEVERITIES, 'severity'),
    description: assertNotBlank(input.description, 'description', MAX_TEXT_LENGTH),
  };
}

export function validateLeave(input: { occurredOn: Date; leaveType: string; endsOn: Date; outcome: string }, today: Date): LeaveDetails {
  const leaveType = assertOneOf(input.leaveType, LEAVE_TYPES, 'leaveType');
  assertDateNotInFuture(input.endsOn, 'endsOn', today);
  assertNotBefore(input.endsOn, input.occurredOn, 'endsOn', 'occurredOn');
  return { leaveType, endsOn: toDateString(input.endsOn), outcome: assertNotBlank(input.outcome, 'outcome', MAX_CODE_LENGTH) };
}

export function validateTreatment(input: { occurredOn: Date; treatmentType: string; endsOn?: Date | null; summary: string }, today: Date): TreatmentDetails {
  const treatmentType = assertNotBlank(input.treatmentType, 'treatmentType', MAX_CODE_LENGTH);
  if (input.endsOn) {
    assertDateNotInFuture(input.endsOn, 'endsOn', today);
    assertNotBefore(input.endsOn, input.occurredOn, 'endsOn', 'occurredOn');
  }
  return { treatmentType, endsOn: input.endsOn ? toDateString(input.endsOn) : null, summary: assertNotBlank(input.summary, 'summary', MAX_TEXT_LENGTH) };
}

// ---------------------------------------------------------------------------------------------
// Reading stored details: the shape must match the kind, or the row is refused as corrupt.

export class CvDetailsError extends Error {
  override name = 'CvDetailsError';
}

type Shape = Record<string, (value: unknown) => boolean>;
const isString = (value: unknown) => typeof value === 'string';
const isDate = (value: unknown) => typeof value === 'string' && DATE_STRING.test(value);
const isDateOrNull = (value: unknown) => value === null || isDate(value);
const isStringOrNull = (value: unknown) => value === null || isString(value);
const isBoolean = (value: unknown) => typeof value === 'boolean';
const isStringArray = (value: unknown) => Array.isArray(value) && value.every(isString);
const isOneOf = (allowed: readonly string[]) => (value: unknown) => typeof value === 'string' && allowed.includes(value);

const SHAPES: Record<CvEntryKind, Shape> = {
  OFFENCE: { offenceType: isString, article: isString, committedOn: isDate, description: isString },
  DIAGNOSIS: { classification: isString, description: isString },
  RISK_ASSESSMENT: { instrument: isOneOf(RISK_INSTRUMENTS), outcomeLevel: isOneOf(RISK_LEVELS), riskFactors: isStringArray, protectiveFactors: isStringArray },
  INCIDENT: { incidentType: isString, severity: isOneOf(INCIDENT_SEVERITIES), description: isString },
  LEAVE: { leaveType: isOneOf(LEAVE_TYPES), endsOn: isDate, outcome: isString },
  TREATMENT: { treatmentType: isString, endsOn: isDateOrNull, summary: isString },
  EARLY_WARNING_SIGN: { signal: isString, signalCode: isStringOrNull, active: isBoolean, endsOn: isDateOrNull },
};

export function parseDetails<K extends CvEntryKind>(kind: K, value: unknown): DetailsByKind[K] {
  const shape = SHAPES[kind];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CvDetailsError(`Stored ${kind} details are not an object.`);
  const record = value as Record<string, unknown>;
  for (const [field, check] of Object.entries(shape)) {
    if (!check(record[field])) throw new CvDetailsError(`Stored ${kind} details have an invalid ${field}.`);
  }
  return record as DetailsByKind[K];
}

// ---------------------------------------------------------------------------------------------
// Versions.

export interface VersionedRow {
  id: string;
  entryId: string;
  version: number;
}

/** The current versions (highest version per entryId), in the order given. */
export function currentVersions<T extends VersionedRow>(rows: readonly T[]): T[] {
  const highest = new Map<string, number>();
  for (const row of rows) highest.set(row.entryId, Math.max(highest.get(row.entryId) ?? 0, row.version));
  return rows.filter((row) => row.version === highest.get(row.entryId));
}

export interface CorrectionTarget extends VersionedRow {
  kind: CvEntryKind;
  patientId: string;
}

/**
 * Refuses a correction of a row of another kind or patient, or of a version that is no longer
 * current (someone corrected it already). Returns the version the correction gets.
 */
export function nextVersionFor(target: CorrectionTarget, correction: { kind: CvEntryKind; patientId: string }, latestVersion: number): number {
  if (target.kind !== correction.kind) throw badInput(`corrects refers to a ${target.kind} entry, not a ${correction.kind} entry.`, 'corrects');
  if (target.patientId !== correction.patientId) throw badInput('corrects refers to an entry of another patient.', 'corrects');
  if (target.version !== latestVersion) {
    throw domainError(
      'INVALID_TRANSITION',
      `Version ${target.version} of this entry has already been corrected; correct the current version ${latestVersion}.`,
      {
        entryId: target.entryId,
        currentVersion: latestVersion,
      },
    );
  }
  return latestVersion + 1;
}
