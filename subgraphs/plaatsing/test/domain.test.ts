import { PLACEMENT_STATUSES } from '@ketengraph/domain';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { findTransition, isFinal, transition, TRANSITIONS, type PlacementStep } from '../src/domain/lifecycle.js';
import {
  admissionWindow,
  assertEffectiveDate,
  assertPlacementFits,
  fitsIndication,
  waitingDays,
  waitingTimeStatistics,
  type TrajectoryIndicationView,
} from '../src/domain/rules.js';

const code = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error instanceof GraphQLError ? error.extensions.code : error;
  }
  return 'no error';
};

describe('placement lifecycle', () => {
  const legal: [string, PlacementStep, string, string][] = [
    ['REQUESTED', 'startIntake', 'INTAKE', 'none'],
    ['INTAKE', 'accept', 'ACCEPTED', 'none'],
    ['INTAKE', 'decline', 'DECLINED', 'none'],
    ['ACCEPTED', 'decide', 'DECIDED', 'none'],
    ['DECIDED', 'admit', 'ADMITTED', 'claim'],
    ['ADMITTED', 'transfer', 'TRANSFERRED', 'release'],
    ['ADMITTED', 'end', 'ENDED', 'release'],
    ['REQUESTED', 'withdraw', 'WITHDRAWN', 'none'],
    ['INTAKE', 'withdraw', 'WITHDRAWN', 'none'],
    ['ACCEPTED', 'withdraw', 'WITHDRAWN', 'none'],
    ['DECIDED', 'withdraw', 'WITHDRAWN', 'none'],
  ];

  it.each(legal)('%s --%s--> %s (capacity: %s)', (from, step, to, capacity) => {
    expect(transition(from as never, step)).toEqual({ from, step, to, capacity });
  });

  it('has exactly these transitions', () => {
    expect(TRANSITIONS).toHaveLength(legal.length);
  });

  const illegal: [string, PlacementStep][] = [
    ['REQUESTED', 'accept'],
    ['REQUESTED', 'admit'],
    ['INTAKE', 'decide'],
    ['ACCEPTED', 'admit'],
    ['ACCEPTED', 'decline'],
    ['DECIDED', 'end'],
    ['ADMITTED', 'withdraw'],
    ['ADMITTED', 'admit'],
    ['DECLINED', 'startIntake'],
    ['ENDED', 'transfer'],
    ['TRANSFERRED', 'end'],
    ['WITHDRAWN', 'withdraw'],
  ];

  it.each(illegal)('refuses %s --%s--> with INVALID_TRANSITION naming status and step', (from, step) => {
    expect(findTransition(from as never, step)).toBeUndefined();
    try {
      transition(from as never, step);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GraphQLError);
      const e = error as GraphQLError;
      expect(e.extensions).toMatchObject({ code: 'INVALID_TRANSITION', status: from, step });
      expect(e.message).toContain(from);
    }
  });

  it('knows the final statuses', () => {
    expect(PLACEMENT_STATUSES.filter(isFinal)).toEqual(['DECLINED', 'TRANSFERRED', 'ENDED', 'WITHDRAWN']);
  });
});

describe('fit with the indication', () => {
  const view: TrajectoryIndicationView = {
    id: 't',
    status: 'ACTIVE',
    patientId: 'p',
    currentCareType: 'KLINISCH',
    currentSecurityLevel: 3,
    currentPhase: { minSecurityLevel: 2, maxSecurityLevel: 4, careTypes: ['KLINISCH', 'VERBLIJF'] },
  };

  it('uses the phase bounds when there is a current phase', () => {
    expect(fitsIndication(view, 'VERBLIJF', 2)).toBe(true);
    expect(fitsIndication(view, 'KLINISCH', 4)).toBe(true);
    expect(fitsIndication(view, 'KLINISCH', 5)).toBe(false);
    expect(fitsIndication(view, 'AMBULANT', 3)).toBe(false);
  });

  it('needs an exact match without a trajectory indication', () => {
    const plain = { ...view, currentPhase: null };
    expect(fitsIndication(plain, 'KLINISCH', 3)).toBe(true);
    expect(fitsIndication(plain, 'KLINISCH', 2)).toBe(false);
    expect(fitsIndication(plain, 'VERBLIJF', 3)).toBe(false);
  });

  it('refuses with the right codes', () => {
    expect(code(() => assertPlacementFits(view, 'p', 'KLINISCH', 3))).toBe('no error');
    expect(code(() => assertPlacementFits(view, 'other', 'KLINISCH', 3))).toBe('BAD_USER_INPUT');
    expect(code(() => assertPlacementFits({ ...view, status: 'CLOSED' }, 'p', 'KLINISCH', 3))).toBe('INVALID_TRANSITION');
    expect(code(() => assertPlacementFits(view, 'p', 'AMBULANT', 1))).toBe('INDICATION_MISMATCH');
  });
});

describe('waiting times', () => {
  const day = (s: string) => new Date(`${s}T00:00:00Z`);

  it('counts calendar days from request to admission', () => {
    expect(waitingDays({ status: 'ADMITTED', requestedAt: new Date('2026-01-01T15:30:00Z'), admittedAt: day('2026-01-11') })).toBe(10);
    expect(waitingDays({ status: 'ENDED', requestedAt: day('2026-01-01'), admittedAt: day('2026-01-01') })).toBe(0);
  });

  it('counts days waited so far while not admitted, and nothing after a decline or withdrawal', () => {
    const today = day('2026-03-01');
    expect(waitingDays({ status: 'DECIDED', requestedAt: day('2026-02-01'), admittedAt: null }, today)).toBe(28);
    expect(waitingDays({ status: 'DECLINED', requestedAt: day('2026-02-01'), admittedAt: null }, today)).toBeNull();
    expect(waitingDays({ status: 'WITHDRAWN', requestedAt: day('2026-02-01'), admittedAt: null }, today)).toBeNull();
  });

  it('computes average, median and 90th percentile', () => {
    expect(waitingTimeStatistics([])).toEqual({ count: 0, averageDays: null, medianDays: null, p90Days: null });
    expect(waitingTimeStatistics([10, 2, 4, 8])).toEqual({ count: 4, averageDays: 6, medianDays: 6, p90Days: 10 });
    expect(waitingTimeStatistics([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100])).toMatchObject({ count: 11, medianDays: 6, p90Days: 10 });
  });

  it('turns a date window into an inclusive range and refuses a reversed one', () => {
    expect(admissionWindow(day('2026-01-01'), day('2026-01-31'))).toEqual({ gte: day('2026-01-01'), lt: day('2026-02-01') });
    expect(code(() => admissionWindow(day('2026-02-01'), day('2026-01-31')))).toBe('BAD_USER_INPUT');
  });

  it('refuses effective dates in the future or before the previous step', () => {
    const today = day('2026-03-01');
    expect(code(() => assertEffectiveDate(day('2026-03-01'), new Date('2026-03-01T12:00:00Z'), 'admittedOn', today))).toBe('no error');
    expect(code(() => assertEffectiveDate(day('2026-03-02'), day('2026-01-01'), 'admittedOn', today))).toBe('BAD_USER_INPUT');
    expect(code(() => assertEffectiveDate(day('2025-12-31'), day('2026-01-01'), 'admittedOn', today))).toBe('BAD_USER_INPUT');
  });
});
