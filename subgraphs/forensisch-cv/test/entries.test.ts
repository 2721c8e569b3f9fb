import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  assertClassification,
  currentVersions,
  CvDetailsError,
  MAX_FACTORS,
  nextVersionFor,
  parseDetails,
  validateCommon,
  validateDiagnosis,
  validateIncident,
  validateLeave,
  validateOffence,
  validateRiskAssessment,
  validateTreatment,
} from '../src/domain/entries.js';

const today = new Date('2026-06-15T12:00:00Z');
const day = (value: string) => new Date(`${value}T00:00:00Z`);

function codeOf(fn: () => unknown): { code: unknown; field: unknown; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    const e = error as GraphQLError;
    return { code: e.extensions.code, field: e.extensions.field, message: e.message };
  }
  throw new Error('expected a refusal');
}

describe('common fields', () => {
  it('accepts a trimmed patient id, today and an optional correction', () => {
    expect(validateCommon({ patientId: '  p-1 ', occurredOn: day('2026-06-15') }, today)).toEqual({
      patientId: 'p-1',
      occurredOn: day('2026-06-15'),
      corrects: null,
    });
    expect(validateCommon({ patientId: 'p-1', occurredOn: day('2026-01-01'), corrects: 'e-1' }, today).corrects).toBe('e-1');
  });

  it('refuses blank or over-long ids and dates in the future', () => {
    expect(codeOf(() => validateCommon({ patientId: '   ', occurredOn: day('2026-01-01') }, today))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'patientId',
    });
    expect(codeOf(() => validateCommon({ patientId: 'x'.repeat(65), occurredOn: day('2026-01-01') }, today))).toMatchObject({ field: 'patientId' });
    expect(validateCommon({ patientId: 'x'.repeat(64), occurredOn: day('2026-01-01') }, today).patientId).toHaveLength(64);
    expect(codeOf(() => validateCommon({ patientId: 'p', occurredOn: day('2026-06-16') }, today))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'occurredOn',
    });
    expect(codeOf(() => validateCommon({ patientId: 'p', occurredOn: day('2026-01-01'), corrects: ' ' }, today))).toMatchObject({ field: 'corrects' });
  });
});

describe('per-kind validators', () => {
  it('offence: trims text, stores committedOn as a calendar date, refuses a future committedOn', () => {
    expect(validateOffence({ offenceType: ' GEWELD ', article: '302 Sr', committedOn: day('2025-02-03'), description: ' Veroordeeld. ' }, today)).toEqual({
      offenceType: 'GEWELD',
      article: '302 Sr',
      committedOn: '2025-02-03',
      description: 'Veroordeeld.',
    });
    expect(codeOf(() => validateOffence({ offenceType: 'GEWELD', article: '302 Sr', committedOn: day('2027-01-01'), description: 'x' }, today))).toMatchObject({
      field: 'committedOn',
    });
    expect(codeOf(() => validateOffence({ offenceType: 'GEWELD', article: ' ', committedOn: day('2025-01-01'), description: 'x' }, today))).toMatchObject({
      field: 'article',
    });
    expect(
      codeOf(() => validateOffence({ offenceType: 'x'.repeat(101), article: 'a', committedOn: day('2025-01-01'), description: 'x' }, today)),
    ).toMatchObject({ field: 'offenceType' });
  });

  it('diagnosis: accepts ICD-10 and DSM-5 codes, refuses anything else', () => {
    expect(assertClassification(' f60.2 ')).toBe('F60.2');
    expect(assertClassification('301.7')).toBe('301.7');
    expect(assertClassification('F20')).toBe('F20');
    for (const bad of ['schizofrenie', 'F6', '3017', 'F60.2; DROP', '']) {
      expect(codeOf(() => assertClassification(bad))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'classification' });
    }
    expect(codeOf(() => validateDiagnosis({ classification: 'F60.2', description: 'x'.repeat(2001) }))).toMatchObject({ field: 'description' });
  });

  it('risk assessment: instrument and level from the recognised lists, at most 20 non-empty factors', () => {
    const valid = { instrument: 'HCR_20V3', outcomeLevel: 'MATIG', riskFactors: [' impulsiviteit '], protectiveFactors: [] };
    expect(validateRiskAssessment(valid)).toEqual({ instrument: 'HCR_20V3', outcomeLevel: 'MATIG', riskFactors: ['impulsiviteit'], protectiveFactors: [] });
    expect(codeOf(() => validateRiskAssessment({ ...valid, instrument: 'PCL_R' }))).toMatchObject({ field: 'instrument' });
    expect(codeOf(() => validateRiskAssessment({ ...valid, outcomeLevel: 'EXTREEM' }))).toMatchObject({ field: 'outcomeLevel' });
    expect(validateRiskAssessment({ ...valid, riskFactors: Array(MAX_FACTORS).fill('f') }).riskFactors).toHaveLength(20);
    expect(codeOf(() => validateRiskAssessment({ ...valid, riskFactors: Array(MAX_FACTORS + 1).fill('f') }))).toMatchObject({ field: 'riskFactors' });
    expect(codeOf(() => validateRiskAssessment({ ...valid, protectiveFactors: ['ok', '  '] }))).toMatchObject({ field: 'protectiveFactors[1]' });
    expect(codeOf(() => validateRiskAssessment({ ...valid, protectiveFactors: ['x'.repeat(201)] }))).toMatchObject({ field: 'protectiveFactors[0]' });
  });

  it('incident: severity from the list', () => {
    expect(validateIncident({ incidentType: 'ONTTREKKING', severity: 'ERNSTIG', description: 'Niet teruggekeerd.' }).severity).toBe('ERNSTIG');
    expect(codeOf(() => validateIncident({ incidentType: 'ONTTREKKING', severity: 'ZWAAR', description: 'x' }))).toMatchObject({ field: 'severity' });
  });

  it('leave: ends on or after it starts, not in the future', () => {
    expect(validateLeave({ occurredOn: day('2026-05-01'), leaveType: 'BEGELEID', endsOn: day('2026-05-01'), outcome: 'VOLTOOID' }, today)).toEqual({
      leaveType: 'BEGELEID',
      endsOn: '2026-05-01',
      outcome: 'VOLTOOID',
    });
    expect(
      codeOf(() => validateLeave({ occurredOn: day('2026-05-02'), leaveType: 'BEGELEID', endsOn: day('2026-05-01'), outcome: 'VOLTOOID' }, today)),
    ).toMatchObject({ field: 'endsOn' });
    expect(
      codeOf(() => validateLeave({ occurredOn: day('2026-05-02'), leaveType: 'BEGELEID', endsOn: day('2026-07-01'), outcome: 'VOLTOOID' }, today)),
    ).toMatchObject({ field: 'endsOn' });
    expect(
      codeOf(() => validateLeave({ occurredOn: day('2026-05-02'), leaveType: 'VRIJ', endsOn: day('2026-05-03'), outcome: 'VOLTOOID' }, today)),
    ).toMatchObject({ field: 'leaveType' });
  });

  it('treatment: an open end is allowed, a given end must follow the start', () => {
    expect(validateTreatment({ occurredOn: day('2026-01-01'), treatmentType: 'EMDR', endsOn: null, summary: 'Gestart.' }, today).endsOn).toBeNull();
    expect(validateTreatment({ occurredOn: day('2026-01-01'), treatmentType: 'EMDR', endsOn: day('2026-03-01'), summary: 'Afgerond.' }, today).endsOn).toBe(
      '2026-03-01',
    );
    expect(
      codeOf(() => validateTreatment({ occurredOn: day('2026-01-01'), treatmentType: 'EMDR', endsOn: day('2025-12-31'), summary: 'x' }, today)),
    ).toMatchObject({ field: 'endsOn' });
    expect(codeOf(() => validateTreatment({ occurredOn: day('2026-01-01'), treatmentType: 'EMDR', summary: '\n\t ' }, today))).toMatchObject({
      field: 'summary',
    });
  });

  it('messages never repeat what the user typed', () => {
    const secret = 'Jan de Vries sloeg zijn buurman';
    expect(codeOf(() => validateIncident({ incidentType: 'AGRESSIE_FYSIEK', severity: 'ERG', description: secret })).message).not.toMatch(/\bERG\b/);
    expect(codeOf(() => validateIncident({ incidentType: secret.repeat(10), severity: 'LICHT', description: 'x' })).message).not.toContain(secret);
    expect(codeOf(() => validateDiagnosis({ classification: secret, description: 'x' })).message).not.toContain(secret);
  });
});

