import { HANDOVER_ITEMS, QUALITY_PILLARS, type HandoverItem } from '@ketengraph/domain';
import type { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { assertHandover, handoverCompleteness, summariseHandovers, transferHandoverItems, type HandoverInput } from '../src/domain/handover.js';
import { assertQualityReport, isSubmittedOnTime, onTimeShare, reportDueOn, summarisePillars, type QualityReportInput } from '../src/domain/quality.js';

const NOW = new Date('2026-11-23T10:00:00Z');

function refusal(run: () => unknown): { code: unknown; field: unknown; message: string } {
  try {
    run();
  } catch (error) {
    const e = error as GraphQLError;
    return { code: e.extensions?.code, field: e.extensions?.field, message: e.message };
  }
  throw new Error('expected a refusal');
}

describe('handoverCompleteness', () => {
  it('is 1 for the full minimum content and 0 for none', () => {
    expect(handoverCompleteness(HANDOVER_ITEMS)).toEqual({ present: [...HANDOVER_ITEMS], missing: [], completeness: 1 });
    expect(handoverCompleteness([])).toEqual({ present: [], missing: [...HANDOVER_ITEMS], completeness: 0 });
  });

  it('counts the share present and lists what is missing in list order', () => {
    const result = handoverCompleteness(['RECOVERY_GOALS', 'SETTING', 'OFFENCE_INFORMATION']);
    expect(result.completeness).toBeCloseTo(3 / 12);
    expect(result.present).toEqual(['SETTING', 'OFFENCE_INFORMATION', 'RECOVERY_GOALS']);
    expect(result.missing).toHaveLength(9);
    expect(result.missing).not.toContain('SETTING');
    expect([...result.present, ...result.missing].sort()).toEqual([...HANDOVER_ITEMS].sort());
  });
});

describe('summariseHandovers', () => {
  it('has no averages and nothing missing without handovers', () => {
    expect(summariseHandovers([])).toEqual({ handoverCount: 0, averageCompleteness: null, lowestCompleteness: null, mostOftenMissing: [] });
  });

  it('averages completeness, finds the lowest and the items missing most often (ties included)', () => {
    const all = [...HANDOVER_ITEMS];
    const withoutWishes = all.filter((i) => i !== 'PATIENT_WISHES');
    const withoutWishesAndRisk = withoutWishes.filter((i) => i !== 'RISK_AND_PROTECTIVE_FACTORS' && i !== 'SETTING');
    const summary = summariseHandovers([all, withoutWishes, withoutWishesAndRisk]);
    expect(summary.handoverCount).toBe(3);
    expect(summary.averageCompleteness).toBeCloseTo((12 + 11 + 9) / 36);
    expect(summary.lowestCompleteness).toBeCloseTo(9 / 12);
    expect(summary.mostOftenMissing).toEqual(['PATIENT_WISHES']);
    expect(summariseHandovers([['SETTING'], ['POPULATION']]).mostOftenMissing).toEqual(all.filter((i) => i !== 'SETTING' && i !== 'POPULATION'));
  });

  it('reports nothing missing when every handover was complete', () => {
    expect(summariseHandovers([HANDOVER_ITEMS, HANDOVER_ITEMS]).mostOftenMissing).toEqual([]);
  });
});

describe('transferHandoverItems', () => {
  it('is the setting alone when the CV holds nothing', () => {
    expect(transferHandoverItems([])).toEqual(['SETTING']);
  });

  it('maps every CV kind to its item, once each, in the minimum content order', () => {
    expect(transferHandoverItems(['TREATMENT', 'LEAVE', 'INCIDENT', 'OFFENCE', 'DIAGNOSIS', 'RISK_ASSESSMENT', 'EARLY_WARNING_SIGN', 'OFFENCE'])).toEqual([
      'SETTING',
      'OFFENCE_INFORMATION',
      'COURSE_OF_STAY',
      'EARLY_WARNING_SIGNS',
      'DIAGNOSTIC_DATA',
      'RISK_AND_PROTECTIVE_FACTORS',
      'GOALS_CONTINUED',
    ]);
    expect(handoverCompleteness(transferHandoverItems(['LEAVE', 'INCIDENT'])).completeness).toBe(2 / 12);
  });

  it('refuses an unknown kind instead of dropping it', () => {
    expect(() => transferHandoverItems(['OFFENCE', 'GOSSIP'], 'transfers.0.cvKinds')).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    );
  });
});

