/**
 * Kwaliteitskader Forensische Zorg: what a valid yearly quality report looks like, when it is due,
 * and how a year's pillar scores aggregate for oversight and policy. Free of storage.
 */
import { QUALITY_PILLARS, type QualityPillarCode } from '@ketengraph/domain';
import { badInput } from '@ketengraph/service-kit';
import { assertId, assertNotBlank } from './common.js';

export type QualityPillar = (typeof QUALITY_PILLARS)[number];

/** The framework is in force since 1 October 2022, so 2022 is the first year a report can cover. */
export const FIRST_REPORT_YEAR = 2022;
export const MATURITY_SCORES = [0, 1, 2, 3, 4] as const;
export const MAX_INDICATORS = 50;

export function pillarByNumber(number: number): QualityPillar {
  const pillar = QUALITY_PILLARS.find((p) => p.number === number);
  if (!pillar) throw new RangeError(`No quality pillar ${number}.`);
  return pillar;
}

/** A year asked about (reports are simply absent outside the framework's years); it must be a calendar year a date can hold. */
export function assertQueryYear(year: number): number {
  if (!Number.isInteger(year) || year < 1 || year > 9999) throw badInput('year must be a calendar year (1-9999).', 'year');
  return year;
}

/** A report over year Y is due on 31 May of Y + 1. */
export function reportDueOn(year: number): Date {
  return new Date(Date.UTC(year + 1, 4, 31));
}

export function isSubmittedOnTime(year: number, submittedOn: Date): boolean {
  return submittedOn.getTime() <= reportDueOn(year).getTime();
}

export interface QualityReportInput {
  providerId: string;
  year: number;
  forensicPatientCount: number;
  djiFundedShare: number;
  pillarScores: readonly { pillar: QualityPillarCode; maturity: number; explanation: string }[];
  indicators: readonly { code: string; name: string; value: number; unit: string; explanation: string }[];
}

export interface ValidQualityReport {
  providerId: string;
  year: number;
  forensicPatientCount: number;
  djiFundedShare: number;
  pillarScores: { pillar: number; maturity: number; explanation: string }[];
  indicators: { code: string; name: string; value: number; unit: string; explanation: string }[];
}

export function assertQualityReport(input: QualityReportInput, now = new Date()): ValidQualityReport {
  const providerId = assertId(input.providerId, 'providerId');
  if (!Number.isInteger(input.year) || input.year < FIRST_REPORT_YEAR) {
    throw badInput(`year must be ${FIRST_REPORT_YEAR} or later: the quality framework is in force since 1 October 2022.`, 'year');
  }
  if (input.year > now.getUTCFullYear()) throw badInput('year must not be in the future.', 'year');
  if (!Number.isInteger(input.forensicPatientCount) || input.forensicPatientCount < 0) {
    throw badInput('forensicPatientCount must be 0 or more.', 'forensicPatientCount');
  }
  if (!Number.isFinite(input.djiFundedShare) || input.djiFundedShare < 0 || input.djiFundedShare > 1) {
    throw badInput('djiFundedShare must be a share between 0 and 1.', 'djiFundedShare');
  }

  const byCode = new Map<string, number>(QUALITY_PILLARS.map((p) => [p.code, p.number]));
  const seen = new Set<number>();
  const pillarScores = input.pillarScores.map((score, i) => {
    const number = byCode.get(score.pillar);
    if (number === undefined) throw badInput(`pillarScores[${i}] names no known pillar.`, `pillarScores[${i}].pillar`);
    if (seen.has(number)) throw badInput(`Pillar ${score.pillar} is scored more than once; score each pillar exactly once.`, `pillarScores[${i}].pillar`);
    seen.add(number);
    if (!Number.isInteger(score.maturity) || score.maturity < 0 || score.maturity > 4) {
      throw badInput('Maturity must be 0 to 4 (plan-do-check-act).', `pillarScores[${i}].maturity`);
    }
    return { pillar: number, maturity: score.maturity, explanation: assertNotBlank(score.explanation, `pillarScores[${i}].explanation`, 4000) };
  });
  const absent = QUALITY_PILLARS.filter((p) => !seen.has(p.number)).map((p) => p.code);
  if (absent.length) throw badInput(`Every pillar must be scored exactly once; missing: ${absent.join(', ')}.`, 'pillarScores');
  pillarScores.sort((a, b) => a.pillar - b.pillar);

  if (input.indicators.length > MAX_INDICATORS) throw badInput(`A report has at most ${MAX_INDICATORS} indicators.`, 'indicators');
  const codes = new Set<string>();
  const indicators = input.indicators.map((indicator, i) => {
    const code = assertNotBlank(indicator.code, `indicators[${i}].code`, 64);
    if (codes.has(code)) throw badInput(`indicators[${i}].code repeats an earlier indicator's code.`, `indicators[${i}].code`);
    codes.add(code);
    if (!Number.isFinite(indicator.value)) throw badInput(`indicators[${i}].value must be a finite number.`, `indicators[${i}].value`);
    return {
      code,
      name: assertNotBlank(indicator.name, `indicators[${i}].name`, 200),
      value: indicator.value,
      unit: assertNotBlank(indicator.unit, `indicators[${i}].unit`, 50),
      explanation: assertNotBlank(indicator.explanation, `indicators[${i}].explanation`, 4000),
    };
  });

  return { providerId, year: input.year, forensicPatientCount: input.forensicPatientCount, djiFundedShare: input.djiFundedShare, pillarScores, indicators };
}

export interface MaturityGroup {
  pillar: number;
  maturity: number;
  count: number;
}

export interface PillarOverview {
  pillar: QualityPillar;
  averageMaturity: number | null;
  distribution: { maturity: number; count: number }[];
}

/** Per pillar: the count of each maturity score and the average, from counts grouped in SQL. */
export function summarisePillars(groups: readonly MaturityGroup[]): PillarOverview[] {
  return QUALITY_PILLARS.map((pillar) => {
    const distribution = MATURITY_SCORES.map((maturity) => ({
      maturity,
      count: groups.filter((g) => g.pillar === pillar.number && g.maturity === maturity).reduce((sum, g) => sum + g.count, 0),
    }));
    const total = distribution.reduce((sum, d) => sum + d.count, 0);
    const weighted = distribution.reduce((sum, d) => sum + d.maturity * d.count, 0);
    return { pillar, averageMaturity: total === 0 ? null : weighted / total, distribution };
  });
}

export function onTimeShare(reportCount: number, onTimeCount: number): number | null {
  return reportCount === 0 ? null : onTimeCount / reportCount;
}
