/**
 * Indication rules, free of storage: what a valid patient, indication and phase look like, and
 * the heart of the trajectory-indication reform — scaling inside the phase bounds is a decision
 * the provider and probation may take; outside them a re-indication is required.
 */
import { type CareType, isSecurityLevel } from '@ketengraph/domain';
import { domainError, badInput } from '@ketengraph/service-kit';

export type { CareType };

export interface PhaseBounds {
  ordinal: number;
  minSecurityLevel: number;
  maxSecurityLevel: number;
  careTypes: CareType[];
}

export function assertSecurityLevel(level: number, field = 'securityLevel'): void {
  if (!isSecurityLevel(level)) throw badInput('Security level must be 1 (lowest) to 5 (extra secured).', field);
}

export function assertNotBlank(value: string, field: string, maxLength = 500): string {
  const trimmed = value.trim();
  if (!trimmed) throw badInput(`${field} must not be empty.`, field);
  if (trimmed.length > maxLength) throw badInput(`${field} must be at most ${maxLength} characters.`, field);
  return trimmed;
}

export function assertDateNotInFuture(date: Date, field: string, today = new Date()): void {
  if (date.getTime() > today.getTime()) throw badInput(`${field} must not be in the future.`, field);
}

export function assertValidity(validFrom: Date, validUntil: Date): void {
  if (validUntil.getTime() < validFrom.getTime()) throw badInput('validUntil must not be before validFrom.', 'validUntil');
}

export function assertPhases(phases: Omit<PhaseBounds, 'ordinal'>[]): void {
  if (phases.length === 0) throw badInput('A trajectory indication needs at least one phase.', 'phases');
  if (phases.length > 10) throw badInput('A trajectory indication has at most 10 phases.', 'phases');
  phases.forEach((phase, i) => {
    assertSecurityLevel(phase.minSecurityLevel, `phases[${i}].minSecurityLevel`);
    assertSecurityLevel(phase.maxSecurityLevel, `phases[${i}].maxSecurityLevel`);
    if (phase.maxSecurityLevel < phase.minSecurityLevel) throw badInput(`Phase ${i + 1}: the highest security level is below the lowest.`, `phases[${i}]`);
    if (phase.careTypes.length === 0) throw badInput(`Phase ${i + 1} must allow at least one care type.`, `phases[${i}].careTypes`);
  });
}

export function fitsPhase(phase: PhaseBounds, careType: CareType, securityLevel: number): boolean {
  return phase.careTypes.includes(careType) && securityLevel >= phase.minSecurityLevel && securityLevel <= phase.maxSecurityLevel;
}

/** Refuses a scaling decision outside the current phase's bounds. */
export function assertScalingWithinBounds(phase: PhaseBounds | null, careType: CareType, securityLevel: number): void {
  assertSecurityLevel(securityLevel);
  if (!phase) {
    throw domainError(
      'REINDICATION_REQUIRED',
      'This trajectory has no trajectory indication, so every change of care type or security level needs a new indication.',
    );
  }
  if (!fitsPhase(phase, careType, securityLevel)) {
    throw domainError(
      'REINDICATION_REQUIRED',
      `Phase ${phase.ordinal} allows ${phase.careTypes.join('/')} at security level ${phase.minSecurityLevel}-${phase.maxSecurityLevel}; ${careType} at level ${securityLevel} needs a re-indication.`,
      { phase: phase.ordinal, minSecurityLevel: phase.minSecurityLevel, maxSecurityLevel: phase.maxSecurityLevel, careTypes: phase.careTypes },
    );
  }
}
