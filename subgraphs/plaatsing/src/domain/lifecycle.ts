/**
 * The placement lifecycle as one transition table: every step a caller can take, from which
 * status, to which status, and what it does to the provider's capacity. Nothing else in the
 * subgraph decides whether a step is allowed.
 */
import { domainError } from '@ketengraph/service-kit';
import type { PlacementStatus } from '@ketengraph/domain';

export type { PlacementStatus };

export type PlacementStep = 'startIntake' | 'accept' | 'decline' | 'decide' | 'admit' | 'transfer' | 'end' | 'withdraw';

/** What a step does to capacity: claim a place at admission, free it when the stay ends here. */
export type CapacityEffect = 'none' | 'claim' | 'release';

export interface Transition {
  from: PlacementStatus;
  step: PlacementStep;
  to: PlacementStatus;
  capacity: CapacityEffect;
}

export const TRANSITIONS: readonly Transition[] = [
  { from: 'REQUESTED', step: 'startIntake', to: 'INTAKE', capacity: 'none' },
  { from: 'INTAKE', step: 'accept', to: 'ACCEPTED', capacity: 'none' },
  { from: 'INTAKE', step: 'decline', to: 'DECLINED', capacity: 'none' },
  { from: 'ACCEPTED', step: 'decide', to: 'DECIDED', capacity: 'none' },
  { from: 'DECIDED', step: 'admit', to: 'ADMITTED', capacity: 'claim' },
  // The transferred placement frees its place; the new placement at the target claims one there.
  { from: 'ADMITTED', step: 'transfer', to: 'TRANSFERRED', capacity: 'release' },
  { from: 'ADMITTED', step: 'end', to: 'ENDED', capacity: 'release' },
  { from: 'REQUESTED', step: 'withdraw', to: 'WITHDRAWN', capacity: 'none' },
  { from: 'INTAKE', step: 'withdraw', to: 'WITHDRAWN', capacity: 'none' },
  { from: 'ACCEPTED', step: 'withdraw', to: 'WITHDRAWN', capacity: 'none' },
  { from: 'DECIDED', step: 'withdraw', to: 'WITHDRAWN', capacity: 'none' },
];

/** Status of a placement when it comes into being: by request, or as the continuation of a transfer. */
export const INITIAL_STATUS = { request: 'REQUESTED', transfer: 'ADMITTED' } as const satisfies Record<string, PlacementStatus>;

const STEP_NAMES: Record<PlacementStep, string> = {
  startIntake: 'start the intake',
  accept: 'accept',
  decline: 'decline',
  decide: 'decide the placement',
  admit: 'admit',
  transfer: 'transfer',
  end: 'end',
  withdraw: 'withdraw',
};

const byKey = new Map(TRANSITIONS.map((t) => [`${t.from}:${t.step}`, t]));

export function findTransition(from: PlacementStatus, step: PlacementStep): Transition | undefined {
  return byKey.get(`${from}:${step}`);
}

/** The transition for `step` from `from`, or INVALID_TRANSITION naming both. */
export function transition(from: PlacementStatus, step: PlacementStep): Transition {
  const found = findTransition(from, step);
  if (!found) {
    const allowed = TRANSITIONS.filter((t) => t.from === from).map((t) => STEP_NAMES[t.step]);
    throw domainError(
      'INVALID_TRANSITION',
      `A placement that is ${from} cannot ${STEP_NAMES[step]}${allowed.length ? `; allowed: ${allowed.join(', ')}` : '; it is final'}.`,
      { status: from, step },
    );
  }
  return found;
}

/** Statuses in which the placement holds a place at its provider. */
export function holdsPlace(status: PlacementStatus): boolean {
  return status === 'ADMITTED';
}

/** Statuses after which nothing can happen to the placement any more. */
export function isFinal(status: PlacementStatus): boolean {
  return !TRANSITIONS.some((t) => t.from === status);
}
