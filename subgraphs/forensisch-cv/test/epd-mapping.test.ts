import { describe, expect, it } from 'vitest';
import { mapResource, resourceTypesFor } from '../src/epd/mapping.js';
import { adverseEvent, condition, episodeOfCare, flag, patient, riskAssessment } from './fixtures/fhir.js';

const mapped = (resource: unknown) => {
  const result = mapResource(resource);
  if (result.outcome !== 'mapped') throw new Error(`expected a mapping, got ${result.reason}`);
  return result;
};
const reasonOf = (resource: unknown) => {
  const result = mapResource(resource);
  return result.outcome === 'unmapped' ? result.reason : null;
};

const reasonOf2 = (resource: unknown, patientIds: string[]) => {
  const result = mapResource(resource, patientIds);
  return result.outcome === 'unmapped' ? result.reason : null;
};

describe('FHIR R4 → CV entry mapping', () => {
  it('RiskAssessment: instrument from method, the highest qualitativeRisk, factors from basis and notes, provenance from meta', () => {
    const result = mapped(riskAssessment('p1'));
    expect(result.kind).toBe('RISK_ASSESSMENT');
    expect(result.occurredOn.toISOString().slice(0, 10)).toBe('2026-01-28');
    expect(result.details).toEqual({
      instrument: 'HCR_20V3',
      outcomeLevel: 'HOOG',
      riskFactors: ['middelengebruik', 'impulsiviteit', 'gebrek aan probleeminzicht'],
      protectiveFactors: ['steunend netwerk', 'dagbesteding'],
    });
    expect(result.provenance).toEqual({ resourceType: 'RiskAssessment', resourceId: 'ra-1', versionId: '1', lastUpdated: new Date('2026-02-01T10:00:00Z') });
  });

  it('RiskAssessment: every recognised instrument by its usual spellings, from method or code', () => {
    const cases: [string, string][] = [
      ['HCR-20V3', 'HCR_20V3'],
      ['HKT-R', 'HKT_R'],
      ['FAM', 'FAM'],
      ['FARE', 'FARE'],
      ['B-SAFER', 'B_SAFER'],
      ['SRP', 'SRP'],
      ['Static-99R', 'STATIC_99R'],
      ['Stable-2007', 'STABLE_2007'],
      ['Acute 2007', 'ACUTE_2007'],
      ['SAPROF', 'SAPROF'],
    ];
    for (const [text, instrument] of cases) {
      expect(mapped(riskAssessment('p1', { method: { text } })).details).toMatchObject({ instrument });
      expect(mapped(riskAssessment('p1', { method: undefined, code: { coding: [{ code: text.toLowerCase() }] } })).details).toMatchObject({ instrument });
    }
    expect(reasonOf(riskAssessment('p1', { method: { text: 'VRAG-R' }, code: undefined }))).toBe('UNKNOWN_INSTRUMENT');
  });

  it('RiskAssessment: levels from FHIR risk-probability codes and Dutch words; without one it is unmapped', () => {
    const level = (code: string) =>
      (mapped(riskAssessment('p1', { prediction: [{ qualitativeRisk: { coding: [{ code }] } }] })).details as { outcomeLevel: string }).outcomeLevel;
    expect([level('negligible'), level('low'), level('moderate'), level('high'), level('certain'), level('zeer hoog')]).toEqual([
      'LAAG',
      'LAAG',
      'MATIG',
      'HOOG',
      'ZEER_HOOG',
      'ZEER_HOOG',
    ]);
    expect(reasonOf(riskAssessment('p1', { prediction: [{ probabilityDecimal: 0.4 }] }))).toBe('NO_RISK_LEVEL');
    expect(reasonOf(riskAssessment('p1', { occurrenceDateTime: undefined }))).toBe('NO_DATE');
    expect(reasonOf(riskAssessment('p1', { status: 'entered-in-error' }))).toBe('ENTERED_IN_ERROR');
  });

  it('Condition (encounter-diagnosis or problem-list-item) → diagnosis with its ICD-10 code', () => {
    const result = mapped(condition('p1'));
    expect(result).toMatchObject({ kind: 'DIAGNOSIS', details: { classification: 'F60.2', description: 'Antisociale persoonlijkheidsstoornis' } });
    expect(result.occurredOn.toISOString().slice(0, 10)).toBe('2025-11-03');
    const problemList = condition('p1', {
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
    });
    expect(mapped(problemList).kind).toBe('DIAGNOSIS');
    // A health concern is not a diagnosis; a SNOMED code alone is not a classification the CV takes.
    expect(
      reasonOf(condition('p1', { category: [{ coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/condition-category', code: 'health-concern' }] }] })),
    ).toBe('NOT_A_DIAGNOSIS');
    expect(reasonOf(condition('p1', { code: { coding: [{ system: 'http://snomed.info/sct', code: '21831000' }], text: 'ASPS' } }))).toBe('NO_CLASSIFICATION');
    expect(reasonOf(condition('p1', { verificationStatus: { coding: [{ code: 'refuted' }] } }))).toBe('NOT_A_DIAGNOSIS');
    expect(reasonOf(condition('p1', { verificationStatus: { coding: [{ code: 'entered-in-error' }] } }))).toBe('ENTERED_IN_ERROR');
  });

  it('Flag → early-warning sign', () => {
    const result = mapped(flag('p1'));
    expect(result).toMatchObject({
      kind: 'EARLY_WARNING_SIGN',
      details: { signal: 'Trekt zich terug op kamer, slaapt slecht', signalCode: 'SP-04', active: true, endsOn: null },
    });
    expect(mapped(flag('p1', { status: 'inactive', period: { start: '2026-01-01', end: '2026-01-20' } })).details).toMatchObject({
      active: false,
      endsOn: '2026-01-20',
    });
    expect(reasonOf(flag('p1', { period: undefined }))).toBe('NO_DATE');
  });

  it('AdverseEvent → incident with severity; a near miss (potential) is not an incident', () => {
    const result = mapped(adverseEvent('p1'));
    expect(result).toMatchObject({
      kind: 'INCIDENT',
      details: { incidentType: 'AGRESSIE_FYSIEK', severity: 'MATIG', description: 'Sloeg medepatiënt tijdens avondeten' },
    });
    expect(result.occurredOn.toISOString().slice(0, 10)).toBe('2026-02-12');
    expect(reasonOf(adverseEvent('p1', { actuality: 'potential' }))).toBe('POTENTIAL_EVENT');
    expect(reasonOf(adverseEvent('p1', { severity: undefined }))).toBe('NO_SEVERITY');
  });

  it('EpisodeOfCare → treatment history', () => {
    expect(mapped(episodeOfCare('p1'))).toMatchObject({
      kind: 'TREATMENT',
      details: { treatmentType: 'SCHEMATHERAPIE', endsOn: null, summary: 'Schematherapie, status active, bij FPC De Kijvelanden' },
    });
    expect(mapped(episodeOfCare('p1', { status: 'finished', period: { start: '2025-03-01', end: '2025-12-01' } })).details).toMatchObject({
      endsOn: '2025-12-01',
    });
    expect(reasonOf(episodeOfCare('p1', { status: 'cancelled' }))).toBe('ENTERED_IN_ERROR');
  });

  it('anything else is unmapped with a reason, never dropped: other types, no id, no version, garbage, wrong shapes', () => {
    expect(reasonOf(patient('p1', '999999990'))).toBe('UNSUPPORTED_RESOURCE_TYPE');
    expect(reasonOf({ ...condition('p1'), id: undefined })).toBe('NO_ID');
    expect(reasonOf({ ...condition('p1'), meta: undefined })).toBe('NO_VERSION');
    expect(reasonOf('garbage')).toBe('NOT_AN_OBJECT');
    expect(reasonOf(null)).toBe('NOT_AN_OBJECT');
    expect(reasonOf({ ...riskAssessment('p1'), basis: 'not a list' })).toBe('MALFORMED');
    // Only lastUpdated, no versionId: still versioned.
    expect(mapResource({ ...flag('p1'), meta: { lastUpdated: '2026-02-10T07:00:00Z' } }).outcome).toBe('mapped');
  });

  it('a resource about another patient than the one searched for is never mapped (OTHER_PATIENT)', () => {
    expect(mapResource(flag('p1'), ['p1']).outcome).toBe('mapped');
    expect(mapResource(flag('p1', { subject: { reference: 'https://epd.example.org/fhir/Patient/p1' } }), ['p1']).outcome).toBe('mapped');
    expect(mapResource(episodeOfCare('p1'), ['p1', 'p1-duplicate']).outcome).toBe('mapped');
    expect(reasonOf2(flag('p2'), ['p1'])).toBe('OTHER_PATIENT');
    expect(reasonOf2(flag('p1', { subject: { reference: 'Group/p1' } }), ['p1'])).toBe('OTHER_PATIENT');
    expect(reasonOf2({ ...adverseEvent('p1'), subject: undefined }, ['p1'])).toBe('OTHER_PATIENT');
  });

  it('long texts are clipped to what the CV holds', () => {
    const long = 'x'.repeat(5000);
    expect((mapped(flag('p1', { code: { text: long } })).details as { signal: string }).signal).toHaveLength(2000);
    const factors = Array.from({ length: 30 }, (_, i) => ({ display: `factor ${i}` }));
    expect((mapped(riskAssessment('p1', { basis: factors, note: [] })).details as { riskFactors: string[] }).riskFactors).toHaveLength(20);
  });

  it('resource types follow the kinds a caller reads', () => {
    expect(resourceTypesFor(['RISK_ASSESSMENT', 'INCIDENT'])).toEqual(['RiskAssessment', 'AdverseEvent']);
    expect(resourceTypesFor(['OFFENCE', 'LEAVE'])).toEqual([]);
  });
});