describe('stored details', () => {
  it('are accepted when they fit their kind', () => {
    expect(parseDetails('LEAVE', { leaveType: 'TRANSMURAAL', endsOn: '2026-01-10', outcome: 'VOLTOOID' }).leaveType).toBe('TRANSMURAAL');
    expect(parseDetails('TREATMENT', { treatmentType: 'FACT', endsOn: null, summary: 's' }).endsOn).toBeNull();
  });

  it('are refused as corrupt when they do not', () => {
    expect(() => parseDetails('RISK_ASSESSMENT', { instrument: 'HCR_20V3', outcomeLevel: 'HOOG', riskFactors: [1], protectiveFactors: [] })).toThrow(
      CvDetailsError,
    );
    expect(() => parseDetails('OFFENCE', { offenceType: 'GEWELD', article: '302 Sr', committedOn: '1 jan', description: 'x' })).toThrow(CvDetailsError);
    expect(() => parseDetails('DIAGNOSIS', ['F60.2'])).toThrow(CvDetailsError);
    expect(() => parseDetails('INCIDENT', null)).toThrow(CvDetailsError);
  });
});

describe('versions', () => {
  const rows = [
    { id: 'a2', entryId: 'a', version: 2 },
    { id: 'b1', entryId: 'b', version: 1 },
    { id: 'a1', entryId: 'a', version: 1 },
    { id: 'a3', entryId: 'a', version: 3 },
  ];

  it('the current version is the highest per entry, order kept', () => {
    expect(currentVersions(rows).map((row) => row.id)).toEqual(['b1', 'a3']);
    expect(currentVersions([])).toEqual([]);
  });

  it('a correction continues the current version of the same kind and patient', () => {
    const target = { id: 'a3', entryId: 'a', version: 3, kind: 'INCIDENT' as const, patientId: 'p' };
    expect(nextVersionFor(target, { kind: 'INCIDENT', patientId: 'p' }, 3)).toBe(4);
    expect(codeOf(() => nextVersionFor(target, { kind: 'LEAVE', patientId: 'p' }, 3))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'corrects' });
    expect(codeOf(() => nextVersionFor(target, { kind: 'INCIDENT', patientId: 'q' }, 3))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'corrects' });
    expect(codeOf(() => nextVersionFor({ ...target, version: 2 }, { kind: 'INCIDENT', patientId: 'p' }, 3))).toMatchObject({ code: 'INVALID_TRANSITION' });
  });
});