describe('assertHandover', () => {
  const valid: HandoverInput = {
    trajectoryId: 't1',
    patientId: 'p1',
    fromProviderId: 'a',
    toProviderId: 'b',
    handedOverOn: new Date('2026-11-23T00:00:00Z'),
    items: ['RECOVERY_GOALS', 'SETTING'],
  };

  it('accepts a handover of today and orders its items', () => {
    expect(assertHandover(valid, NOW)).toEqual({ ...valid, items: ['SETTING', 'RECOVERY_GOALS'] });
  });

  it('treats a missing or blank handing-over provider as the start of care', () => {
    expect(assertHandover({ ...valid, fromProviderId: null }, NOW).fromProviderId).toBeNull();
    expect(assertHandover({ ...valid, fromProviderId: '  ' }, NOW).fromProviderId).toBeNull();
  });

  it.each<[string, Partial<HandoverInput>, string]>([
    ['duplicate items', { items: ['SETTING', 'POPULATION', 'SETTING'] as HandoverItem[] }, 'items'],
    ['a date in the future', { handedOverOn: new Date('2026-11-24T00:00:00Z') }, 'handedOverOn'],
    ['the same provider on both sides', { fromProviderId: 'b' }, 'toProviderId'],
    ['a blank trajectory id', { trajectoryId: ' ' }, 'trajectoryId'],
    ['a blank patient id', { patientId: '' }, 'patientId'],
  ])('refuses %s', (_, change, field) => {
    expect(refusal(() => assertHandover({ ...valid, ...change }, NOW))).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});

describe('quality reports', () => {
  const valid: QualityReportInput = {
    providerId: 'prov-1',
    year: 2025,
    forensicPatientCount: 120,
    djiFundedShare: 0.8,
    pillarScores: QUALITY_PILLARS.map((p) => ({ pillar: p.code, maturity: p.number - 1, explanation: `Toelichting ${p.number}` })).reverse(),
    indicators: [{ code: 'SEPARATIES', name: 'Separaties', value: 1.2, unit: 'per 1000 dagen', explanation: 'Geregistreerd.' }],
  };

  it('accepts a complete report and numbers its pillars in order', () => {
    const report = assertQualityReport(valid, NOW);
    expect(report.pillarScores.map((s) => [s.pillar, s.maturity])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 3],
      [5, 4],
    ]);
    expect(report.indicators).toEqual(valid.indicators);
  });

  it('accepts the boundaries: 2022, the current year, share 0 and 1, no patients, no indicators', () => {
    expect(() => assertQualityReport({ ...valid, year: 2022, djiFundedShare: 0, forensicPatientCount: 0, indicators: [] }, NOW)).not.toThrow();
    expect(() => assertQualityReport({ ...valid, year: 2026, djiFundedShare: 1 }, NOW)).not.toThrow();
  });

  it.each<[string, Partial<QualityReportInput>, string]>([
    ['a year before the framework', { year: 2021 }, 'year'],
    ['a year in the future', { year: 2027 }, 'year'],
    ['a negative patient count', { forensicPatientCount: -1 }, 'forensicPatientCount'],
    ['a share above 1', { djiFundedShare: 1.01 }, 'djiFundedShare'],
    ['a negative share', { djiFundedShare: -0.1 }, 'djiFundedShare'],
    ['a missing pillar', { pillarScores: valid.pillarScores.slice(1) }, 'pillarScores'],
    ['a pillar scored twice', { pillarScores: [...valid.pillarScores, valid.pillarScores[0]!] }, 'pillarScores[5].pillar'],
    ['a maturity above 4', { pillarScores: valid.pillarScores.map((s, i) => (i === 2 ? { ...s, maturity: 5 } : s)) }, 'pillarScores[2].maturity'],
    ['a negative maturity', { pillarScores: valid.pillarScores.map((s, i) => (i === 0 ? { ...s, maturity: -1 } : s)) }, 'pillarScores[0].maturity'],
    ['a blank explanation', { pillarScores: valid.pillarScores.map((s, i) => (i === 1 ? { ...s, explanation: ' ' } : s)) }, 'pillarScores[1].explanation'],
    ['a repeated indicator code', { indicators: [valid.indicators[0]!, { ...valid.indicators[0]!, code: ' SEPARATIES ' }] }, 'indicators[1].code'],
    ['a blank provider', { providerId: '' }, 'providerId'],
  ])('refuses %s', (_, change, field) => {
    expect(refusal(() => assertQualityReport({ ...valid, ...change }, NOW))).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('never echoes typed text in a refusal', () => {
    const secret = 'Jan de Vries 123456782';
    const { message } = refusal(() =>
      assertQualityReport(
        {
          ...valid,
          indicators: [
            { ...valid.indicators[0]!, code: secret },
            { ...valid.indicators[0]!, code: secret },
          ],
        },
        NOW,
      ),
    );
    expect(message).not.toContain('Jan');
  });

  it('is due on 31 May of the next year; on that day is still on time', () => {
    expect(reportDueOn(2024).toISOString()).toBe('2025-05-31T00:00:00.000Z');
    expect(isSubmittedOnTime(2024, new Date('2025-05-31T00:00:00Z'))).toBe(true);
    expect(isSubmittedOnTime(2024, new Date('2025-06-01T00:00:00Z'))).toBe(false);
  });

  it('summarises maturity counts per pillar into averages and a full 0-4 distribution', () => {
    const overview = summarisePillars([
      { pillar: 1, maturity: 0, count: 1 },
      { pillar: 1, maturity: 4, count: 3 },
      { pillar: 3, maturity: 2, count: 5 },
    ]);
    expect(overview.map((p) => p.pillar.number)).toEqual([1, 2, 3, 4, 5]);
    expect(overview[0]!.averageMaturity).toBe(3);
    expect(overview[0]!.distribution).toEqual([
      { maturity: 0, count: 1 },
      { maturity: 1, count: 0 },
      { maturity: 2, count: 0 },
      { maturity: 3, count: 0 },
      { maturity: 4, count: 3 },
    ]);
    expect(overview[1]!.averageMaturity).toBeNull();
    expect(overview[2]!.averageMaturity).toBe(2);
    expect(onTimeShare(0, 0)).toBeNull();
    expect(onTimeShare(4, 3)).toBe(0.75);
  });
});
