import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  assertDateNotInFuture,
  assertNotBlank,
  assertPhases,
  assertScalingWithinBounds,
  assertSecurityLevel,
  assertValidity,
  fitsPhase,
  type PhaseBounds,
} from '../src/domain/rules.js';

/** Runs `fn` and returns the GraphQL error code it refused with, or null when it accepted. */
function refusal(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return String((error as GraphQLError).extensions.code);
  }
}

const resocialisatie: PhaseBounds = { ordinal: 2, minSecurityLevel: 2, maxSecurityLevel: 4, careTypes: ['KLINISCH', 'VERBLIJF'] };

describe('assertPhases', () => {
  const phase = { name: 'Klinisch', minSecurityLevel: 3, maxSecurityLevel: 4, careTypes: ['KLINISCH' as const] };

  it('accepts one to ten well-formed phases', () => {
    expect(refusal(() => assertPhases([phase]))).toBeNull();
    expect(refusal(() => assertPhases(Array.from({ length: 10 }, () => phase)))).toBeNull();
    expect(refusal(() => assertPhases([{ ...phase, minSecurityLevel: 2, maxSecurityLevel: 2 }]))).toBeNull();
  });

  it('refuses no phases and more than ten', () => {
    expect(refusal(() => assertPhases([]))).toBe('BAD_USER_INPUT');
    expect(refusal(() => assertPhases(Array.from({ length: 11 }, () => phase)))).toBe('BAD_USER_INPUT');
  });

  it('refuses a highest level below the lowest', () => {
    expect(refusal(() => assertPhases([phase, { ...phase, minSecurityLevel: 4, maxSecurityLevel: 3 }]))).toBe('BAD_USER_INPUT');
  });

  it('refuses levels outside 1..5 and non-integers', () => {
    expect(refusal(() => assertPhases([{ ...phase, minSecurityLevel: 0 }]))).toBe('BAD_USER_INPUT');
    expect(refusal(() => assertPhases([{ ...phase, maxSecurityLevel: 6 }]))).toBe('BAD_USER_INPUT');
    expect(refusal(() => assertPhases([{ ...phase, minSecurityLevel: 2.5 }]))).toBe('BAD_USER_INPUT');
  });

  it('refuses a phase without care types and names the field', () => {
    try {
      assertPhases([phase, { ...phase, careTypes: [] }]);
      expect.unreachable();
    } catch (error) {
      expect((error as GraphQLError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'phases[1].careTypes' });
    }
  });
});

describe('assertScalingWithinBounds', () => {
  it('accepts every care type and level inside the bounds, including both edges', () => {
    for (const careType of ['KLINISCH', 'VERBLIJF'] as const) {
      for (const level of [2, 3, 4]) expect(refusal(() => assertScalingWithinBounds(resocialisatie, careType, level))).toBeNull();
    }
  });

  it('requires a re-indication one level below the lowest', () => {
    expect(refusal(() => assertScalingWithinBounds(resocialisatie, 'KLINISCH', 1))).toBe('REINDICATION_REQUIRED');
  });

  it('requires a re-indication one level above the highest', () => {
    expect(refusal(() => assertScalingWithinBounds(resocialisatie, 'VERBLIJF', 5))).toBe('REINDICATION_REQUIRED');
  });

  it('requires a re-indication for a care type the phase does not allow, even at an allowed level', () => {
    expect(refusal(() => assertScalingWithinBounds(resocialisatie, 'AMBULANT', 3))).toBe('REINDICATION_REQUIRED');
  });

  it('tells the caller the bounds it ran into', () => {
    try {
      assertScalingWithinBounds(resocialisatie, 'KLINISCH', 5);
      expect.unreachable();
    } catch (error) {
      expect((error as GraphQLError).extensions).toMatchObject({ phase: 2, minSecurityLevel: 2, maxSecurityLevel: 4, careTypes: ['KLINISCH', 'VERBLIJF'] });
    }
  });

  it('requires a re-indication for any change when there is no trajectory indication', () => {
    expect(refusal(() => assertScalingWithinBounds(null, 'KLINISCH', 3))).toBe('REINDICATION_REQUIRED');
  });

  it('refuses a level that does not exist as bad input, not as a re-indication', () => {
    expect(refusal(() => assertScalingWithinBounds(resocialisatie, 'KLINISCH', 6))).toBe('BAD_USER_INPUT');
    expect(refusal(() => assertScalingWithinBounds(null, 'KLINISCH', 0))).toBe('BAD_USER_INPUT');
  });
});

describe('smaller rules', () => {
  it('fitsPhase checks care type and both bounds', () => {
    expect(fitsPhase(resocialisatie, 'VERBLIJF', 2)).toBe(true);
    expect(fitsPhase(resocialisatie, 'VERBLIJF', 1)).toBe(false);
    expect(fitsPhase(resocialisatie, 'KLINISCH', 5)).toBe(false);
    expect(fitsPhase(resocialisatie, 'AMBULANT', 3)).toBe(false);
  });

  it('assertSecurityLevel accepts 1..5 only', () => {
    expect([0, 1, 3, 5, 6, 1.5].map((level) => refusal(() => assertSecurityLevel(level)))).toEqual([
      'BAD_USER_INPUT',
      null,
      null,
      null,
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
    ]);
  });

  it('assertNotBlank trims and limits length', () => {
    expect(assertNotBlank('  NIFP  ', 'issuer')).toBe('NIFP');
    expect(refusal(() => assertNotBlank('   ', 'issuer'))).toBe('BAD_USER_INPUT');
    expect(refusal(() => assertNotBlank('x'.repeat(101), 'issuer', 100))).toBe('BAD_USER_INPUT');
  });

  it('assertDateNotInFuture allows today and refuses tomorrow', () => {
    const today = new Date('2026-11-22T12:00:00Z');
    expect(refusal(() => assertDateNotInFuture(new Date('2026-11-22T00:00:00Z'), 'birthDate', today))).toBeNull();
    expect(refusal(() => assertDateNotInFuture(new Date('2026-11-23T00:00:00Z'), 'birthDate', today))).toBe('BAD_USER_INPUT');
  });

  it('assertValidity refuses an end before the start', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    expect(refusal(() => assertValidity(from, from))).toBeNull();
    expect(refusal(() => assertValidity(from, new Date('2025-12-31T00:00:00Z')))).toBe('BAD_USER_INPUT');
  });
});
