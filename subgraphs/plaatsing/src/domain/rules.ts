/**
 * Placement rules, free of storage: input checks, whether a placement fits the trajectory's
 * indication, and waiting times.
 */
import { badInput, domainError } from '@ketengraph/service-kit';
import { type CareType, isSecurityLevel } from '@ketengraph/domain';
import type { PlacementStatus } from './lifecycle.js';

export type { CareType };

const DAY = 86_400_000;

export function assertSecurityLevel(level: number, field = 'securityLevel'): void {
  if (!isSecurityLevel(level)) throw badInput('Security level must be 1 (lowest) to 5 (extra secured).', field);
}

export function assertReason(value: string, field = 'reason', maxLength = 500): string {
  const trimmed = value.trim();
  if (!trimmed) throw badInput(`${field} must not be empty.`, field);
  if (trimmed.length > maxLength) throw badInput(`${field} must be at most ${maxLength} characters.`, field);
  return trimmed;
}

/** Whole calendar days (UTC) since the epoch; waiting times count days, not hours. */
export function dayNumber(date: Date): number {
  return Math.floor(date.getTime() / DAY);
}

/** A recorded date of a step: not in the future and not before the step it follows. */
export function assertEffectiveDate(date: Date, notBefore: Date, field: string, today = new Date()): void {
  if (dayNumber(date) > dayNumber(today)) throw badInput(`${field} must not be in the future.`, field);
  if (dayNumber(date) < dayNumber(notBefore))
    throw badInput(`${field} must not be before ${notBefore.toISOString().slice(0, 10)}, the date of the previous step.`, field);
}

/** The trajectory as indicatiestelling reports it, reduced to what placement needs. */
export interface TrajectoryIndicationView {
  id: string;
  status: 'ACTIVE' | 'CLOSED';
  patientId: string;
  currentCareType: CareType;
  currentSecurityLevel: number;
  currentPhase: { minSecurityLevel: number; maxSecurityLevel: number; careTypes: CareType[] } | null;
}

/**
 * A placement fits when its care type and level lie within the current phase of the trajectory
 * indication; without a trajectory indication it must match the current indication exactly.
 */
export function fitsIndication(view: TrajectoryIndicationView, careType: CareType, securityLevel: number): boolean {
  const phase = view.currentPhase;
  if (phase) return phase.careTypes.includes(careType) && securityLevel >= phase.minSecurityLevel && securityLevel <= phase.maxSecurityLevel;
  return careType === view.currentCareType && securityLevel === view.currentSecurityLevel;
}

export function assertPlacementFits(view: TrajectoryIndicationView, patientId: string, careType: CareType, securityLevel: number): void {
  if (view.patientId !== patientId) throw badInput('patientId is not the patient of this trajectory.', 'patientId');
  if (view.status === 'CLOSED') throw domainError('INVALID_TRANSITION', 'No placement can be requested in a closed trajectory.', { status: view.status });
  if (fitsIndication(view, careType, securityLevel)) return;
  const phase = view.currentPhase;
  const allowed = phase
    ? `the current phase allows ${phase.careTypes.join('/')} at security level ${phase.minSecurityLevel}-${phase.maxSecurityLevel}`
    : `the indication is ${view.currentCareType} at security level ${view.currentSecurityLevel}`;
  throw domainError('INDICATION_MISMATCH', `${careType} at security level ${securityLevel} does not fit the indication: ${allowed}.`, {
    allowed: phase
      ? { careTypes: phase.careTypes, minSecurityLevel: phase.minSecurityLevel, maxSecurityLevel: phase.maxSecurityLevel }
      : { careTypes: [view.currentCareType], minSecurityLevel: view.currentSecurityLevel, maxSecurityLevel: view.currentSecurityLevel },
  });
}

/**
 * Days from request to admission; while still waiting, the days waited so far. A placement that
 * was declined or withdrawn before admission has no waiting time.
 */
export function waitingDays(placement: { status: PlacementStatus; requestedAt: Date; admittedAt: Date | null }, today = new Date()): number | null {
  if (placement.admittedAt) return dayNumber(placement.admittedAt) - dayNumber(placement.requestedAt);
  if (placement.status === 'DECLINED' || placement.status === 'WITHDRAWN') return null;
  return Math.max(0, dayNumber(today) - dayNumber(placement.requestedAt));
}

export interface WaitingTimeStatistics {
  count: number;
  averageDays: number | null;
  medianDays: number | null;
  p90Days: number | null;
}

/** Average, median and 90th percentile (nearest rank) of waiting times in days. */
export function waitingTimeStatistics(days: number[]): WaitingTimeStatistics {
  if (days.length === 0) return { count: 0, averageDays: null, medianDays: null, p90Days: null };
  const sorted = [...days].sort((a, b) => a - b);
  const n = sorted.length;
  const middle = Math.floor(n / 2);
  const median = n % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  const p90 = sorted[Math.ceil(0.9 * n) - 1]!;
  const average = sorted.reduce((sum, d) => sum + d, 0) / n;
  return { count: n, averageDays: Math.round(average * 100) / 100, medianDays: median, p90Days: p90 };
}

/** The window of admission dates [from, to] as a half-open instant range. */
export function admissionWindow(from: Date, to: Date): { gte: Date; lt: Date } {
  if (dayNumber(to) < dayNumber(from)) throw badInput('to must not be before from.', 'to');
  return { gte: new Date(dayNumber(from) * DAY), lt: new Date((dayNumber(to) + 1) * DAY) };
}
