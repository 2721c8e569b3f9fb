/**
 * Warm handover (warme overdracht): how complete a handover was against the minimum content the
 * chain agreed on, and what a trajectory's handovers look like taken together. Free of storage.
 */
import { HANDOVER_ITEMS, type HandoverItem } from '@ketengraph/domain';
import { badInput } from '@ketengraph/service-kit';
import { assertId, startOfUtcDay } from './common.js';

export interface HandoverCompleteness {
  /** Items handed over, in the order of the minimum content list. */
  present: HandoverItem[];
  missing: HandoverItem[];
  /** Share of the minimum content present, 0 to 1. */
  completeness: number;
}

export function handoverCompleteness(items: readonly HandoverItem[]): HandoverCompleteness {
  const given = new Set(items);
  const present = HANDOVER_ITEMS.filter((item) => given.has(item));
  const missing = HANDOVER_ITEMS.filter((item) => !given.has(item));
  return { present, missing, completeness: present.length / HANDOVER_ITEMS.length };
}

export interface HandoverQualitySummary {
  handoverCount: number;
  averageCompleteness: number | null;
  lowestCompleteness: number | null;
  /** Items missing in the most handovers, all ties, in list order; empty when nothing was missing. */
  mostOftenMissing: HandoverItem[];
}

export function summariseHandovers(handovers: readonly (readonly HandoverItem[])[]): HandoverQualitySummary {
  if (handovers.length === 0) return { handoverCount: 0, averageCompleteness: null, lowestCompleteness: null, mostOftenMissing: [] };
  const missingCount = new Map<HandoverItem, number>();
  let sum = 0;
  let lowest = 1;
  for (const items of handovers) {
    const { missing, completeness } = handoverCompleteness(items);
    sum += completeness;
    lowest = Math.min(lowest, completeness);
    for (const item of missing) missingCount.set(item, (missingCount.get(item) ?? 0) + 1);
  }
  const most = Math.max(0, ...missingCount.values());
  return {
    handoverCount: handovers.length,
    averageCompleteness: sum / handovers.length,
    lowestCompleteness: lowest,
    mostOftenMissing: most === 0 ? [] : HANDOVER_ITEMS.filter((item) => missingCount.get(item) === most),
  };
}

export interface HandoverInput {
  trajectoryId: string;
  patientId: string;
  fromProviderId?: string | null;
  toProviderId: string;
  handedOverOn: Date;
  items: readonly HandoverItem[];
}

export interface ValidHandover {
  trajectoryId: string;
  patientId: string;
  fromProviderId: string | null;
  toProviderId: string;
  handedOverOn: Date;
  items: HandoverItem[];
}

/** Refuses a handover that cannot have happened as recorded. */
export function assertHandover(input: HandoverInput, now = new Date()): ValidHandover {
  const trajectoryId = assertId(input.trajectoryId, 'trajectoryId');
  const patientId = assertId(input.patientId, 'patientId');
  const toProviderId = assertId(input.toProviderId, 'toProviderId');
  const fromProviderId = input.fromProviderId?.trim() ? assertId(input.fromProviderId, 'fromProviderId') : null;
  if (fromProviderId === toProviderId) throw badInput('The provider handing over and the provider taking over must differ.', 'toProviderId');
  if (input.handedOverOn.getTime() > startOfUtcDay(now).getTime()) throw badInput('handedOverOn must not be in the future.', 'handedOverOn');
  const seen = new Set<HandoverItem>();
  for (const item of input.items) {
    if (seen.has(item)) throw badInput(`Handover item ${item} is listed more than once.`, 'items');
    seen.add(item);
  }
  return { trajectoryId, patientId, fromProviderId, toProviderId, handedOverOn: input.handedOverOn, items: handoverCompleteness(input.items).present };
}

/**
 * Which minimum-handover item a kind of forensic-CV entry stands for. The handover relay cannot
 * see the CV's content (kwaliteit never does); it learns only which kinds of entries the patient's
 * CV held at the transfer, and the receiving provider gets that CV with the patient. So an item
 * counts as handed over when the CV holds an entry of a kind that carries it: the score says what
 * the chain had on record to hand over, not that each entry was complete. Items no CV kind carries
 * (care needs, agreements, contacts, …) stay missing until a provider records them.
 */
export const CV_KIND_ITEMS: ReadonlyMap<string, HandoverItem> = new Map<string, HandoverItem>([
  ['OFFENCE', 'OFFENCE_INFORMATION'],
  ['DIAGNOSIS', 'DIAGNOSTIC_DATA'],
  ['RISK_ASSESSMENT', 'RISK_AND_PROTECTIVE_FACTORS'],
  ['INCIDENT', 'COURSE_OF_STAY'],
  ['LEAVE', 'COURSE_OF_STAY'],
  ['EARLY_WARNING_SIGN', 'EARLY_WARNING_SIGNS'],
  ['TREATMENT', 'GOALS_CONTINUED'],
]);

/**
 * The items of a relayed transfer's handover: the setting (the transfer itself establishes it)
 * and the items of the CV kinds present, in HANDOVER_ITEMS order, each once. An unknown kind is
 * refused, never dropped: a silently poorer handover would misstate the score.
 */
export function transferHandoverItems(cvKinds: readonly string[], field = 'cvKinds'): HandoverItem[] {
  const items = new Set<HandoverItem>(['SETTING']);
  for (const kind of cvKinds) {
    const item = CV_KIND_ITEMS.get(kind);
    if (!item) throw badInput(`Unknown forensic-CV entry kind; expected one of ${[...CV_KIND_ITEMS.keys()].join(', ')}.`, field);
    items.add(item);
  }
  return HANDOVER_ITEMS.filter((item) => items.has(item));
}
