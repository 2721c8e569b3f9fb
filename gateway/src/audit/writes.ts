/**
 * Changes in the access log (NEN 7513). The subgraph that owns a change checks the write rules
 * and reports each step it was asked to take — step, patient, outcome — in its response's
 * extensions; the gateway takes those reports off the response (the client never sees them)
 * and writes one record per step: `create`/`update` as the rule says, the step's coordinate
 * delivered (granted) or withheld (denied, error), the categories it writes. A step no subgraph
 * reported (its subgraph did not answer) is recorded as an error without a patient.
 */
import { randomUUID } from 'node:crypto';
import { WRITE_RECORDS_EXTENSION, type AccessPolicy, type WriteRecord } from '@ketengraph/service-kit';
import type { GatewayContext } from '../admission/context.js';
import type { AuditRecordInput } from './chain.js';

const OUTCOMES = new Set(['granted', 'denied', 'error']);

function isWriteRecord(value: unknown): value is WriteRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.coordinate === 'string' &&
    /^Mutation\.\w{1,100}$/.test(record.coordinate) &&
    (record.patientId === null || (typeof record.patientId === 'string' && record.patientId.length > 0 && record.patientId.length <= 200)) &&
    typeof record.outcome === 'string' &&
    OUTCOMES.has(record.outcome)
  );
}

/** Takes a subgraph's write reports off its response and keeps them on the request's context. */
export function collectWriteRecords(response: { extensions?: Record<string, unknown> }, context: GatewayContext | Record<string, unknown>): void {
  const extensions = response.extensions;
  if (!extensions || !(WRITE_RECORDS_EXTENSION in extensions)) return;
  const reported = extensions[WRITE_RECORDS_EXTENSION];
  delete extensions[WRITE_RECORDS_EXTENSION];
  if (!Array.isArray(reported) || !('requestId' in context)) return;
  const gatewayContext = context as GatewayContext;
  (gatewayContext.writes ??= []).push(...reported.filter(isWriteRecord));
}

/**
 * One record per step: the reported ones, and an error for each root mutation field (by name)
 * whose subgraph reported nothing. `base` carries who, for whom and the request.
 */
export function writeAuditRecords(
  policy: AccessPolicy,
  reported: readonly WriteRecord[],
  rootMutationFields: readonly string[],
  base: Pick<AuditRecordInput, 'userId' | 'organisationId' | 'role' | 'purpose' | 'requestId' | 'operationName'>,
): AuditRecordInput[] {
  const unreported = new Map<string, number>();
  for (const field of rootMutationFields) unreported.set(`Mutation.${field}`, (unreported.get(`Mutation.${field}`) ?? 0) + 1);
  for (const record of reported) unreported.set(record.coordinate, (unreported.get(record.coordinate) ?? 0) - 1);
  const missing: WriteRecord[] = [...unreported].flatMap(([coordinate, count]) =>
    policy.writeRules[coordinate] ? Array.from({ length: Math.max(0, count) }, () => ({ coordinate, patientId: null, outcome: 'error' as const })) : [],
  );
  return [...reported, ...missing].map((record) => {
    const rule = policy.writeRules[record.coordinate];
    const categories = [...(rule?.categories ?? [])].sort();
    const granted = record.outcome === 'granted';
    return {
      eventId: randomUUID(),
      occurredAt: new Date(),
      action: rule?.action ?? 'update',
      patientId: record.patientId,
      ...base,
      fieldsDelivered: granted ? [record.coordinate] : [],
      categoriesDelivered: granted ? categories : [],
      fieldsWithheld: granted ? [] : [record.coordinate],
      categoriesWithheld: granted ? [] : categories,
      outcome: record.outcome,
    };
  });
}

/** What a step's result delivered for its patient joins that step's record; other reads keep their own. */
export function mergeStepReads(steps: AuditRecordInput[], reads: AuditRecordInput[]): AuditRecordInput[] {
  const byPatient = new Map(steps.filter((step) => step.patientId !== null).map((step) => [step.patientId, step]));
  const rest: AuditRecordInput[] = [];
  for (const read of reads) {
    const step = read.patientId === null ? undefined : byPatient.get(read.patientId);
    if (!step) {
      rest.push(read);
      continue;
    }
    const union = (a: string[], b: string[]) => [...new Set([...a, ...b])].sort();
    step.fieldsDelivered = union(step.fieldsDelivered, read.fieldsDelivered);
    step.categoriesDelivered = union(step.categoriesDelivered, read.categoriesDelivered);
    step.fieldsWithheld = union(step.fieldsWithheld, read.fieldsWithheld);
    step.categoriesWithheld = union(step.categoriesWithheld, read.categoriesWithheld);
  }
  return [...steps, ...rest];
}
